using System.Net;
using System.Net.Http.Json;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>With <c>Ingest:Kinesis:StreamName</c> set, beacons go through Kinesis (kinesalite): the producer writes, the shard consumer reads back.</summary>
public sealed class KinesisModeTests(KinesaliteServer kinesalite)
{
    [Fact]
    public async Task Beacons_ThroughKinesis_ReachTheDashboard()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("web-analytics");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, ct);
        await kinesalite.Admin.WaitForActiveAsync(stream, ct);
        string checkpoints = Directory.CreateTempSubdirectory("web-analytics-checkpoints-").FullName;
        try
        {
            await using var factory = new WebAnalyticsFactory(
                new Dictionary<string, string?>
                {
                    ["Ingest:Kinesis:StreamName"] = stream,
                    ["Ingest:Kinesis:ServiceUrl"] = kinesalite.Endpoint.ToString(),
                    ["CheckpointFolder"] = checkpoints,
                },
                services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTEST", "secret")));
            using var client = factory.CreateBrowserlikeClient();
            (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();

            var events = Enumerable.Range(0, 20).Select(i => new { page = $"/p{i % 3}", visitorId = $"v{i}" }).ToArray();
            using (var response = await client.PostAsJsonAsync("/collect", new { events }, ct))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(client, m => m.GetProperty("totals").GetProperty("events").GetInt64() == 20, ct);
            Assert.StartsWith("Kinesis stream", metrics.GetProperty("mode").GetString(), StringComparison.Ordinal);
            Assert.Equal(20, metrics.GetProperty("totals").GetProperty("visitorsToday").GetInt64());
        }
        finally
        {
            try
            {
                Directory.Delete(checkpoints, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task Restart_InTheMiddle_ChangesNoMinuteCount_InTheDashboardOrTheLake()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("web-restart");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        await kinesalite.Admin.WaitForActiveAsync(stream, ct);
        string data = Directory.CreateTempSubdirectory("web-analytics-restart-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Ingest:Kinesis:StreamName"] = stream,
            ["Ingest:Kinesis:ServiceUrl"] = kinesalite.Endpoint.ToString(),
            ["CheckpointFolder"] = Path.Combine(data, "checkpoints"),
            ["Lake:Enabled"] = "true",
            ["Lake:Folder"] = Path.Combine(data, "lake"),
        };
        try
        {
            // Two past minutes, 5 and 3 events, still open when the first run stops.
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var first = Enumerable.Range(0, 5).Select(i => new { page = "/a", visitorId = $"v{i}", timestamp = now - 180_000 + i })
                .Concat(Enumerable.Range(0, 3).Select(i => new { page = "/b", visitorId = $"w{i}", timestamp = now - 120_000 + i }))
                .ToArray();
            await using (var run = NewFactory(settings))
            {
                using var client = run.CreateBrowserlikeClient();
                (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();
                (await client.PostAsJsonAsync("/collect", new { events = first }, ct)).Dispose();
                await WebAnalyticsFactory.WaitForMetricsAsync(client, m => m.GetProperty("totals").GetProperty("events").GetInt64() == 8, ct);
            }

            // The second run resumes from the checkpoint; one event now closes the minute still open.
            await using (var second = NewFactory(settings))
            {
                using var client2 = second.CreateBrowserlikeClient();
                (await WebAnalyticsFactory.SignInAsync(client2, cancellationToken: ct)).Dispose();
                (await client2.PostAsJsonAsync("/collect", new { events = new[] { new { page = "/c", visitorId = "x", timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() } } }, ct)).Dispose();

                // The day and hour windows come back from the checkpoint with the first run's events: totals count all nine.
                var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(client2, m => m.GetProperty("totals").GetProperty("events").GetInt64() == 9
                    && m.GetProperty("perMinute").EnumerateArray().Any(p => p.GetProperty("final").GetBoolean()), ct);
                Assert.Equal(9, metrics.GetProperty("totals").GetProperty("visitorsToday").GetInt64());
                Assert.All(metrics.GetProperty("pipelines").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("lateRecords").GetInt64()));
            }

            // Both runs have stopped (flushed, checkpointed): the lake has one row per closed minute, whichever run
            // closed it: none lost, none twice.
            var lake = await LakeTests.ReadMinutesAsync(Path.Combine(data, "lake"), rows: 2, ct);
            Assert.Equal([3L, 5L], lake.Select(r => r.Events).Order().ToArray());
            var views = await LakeTests.ReadRowsAsync(Path.Combine(data, "lake"), "page_views", rows: 9, ct);
            Assert.Equal(first.Select(e => e.visitorId).Append("x").Order(StringComparer.Ordinal), views.Select(v => v["visitor_id"]).Order(StringComparer.Ordinal));
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static WebAnalyticsFactory NewFactory(Dictionary<string, string?> settings)
        => new(settings, services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTEST", "secret")));
}
