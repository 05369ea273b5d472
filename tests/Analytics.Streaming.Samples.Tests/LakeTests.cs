using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>The Parquet lake in a local folder, read back by DuckDB, holds the dashboard's per-minute counts and every event.</summary>
public sealed class LakeTests
{
    [Fact]
    public async Task ClosedMinutes_ReadBackByDuckDb_MatchTheDashboard()
    {
        var ct = TestContext.Current.CancellationToken;
        string folder = Directory.CreateTempSubdirectory("web-analytics-lake-").FullName;
        try
        {
            await using var factory = new WebAnalyticsFactory(new Dictionary<string, string?>
            {
                ["Lake:Enabled"] = "true",
                ["Lake:Folder"] = folder,
                ["Lake:FlushInterval"] = "00:00:01",
            });
            using var client = factory.CreateBrowserlikeClient();
            (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();

            // Two past minutes (5 and 3 events) and one event now, whose watermark closes both minutes.
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var events = Enumerable.Range(0, 5).Select(i => new { page = "/a", visitorId = $"v{i}", timestamp = now - 180_000 + i, loadTimeMs = 100 })
                .Concat(Enumerable.Range(0, 3).Select(i => new { page = "/b", visitorId = $"w{i}", timestamp = now - 120_000 + i, loadTimeMs = 200 }))
                .Append(new { page = "/c", visitorId = "x", timestamp = now, loadTimeMs = 300 })
                .ToArray();
            using (var response = await client.PostAsJsonAsync("/collect", new { events }, ct))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(client, m => m.GetProperty("perMinute").EnumerateArray().Count(p => p.GetProperty("final").GetBoolean()) == 2, ct);
            var dashboard = metrics.GetProperty("perMinute").EnumerateArray()
                .Where(p => p.GetProperty("final").GetBoolean())
                .ToDictionary(p => p.GetProperty("start").GetDateTimeOffset().ToUnixTimeMilliseconds() * 1000, p => p.GetProperty("events").GetInt64());
            Assert.Equal([3L, 5L], dashboard.Values.Order().ToArray());

            // The pipeline flushes the lake at its next checkpoint; wait for both rows.
            var lake = await ReadMinutesAsync(folder, rows: 2, ct);
            Assert.Equal(dashboard.OrderBy(p => p.Key), lake.ToDictionary(r => r.StartMicros, r => r.Events).OrderBy(p => p.Key));

            // Every event once in the raw table, with its page and time.
            var views = await ReadRowsAsync(folder, "page_views", rows: events.Length, ct);
            Assert.Equal(events.Select(e => $"{e.visitorId} {e.page}").Order(StringComparer.Ordinal), views.Select(v => $"{v["visitor_id"]} {v["page"]}").Order(StringComparer.Ordinal));
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Reads the lake's <c>events_per_minute</c> rows with DuckDB once it holds <paramref name="rows"/> of them.</summary>
    public static async Task<List<(long StartMicros, long Events)>> ReadMinutesAsync(string folder, int rows, CancellationToken ct) =>
        [.. (await ReadRowsAsync(folder, "events_per_minute", rows, ct)).Select(row => (
            long.Parse(row["window_start"]["ts:".Length..], CultureInfo.InvariantCulture),
            long.Parse(row["events"], CultureInfo.InvariantCulture)))];

    /// <summary>Reads a lake table's rows (column name to DuckDB's text) once it holds at least <paramref name="rows"/> of them.</summary>
    public static async Task<List<Dictionary<string, string>>> ReadRowsAsync(string folder, string table, int rows, CancellationToken ct)
    {
        await using var readers = await ParquetReaders.StartAsync();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        var lake = new List<Dictionary<string, string>>();
        while (true)
        {
            lake.Clear();
            string path = Path.Combine(folder, "analytics", table);
            foreach (string file in Directory.Exists(path) ? Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories) : [])
            {
                var duck = (await readers.ReadAsync(file)).GetProperty("duckdb");
                var columns = duck.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
                foreach (var row in duck.GetProperty("rows").EnumerateArray())
                {
                    lake.Add(columns.Select((c, i) => (c, row[i].ValueKind switch { JsonValueKind.Null => string.Empty, JsonValueKind.String => row[i].GetString()!, _ => row[i].GetRawText() })).ToDictionary(p => p.c, p => p.Item2));
                }
            }

            if (lake.Count >= rows)
            {
                return lake;
            }

            await Task.Delay(100, limit.Token);
        }
    }
}
