using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Analytics.Streaming.Samples.Tests.OrderTracking;

/// <summary>The live order-status page: the page itself and its server-sent events, which follow placed orders and the per-minute analytics.</summary>
public sealed class LivePageTests(OrderTrackingEmbeddedFixture fixture) : IClassFixture<OrderTrackingEmbeddedFixture>
{
    [Fact]
    public async Task Page_IsServed_WithItsScript()
    {
        var ct = TestContext.Current.CancellationToken;
        string page = await fixture.Host.Client.GetStringAsync(new Uri("/", UriKind.Relative), ct);
        Assert.Contains("/static/orders.js", page, StringComparison.Ordinal);
        using var script = await fixture.Host.Client.GetAsync(new Uri("static/orders.js", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("EventSource('/api/stream')", await script.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

        // Chart.js, embedded from the pinned npm package, at the path the page loads it from.
        Assert.Contains("/static/lib/chart.umd.min.js", page, StringComparison.Ordinal);
        using var chartJs = await fixture.Host.Client.GetAsync(new Uri("static/lib/chart.umd.min.js", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, chartJs.StatusCode);
        Assert.Equal("text/javascript", chartJs.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Chart.js v4.5.1", await chartJs.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_SendsSnapshots_ThatCountPlacedOrdersAndRevenuePerMinute()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = fixture.Host.Client;
        string customer = $"live-{Guid.NewGuid():N}"[..30];
        for (int i = 0; i < 3; i++)
        {
            using var placed = await client.PostAsJsonAsync("orders", new { customerId = customer, email = "live@example.com", items = new[] { new { sku = "cake", quantity = 1, unitPrice = 10 } } }, ct);
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(limit.Token));
        while (true)
        {
            string? line = await reader.ReadLineAsync(limit.Token);
            Assert.NotNull(line);
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            using var snapshot = JsonDocument.Parse(line["data: ".Length..]);
            var root = snapshot.RootElement;
            int mine = root.GetProperty("recent").EnumerateArray().Count(c => c.GetProperty("customerId").GetString() == customer);
            long placedInMinutes = root.GetProperty("minutes").EnumerateArray().Sum(m => m.GetProperty("ordersPlaced").GetInt64());
            double revenue = root.GetProperty("minutes").EnumerateArray().Sum(m => m.GetProperty("revenue").GetDouble());
            long cakes = root.GetProperty("minutes").EnumerateArray()
                .SelectMany(m => m.GetProperty("topItems").EnumerateArray())
                .Where(i => i.GetProperty("sku").GetString() == "cake")
                .Sum(i => i.GetProperty("quantity").GetInt64());

            // The class's host only sees this test's orders, so the analytics count exactly these three (and their
            // three cakes, counted by the pipeline that turns each order into its lines).
            if (mine == 3 && placedInMinutes == 3 && cakes == 3)
            {
                Assert.Equal(30d, revenue);
                Assert.Equal(3, root.GetProperty("statusCounts").GetProperty("Placed").GetInt64());
                return;
            }
        }
    }
}

/// <summary>The live page in a real headless Chromium (Debian's, driven by Playwright), on its own embedded host.</summary>
public sealed class LivePageBrowserTests(OrderTrackingEmbeddedFixture fixture) : IClassFixture<OrderTrackingEmbeddedFixture>
{
    [Fact]
    public async Task Page_InChromium_ShowsStatusCountsRecentChangesAndLooksUpAnOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = fixture.Host.Client;
        string orderId = $"br-{Guid.NewGuid():N}";
        using (var placed = await client.PostAsJsonAsync("orders", new { orderId, customerId = "browser", email = "dora@example.com", items = new[] { new { sku = "cake", quantity = 2, unitPrice = 7.25 } } }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        string profile = Directory.CreateTempSubdirectory("orders-chromium-").FullName;
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = DashboardBrowserTests.FindChromium(),
            Headless = true,
            ChromiumSandbox = false,
            Args = ["--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => problems.Add(error);

        // As in the dashboard's browser test, the polled waits wait for the page, not its load event.
        await page.GotoAsync(client.BaseAddress + string.Empty, new PageGotoOptions { WaitUntil = WaitUntilState.Commit, Timeout = 120_000 });
        var wait = new PageWaitForFunctionOptions { Timeout = 120_000, PollingInterval = 100 };
        await page.WaitForFunctionAsync("() => document.getElementById('connection')?.textContent === 'live'", null, wait);
        await page.WaitForFunctionAsync("id => [...document.querySelectorAll('#recent tr td:first-child')].some(td => td.textContent === id)", orderId, wait);

        // Confirming the order shows up live, without reloading the page.
        using (var confirmed = await client.PostAsJsonAsync($"orders/{orderId}/status", new { status = "Confirmed" }, ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, confirmed.StatusCode);
        }

        await page.WaitForFunctionAsync(
            "id => [...document.querySelectorAll('#recent tr')].some(tr => tr.children[0].textContent === id && tr.children[2].textContent === 'Confirmed')",
            orderId,
            wait);
        await page.WaitForFunctionAsync("() => Number(document.querySelector(\"[data-status='Confirmed'] strong\").textContent) >= 1", null, wait);
        Assert.NotEmpty(await page.QuerySelectorAllAsync("#minutes tr"));

        // Two more orders (14.50 + 13.50 + 20.00 in all); then the charts show exactly what the snapshot API reports.
        foreach (var (quantity, unitPrice) in new[] { (3, 4.5), (1, 20.0) })
        {
            using var more = await client.PostAsJsonAsync("orders", new { customerId = "browser", email = "dora@example.com", items = new[] { new { sku = "tea", quantity, unitPrice } } }, ct);
            Assert.Equal(HttpStatusCode.Created, more.StatusCode);
        }

        var live = await fixture.Host.WaitForLiveAsync(
            l => l.GetProperty("minutes").EnumerateArray().Sum(m => m.GetProperty("ordersPlaced").GetInt64()) == 3
                && l.GetProperty("minutes").EnumerateArray().Sum(m => m.GetProperty("revenue").GetDouble()) == 48d
                && l.GetProperty("statusCounts").GetProperty("Placed").GetInt64() == 2
                && l.GetProperty("statusCounts").GetProperty("Confirmed").GetInt64() == 1,
            "three orders (48.00) in the per-minute analytics, two placed and one confirmed",
            ct);
        await page.WaitForFunctionAsync(
            """
            () => {
              const sum = id => Chart.getChart(id)?.data.datasets[0].data.reduce((a, b) => a + b, 0);
              const status = Chart.getChart('chart-status');
              const count = name => status?.data.datasets[0].data[status.data.labels.indexOf(name)];
              return sum('chart-orders') === 3 && sum('chart-revenue') === 48 && count('Placed') === 2 && count('Confirmed') === 1;
            }
            """,
            null,
            wait);
        string drawn = await page.EvaluateAsync<string>(
            """
            () => JSON.stringify(Object.fromEntries(['chart-orders', 'chart-revenue', 'chart-status'].map(id => {
              const c = Chart.getChart(id);
              const meta = c.getDatasetMeta(0);
              return [id, {
                labels: c.data.labels,
                data: c.data.datasets[0].data,
                width: c.width,
                height: c.height,
                elements: meta.data.length,
                placed: meta.data.every(e => Number.isFinite(e.x) && Number.isFinite(e.y) && e.y >= c.chartArea.top && e.y <= c.chartArea.bottom),
              }];
            })))
            """);
        using var charts = JsonDocument.Parse(drawn);
        var minutes = live.GetProperty("minutes").EnumerateArray().ToArray();
        string[] minuteLabels = [.. minutes.Select(m => m.GetProperty("start").GetString()![11..16])];
        string[] statuses = [.. live.GetProperty("statusCounts").EnumerateObject().Select(p => p.Name)];
        AssertChart(charts.RootElement.GetProperty("chart-orders"), minuteLabels, [.. minutes.Select(m => (double)m.GetProperty("ordersPlaced").GetInt64())]);
        AssertChart(charts.RootElement.GetProperty("chart-revenue"), minuteLabels, [.. minutes.Select(m => m.GetProperty("revenue").GetDouble())]);
        AssertChart(charts.RootElement.GetProperty("chart-status"), statuses, [.. live.GetProperty("statusCounts").EnumerateObject().Select(p => (double)p.Value.GetInt64())]);

        await page.FillAsync("#order-id", orderId);
        await page.ClickAsync("#lookup button");
        await page.WaitForFunctionAsync("id => document.getElementById('order').textContent.includes(id)", orderId, wait);
        Assert.Contains("dora@example.com", await page.TextContentAsync("#order") ?? string.Empty, StringComparison.Ordinal);
        Assert.Empty(problems);
    }

    /// <summary>A chart drawn on a canvas of some size, one element per label, its labels and values those of the snapshot.</summary>
    private static void AssertChart(JsonElement chart, string[] labels, double[] values)
    {
        Assert.True(chart.GetProperty("width").GetDouble() > 0 && chart.GetProperty("height").GetDouble() > 0, $"not drawn: {chart}");
        Assert.NotEmpty(labels);
        Assert.Equal(labels, chart.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!));
        Assert.Equal(values, chart.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(labels.Length, chart.GetProperty("elements").GetInt32());
        Assert.True(chart.GetProperty("placed").GetBoolean(), $"elements outside the chart area: {chart}");
    }
}
