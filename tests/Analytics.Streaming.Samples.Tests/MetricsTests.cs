using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>Beacons in, dashboard numbers out: every metric of the snapshot moves with the test's own events.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task BeaconFromAClockMinutesAhead_CountsAtTheServersTimeAndMakesNothingLate()
    {
        // A visitor's clock running four minutes fast must not close the open windows of everyone else.
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new WebAnalyticsFactory();
        using var client = factory.CreateBrowserlikeClient();
        (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();
        long ahead = DateTimeOffset.UtcNow.AddMinutes(4).ToUnixTimeMilliseconds();

        using (var fast = await client.GetAsync(new Uri($"/collect.gif?page=/a&vid=fast-clock&ts={ahead}", UriKind.Relative), ct))
        {
            Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
        }

        var first = await WebAnalyticsFactory.WaitForMetricsAsync(client, m => m.GetProperty("recent").GetArrayLength() == 1, ct);
        (await client.GetAsync(new Uri("/collect.gif?page=/b&vid=right-clock", UriKind.Relative), ct)).Dispose();
        var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(
            client,
            m => m.GetProperty("totals").GetProperty("events").GetInt64() == 2 && Sum(m.GetProperty("perMinute"), "events") == 2,
            ct);

        Assert.True(DateTimeOffset.Parse(first.GetProperty("recent")[0].GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture) < DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.All(metrics.GetProperty("pipelines").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("lateRecords").GetInt64()));
    }

    [Fact]
    public async Task PostedEvents_ShowUpInEveryMetric()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new WebAnalyticsFactory();
        using var client = factory.CreateBrowserlikeClient();
        (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();

        string batch = """
            {"events": [
              {"page": "/menu/pizza/margherita", "visitorId": "guest-1", "menuItem": "Margherita", "referrer": "https://www.instagram.com/p/abc", "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "loadTimeMs": 100},
              {"page": "/menu/pizza/margherita", "visitorId": "guest-2", "menuItem": "Margherita", "referrer": "https://maps.google.com/", "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", "loadTimeMs": 200},
              {"page": "https://shop.example/menu?x=1", "visitorId": "guest-1", "referrer": "<script>alert(1)</script>", "userAgent": "curl/8.5.0", "loadTimeMs": 300}
            ]}
            """;
        using (var content = new StringContent(batch, Encoding.UTF8, "application/json"))
        using (var response = await client.PostAsync(new Uri("/collect", UriKind.Relative), content, ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        (await client.GetAsync(new Uri("/collect.gif?page=/order&vid=guest-3&lt=400", UriKind.Relative), ct)).Dispose();

        // Each pipeline delivers on its own: wait until every one of them has seen the four events.
        var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(
            client,
            m => m.GetProperty("totals").GetProperty("events").GetInt64() == 4
                && m.GetProperty("recent").GetArrayLength() == 4
                && Sum(m.GetProperty("perMinute"), "events") == 4
                && Sum(m.GetProperty("perHour"), "events") == 4
                && m.GetProperty("top").ValueKind == JsonValueKind.Object && m.GetProperty("top").GetProperty("events").GetInt64() == 4,
            ct);

        // The four events may straddle a minute (or hour) boundary: sums over the windows, not the newest window alone.
        Assert.Equal(4, Sum(metrics.GetProperty("perMinute"), "events"));
        Assert.Equal(4, Sum(metrics.GetProperty("perHour"), "events"));
        Assert.Equal(3, metrics.GetProperty("totals").GetProperty("visitorsToday").GetInt64());
        Assert.InRange(Max(metrics.GetProperty("perMinute"), "p99"), 297, 404); // 1% relative accuracy, rank floor(q (n - 1)) of 100..400 ms
        Assert.Equal(4, metrics.GetProperty("ingest").GetProperty("acceptedEvents").GetInt64());

        var top = metrics.GetProperty("top");
        Assert.Equal(("/menu/pizza/margherita", 2), First(top.GetProperty("pages")));
        Assert.Equal(("Margherita", 2), First(top.GetProperty("menuItems")));
        var referrers = Items(top.GetProperty("referrers"));
        Assert.Contains("instagram.com", referrers);
        Assert.Contains("maps.google.com", referrers);
        Assert.Contains("(direct)", referrers);
        Assert.Contains("<script>alert(1)</script>", referrers); // shown as text on the page, never as markup (see the browser test)
        var agents = Items(top.GetProperty("userAgents"));
        Assert.Equal(["Chrome", "Other", "Safari", "curl"], agents.Order(StringComparer.Ordinal).ToArray());

        var recent = metrics.GetProperty("recent");
        Assert.Equal("/order", recent[0].GetProperty("page").GetString());
        Assert.Equal("/menu", recent[1].GetProperty("page").GetString());
        Assert.Contains(metrics.GetProperty("pipelines").EnumerateArray(), p => p.GetProperty("name").GetString() == "per-minute" && p.GetProperty("recordsIn").GetInt64() == 4);
        Assert.True(metrics.GetProperty("watermark").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task ServerSentEvents_PushTheSnapshotAfterANewBeacon()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new WebAnalyticsFactory();
        using var client = factory.CreateBrowserlikeClient();
        (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));

        var first = await NextSnapshotAsync(reader, ct);
        Assert.Equal(0, first.GetProperty("totals").GetProperty("events").GetInt64());

        var sent = Stopwatch.StartNew();
        (await client.GetAsync(new Uri("/collect.gif?page=/live&vid=v-live", UriKind.Relative), ct)).Dispose();
        while (true)
        {
            var snapshot = await NextSnapshotAsync(reader, ct);
            if (snapshot.GetProperty("totals").GetProperty("events").GetInt64() == 1)
            {
                break;
            }
        }

        // Not a latency benchmark (the machine may be busy): the push itself is event-driven, not a poll.
        TestContext.Current.TestOutputHelper?.WriteLine($"beacon to server-sent event: {sent.ElapsedMilliseconds} ms");
    }

    private static async Task<JsonElement> NextSnapshotAsync(StreamReader reader, CancellationToken ct)
    {
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var document = JsonDocument.Parse(line["data: ".Length..]);
                return document.RootElement.Clone();
            }
        }

        throw new EndOfStreamException("The event stream ended.");
    }

    private static (string, long) First(JsonElement list) => (list[0].GetProperty("item").GetString()!, list[0].GetProperty("count").GetInt64());

    private static List<string> Items(JsonElement list) => list.EnumerateArray().Select(r => r.GetProperty("item").GetString()!).ToList();

    private static long Sum(JsonElement points, string property) => points.EnumerateArray().Sum(p => p.GetProperty(property).GetInt64());

    private static double Max(JsonElement points, string property) => points.EnumerateArray().Select(p => p.GetProperty(property).GetDouble()).DefaultIfEmpty(0).Max();
}
