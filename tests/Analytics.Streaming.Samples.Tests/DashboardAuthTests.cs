using System.Net;

namespace Analytics.Streaming.Samples.Tests;

public sealed class DashboardAuthTests : IClassFixture<WebAnalyticsFactoryFixture>
{
    private readonly WebAnalyticsFactory _factory;

    public DashboardAuthTests(WebAnalyticsFactoryFixture fixture) => _factory = fixture.Factory;

    [Theory]
    [InlineData("/api/metrics")]
    [InlineData("/api/stream")]
    public async Task Api_Anonymous_Is401(string path)
    {
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Page_Anonymous_RedirectsToSignIn()
    {
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_WithBearerTokenButNoIssuerConfigured_Is401()
    {
        using var client = _factory.CreateBrowserlikeClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/metrics");
        request.Headers.Authorization = new("Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsTheFormAgainWith401()
    {
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await WebAnalyticsFactory.SignInAsync(client, password: "guess", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Wrong user name or password", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        using var metrics = await client.GetAsync(new Uri("/api/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
    }

    [Theory]
    [InlineData("/\t/evil.example")]
    [InlineData("/\r\n/evil.example")]
    [InlineData("//evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("https://evil.example/")]
    public async Task SignIn_ReturnUrlThatABrowserWouldTakeOffSite_GoesToTheDashboard(string returnUrl)
    {
        // Browsers drop tabs and line breaks from a Location, so "/\t/evil.example" would become "//evil.example".
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await WebAnalyticsFactory.SignInAsync(client, returnUrl: returnUrl, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignIn_LocalReturnUrl_IsKept()
    {
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await WebAnalyticsFactory.SignInAsync(client, returnUrl: "/?view=hour", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/?view=hour", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_Is400()
    {
        using var client = _factory.CreateBrowserlikeClient();
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = WebAnalyticsFactory.User, ["password"] = WebAnalyticsFactory.Password });
        using var response = await client.PostAsync(new Uri("/signin", UriKind.Relative), content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_ConfiguredUser_OpensPageAndApi_AndSignOutClosesThem()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = _factory.CreateBrowserlikeClient();
        using (var signIn = await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal("/", signIn.Headers.Location!.OriginalString);
        }

        using (var page = await client.GetAsync(new Uri("/", UriKind.Relative), ct))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("chart-per-minute", await page.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }

        using (var metrics = await client.GetAsync(new Uri("/api/metrics", UriKind.Relative), ct))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        using (var signOut = await client.PostAsync(new Uri("/signout", UriKind.Relative), null, ct))
        {
            Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        }

        using var after = await client.GetAsync(new Uri("/api/metrics", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task StaticFiles_ChartJsIsServedFromTheService()
    {
        using var client = _factory.CreateBrowserlikeClient();
        using var response = await client.GetAsync(new Uri("/static/lib/chart.umd.min.js", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("javascript", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        Assert.Contains("Chart.js v4.5.1", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}

/// <summary>One service shared by the tests of a class.</summary>
public sealed class WebAnalyticsFactoryFixture : IAsyncLifetime
{
    public WebAnalyticsFactory Factory { get; } = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => Factory.DisposeAsync();
}
