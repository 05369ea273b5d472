using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>Garbage, oversized and hostile beacons get a clear 4xx (problem details), never a 500, and are counted.</summary>
public sealed class IngestValidationTests : IClassFixture<WebAnalyticsFactoryFixture>
{
    private readonly WebAnalyticsFactory _factory;

    public IngestValidationTests(WebAnalyticsFactoryFixture fixture) => _factory = fixture.Factory;

    public static TheoryData<string, string> BadBatches => new()
    {
        { "not json at all", "body" },
        { "{\"events\": [", "body" },
        { "{\"events\": \"x\"}", "body" },
        { "42", "body" },
        { "[]", "events" },
        { "{\"events\": []}", "events" },
        { "[1, 2]", "events[0]" },
        { "[{\"page\": \"/a\"}]", "events[0].visitorId" },
        { "[{\"visitorId\": \"v1\"}]", "events[0].page" },
        { "[{\"page\": \"\", \"visitorId\": \"v1\"}]", "events[0].page" },
        { "[{\"page\": \"no-slash\", \"visitorId\": \"v1\"}]", "events[0].page" },
        { "[{\"page\": \"javascript:alert(1)\", \"visitorId\": \"v1\"}]", "events[0].page" },
        { "[{\"page\": 5, \"visitorId\": \"v1\"}]", "events[0].page" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v 1\"}]", "events[0].visitorId" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"loadTimeMs\": -1}]", "events[0].loadTimeMs" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"loadTimeMs\": 1e400}]", "events[0].loadTimeMs" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"loadTimeMs\": \"NaN\"}]", "events[0].loadTimeMs" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"loadTimeMs\": {}}]", "events[0].loadTimeMs" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"timestamp\": \"yesterday\"}]", "events[0].timestamp" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"timestamp\": 32503680000000}]", "events[0].timestamp" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"timestamp\": 0}]", "events[0].timestamp" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"referrer\": \"\\ud800\"}]", "events[0].referrer" },
        { "[{\"page\": \"/a\\u0000\", \"visitorId\": \"v1\"}]", "events[0].page" },
        { "[{\"page\": \"/a\", \"visitorId\": \"v1\", \"menuItem\": \"a\\nb\"}]", "events[0].menuItem" },
        { "[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]", "body" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public async Task Batch_Invalid_Is400WithTheFieldAtFault(string json, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        if (field != "body")
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }
    }

    [Fact]
    public async Task Batch_InvalidUtf8_Is400()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        byte[] body = [.. "[{\"page\": \"/a"u8, 0xC3, 0x28, 0xFF, .. "\", \"visitorId\": \"v1\"}]"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Batch_TenMegabytes_Is413WithoutReadingItAll()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var content = new ByteArrayContent(new byte[10 * 1024 * 1024]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Batch_OversizeWithoutContentLength_Is413()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var content = new StreamContent(new UnknownLengthStream(2 * 1024 * 1024));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Batch_TooManyEvents_Is400()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        string json = "[" + string.Join(',', Enumerable.Repeat("{\"page\":\"/a\",\"visitorId\":\"v\"}", 501)) + "]";
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 500", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain; charset=utf-16")]
    public async Task Batch_OtherContentTypes_Are415(string contentType)
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var content = new ByteArrayContent("[{\"page\":\"/a\",\"visitorId\":\"v\"}]"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Batch_SendBeaconTextPlain_IsAccepted()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var content = new StringContent("{\"events\":[{\"page\":\"/a\",\"visitorId\":\"v\"}]}", Encoding.UTF8, "text/plain");
        using var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("accepted").GetInt32());
    }

    [Theory]
    [InlineData("", "page")]
    [InlineData("?page=/a", "vid")]
    [InlineData("?vid=v1", "page")]
    [InlineData("?page=/a&vid=v1&lt=abc", "lt")]
    [InlineData("?page=/a&vid=v1&lt=-5", "lt")]
    [InlineData("?page=/a&vid=v1&lt=Infinity", "lt")]
    [InlineData("?page=/a&vid=v1&ts=99999999999999", "ts")]
    [InlineData("?page=/a&vid=v1&ref=a%0Ab", "ref")]
    [InlineData("?page=/a&vid=v1&ua=%EF%BF%BD", "ua")]
    [InlineData("?page=/a%00&vid=v1", "page")]
    [InlineData("?page=/a&vid=v1&vid=v2", "vid")]
    [InlineData("?page=/a&vid=v1&evil=1", "evil")]
    [InlineData("?page=/a&vid=%3Cscript%3E", "vid")]
    public async Task Pixel_Invalid_Is400WithTheParameterAtFault(string query, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await client.GetAsync(new Uri("/collect.gif" + query, UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Pixel_TooLongPage_Is400()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await client.GetAsync(new Uri("/collect.gif?vid=v1&page=/" + new string('a', 600), UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Pixel_Valid_IsATransparentGif()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await client.GetAsync(new Uri("/collect.gif?page=/menu&vid=v-1&lt=120.5&item=Tiramisu&ref=https://www.google.com/search", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/gif", response.Content.Headers.ContentType?.MediaType);
        byte[] gif = await response.Content.ReadAsByteArrayAsync(ct);
        Assert.Equal("GIF89a", Encoding.ASCII.GetString(gif, 0, 6));
        Assert.Equal(43, gif.Length);
    }

    [Fact]
    public async Task Refusals_AreCountedByReason()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new WebAnalyticsFactory();
        using var client = factory.CreateBrowserlikeClient();
        (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();
        (await client.GetAsync(new Uri("/collect.gif?page=/a", UriKind.Relative), ct)).Dispose();
        using (var garbage = new StringContent("{", Encoding.UTF8, "application/json"))
        {
            (await client.PostAsync(new Uri("/collect", UriKind.Relative), garbage, ct)).Dispose();
        }

        var metrics = await WebAnalyticsFactory.MetricsAsync(client, ct);
        var ingest = metrics.GetProperty("ingest");
        Assert.Equal(2, ingest.GetProperty("rejectedRequests").GetInt64());
        Assert.Equal(1, ingest.GetProperty("rejectedByReason").GetProperty("InvalidField").GetInt64());
        Assert.Equal(1, ingest.GetProperty("rejectedByReason").GetProperty("Malformed").GetInt64());
        Assert.Equal(0, ingest.GetProperty("acceptedEvents").GetInt64());
    }

    /// <summary>A body of zeros whose length the client does not announce (chunked transfer).</summary>
    private sealed class UnknownLengthStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
