using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>
/// The dashboard in a real headless Chromium (Debian's <c>chromium</c>, driven by Playwright): sign in, every chart
/// and table fills from the generated traffic, new beacons show within moments, hostile text stays text, and a
/// screenshot is saved (its path is printed).
/// </summary>
public sealed class DashboardBrowserTests
{
    private static readonly string[] Charts = ["chart-per-second", "chart-per-minute", "chart-per-hour", "chart-load", "chart-pages", "chart-menu", "chart-referrers", "chart-agents"];
    private static readonly string[] Tables = ["table-pages", "table-menu", "table-referrers", "table-agents", "table-recent", "table-pipelines", "table-rejected", "table-abnormal"];
    private const string Hostile = "<script>document.title='owned'</script><img src=x onerror=alert(1)>";

    [Fact]
    public async Task Dashboard_SignedIn_ShowsEveryMetricLiveInChromium()
    {
        var ct = TestContext.Current.CancellationToken;
        string chromium = FindChromium();
        await using var factory = new WebAnalyticsFactory(new Dictionary<string, string?>
        {
            ["Generators:ShopPerSecond"] = "100",
            ["Generators:MenuPerSecond"] = "20",
        });
        factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        string baseUrl = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        Assert.StartsWith("http://127.0.0.1:", baseUrl, StringComparison.Ordinal);

        using var playwright = await Playwright.CreateAsync();
        string profile = Directory.CreateTempSubdirectory("dashboard-chromium-").FullName;
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            ChromiumSandbox = false,
            Args = ["--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            ViewportSize = new ViewportSize { Width = 1440, Height = 1800 },
        });
        var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();

        // Navigations wait as long as the polled waits below (Playwright's default is 30 s, and the other test projects
        // run beside this one on two cores).
        page.SetDefaultTimeout(180_000);
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => problems.Add(error);
        page.Dialog += async (_, dialog) =>
        {
            problems.Add("dialog: " + dialog.Message);
            await dialog.DismissAsync();
        };

        // Signed out: the page sends the browser to the sign-in form.
        await page.GotoAsync(baseUrl + "/");
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#user", WebAnalyticsFactory.User);
        await page.FillAsync("#password", WebAnalyticsFactory.Password);
        await page.ClickAsync("#signin");
        // Only the redirect is awaited, not the dashboard's load event: once, with the URL already reached, that wait
        // saw network idle but never the load event. The polled waits below wait for the page itself.
        await page.WaitForURLAsync(baseUrl + "/", new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit });

        // Waits poll a function on a timer: WaitForSelectorAsync hands back an element handle, and on a loaded
        // machine it once saw the live status and still timed out, with the page re-rendering several times a second.
        var wait = new PageWaitForFunctionOptions { Timeout = 180_000, PollingInterval = 100 };
        await page.WaitForFunctionAsync("() => document.getElementById('status')?.dataset.state === 'live'", null, wait);

        // Every chart draws data and every table but the abnormal events fills from the generated traffic.
        await page.WaitForFunctionAsync(
            """
            charts => charts.every(id => { const c = Chart.getChart(id); return c && c.width > 0 && c.data.labels.length > 0 && c.data.datasets[0].data.length > 0; })
            """,
            Charts,
            wait);
        await page.WaitForFunctionAsync("tables => tables.every(id => document.querySelectorAll('#' + id + ' tbody tr').length > 0)", Tables[..^1], wait);

        // New beacons reach the page: the accepted-beacon counter moves (generated traffic does not count there).
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var sent = Stopwatch.StartNew();
        // Two full batches, so that the hostile referrer ranks among the top 10 referrers of the last five minutes.
        var events = Enumerable.Range(0, 500).Select(i => new { page = "/from-the-browser-test", visitorId = $"browser-{i % 7}", referrer = Hostile, loadTimeMs = 50 }).ToArray();
        for (int batch = 0; batch < 2; batch++)
        {
            using var response = await client.PostAsJsonAsync("/collect", new { events }, ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await page.WaitForFunctionAsync("() => document.getElementById('kpi-accepted').textContent.replace(/\\D/g, '') === '1000'", null, wait);
        TestContext.Current.TestOutputHelper?.WriteLine($"beacons to dashboard: {sent.ElapsedMilliseconds} ms");

        // Hostile text in a referrer is shown as text: no element, no script, no dialog.
        await page.WaitForFunctionAsync("text => [...document.querySelectorAll('#table-referrers td')].some(td => td.textContent === text)", Hostile, wait);
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelectorAll('main script, main img').length"));
        Assert.NotEqual("owned", await page.TitleAsync());

        // The scraper-bot burst (25 s after the generator starts, every 30 s) is flagged by the random cut forest.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#table-abnormal tbody tr').length > 0", null, wait);

        string screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"dashboard screenshot: {screenshot}");
        Assert.True(new FileInfo(screenshot).Length > 10_000);
        Assert.Empty(problems);
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Debian's Chromium (<c>apt-get install -y chromium</c>, part of the README's test command), or <c>CHROMIUM_PATH</c>.</summary>
    internal static string FindChromium()
    {
        string? configured = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
        foreach (string? candidate in new[] { configured, "/usr/bin/chromium", "/usr/bin/chromium-browser" })
        {
            if (!string.IsNullOrEmpty(candidate) && File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail("The dashboard's browser test needs Debian's Chromium: run `apt-get install -y chromium` (the README's test command does), or set CHROMIUM_PATH to a Chromium binary.");
        return string.Empty;
    }
}
