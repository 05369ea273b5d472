using Analytics.Streaming.OpenSearch.Tests.Server;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>A pipeline with late updates writing to the sink, run twice (the second run replays everything): one document per result, with the final value.</summary>
public sealed class PipelineTests(OpenSearchTestServer server)
{
    private sealed record PageView(string Page, DateTimeOffset Time);

    [Fact]
    public async Task Pipeline_LateUpdatesAndAFullReplay_LeaveOneDocumentPerResultWithTheFinalValue()
    {
        var (cluster, endpoint) = server.CreateCluster();
        var start = new DateTimeOffset(2026, 1, 31, 10, 0, 0, TimeSpan.Zero);
        var random = new Random(7);
        string[] pages = ["/home", "/cart", "/search"];
        // Mostly in order, with a fifth of the views up to 150 s late: inside the 3-minute lateness they re-emit their windows.
        var views = Enumerable.Range(0, 600)
            .Select(i => new PageView(pages[random.Next(pages.Length)], start.AddSeconds(i - (random.Next(5) == 0 ? random.Next(150) : 0))))
            .ToArray();
        var all = new List<WindowResult<string, long>>();
        var deadLetters = new DeadLetterCollector();
        long accepted = 0;

        for (int run = 0; run < 2; run++)
        {
            var options = OpenSearchSinkOptions.ForResults(endpoint, "page-views-", OpenSearchDocumentMap.ForResults<string, long>().Long("views", static r => r.Value).Build());
            options.Retry = Support.FastRetry();
            options.DeadLetters = deadLetters;
            await using var sink = new OpenSearchSink<WindowResult<string, long>>(options);
            var pipeline = StreamPipeline.Create<PageView>(new() { Name = "page-views" })
                .WithEventTime(static v => v.Time, maxOutOfOrderness: TimeSpan.FromSeconds(5))
                .KeyBy(static v => v.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .AllowedLateness(TimeSpan.FromMinutes(3))
                .Aggregate(static a => a.Count())
                .To(sink)
                .To(Sinks.Callback<WindowResult<string, long>>((results, _) =>
                {
                    all.AddRange(results.ToArray());
                    return ValueTask.CompletedTask;
                }))
                .Build();
            await pipeline.RunAsync(InMemorySource<PageView>.FromEvents(views, batchSize: 7), TestContext.Current.CancellationToken);
            Assert.Equal(pipeline.Statistics.RecordsIn, pipeline.Statistics.RecordsAccepted + pipeline.Statistics.LateRecords + pipeline.Statistics.DeadLetters);
            accepted = pipeline.Statistics.RecordsAccepted;
            if (run == 1)
            {
                Assert.True(sink.Statistics.StaleWrites > 0);
            }
        }

        Assert.Contains(all, r => r.Reason == EmitReason.LateUpdate);
        var final = all.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.MaxBy(r => r.RecordCount));
        var documents = cluster.Documents("page-views-*");
        Assert.Equal(final.Count, documents.Count);
        foreach (var document in documents)
        {
            var result = final[document.Id];
            Assert.Equal(result.Value, document.Json.GetProperty("views").GetInt64());
            Assert.Equal(result.RecordCount, document.Version);
        }

        // Every accepted view is counted once in the stored documents.
        Assert.Equal(accepted, documents.Sum(d => d.Json.GetProperty("views").GetInt64()));
        Assert.Empty(deadLetters.Flushed);
    }

    [Fact]
    public async Task Pipeline_SessionsMergedByALateRecord_LeaveOnlyTheDocumentsOfTheCurrentSessions()
    {
        var (cluster, endpoint) = server.CreateCluster();
        var start = new DateTimeOffset(2026, 1, 31, 10, 0, 0, TimeSpan.Zero);
        PageView View(string user, int second) => new(user, start.AddSeconds(second));
        // u1: sessions [0,10) and [20,30) are emitted, then a record at 10 s joins them into [0,30).
        var views = new[] { View("u1", 0), View("u2", 1), View("u1", 20), View("u2", 30), View("u1", 45), View("u1", 10), View("u2", 31), View("u1", 90) };
        var all = new List<WindowResult<string, long>>();
        var options = OpenSearchSinkOptions.ForResults(endpoint, "sessions-", OpenSearchDocumentMap.ForResults<string, long>().Long("views", static r => r.Value).Build());
        options.Retry = Support.FastRetry();
        await using var sink = new OpenSearchSink<WindowResult<string, long>>(options);
        var pipeline = StreamPipeline.Create<PageView>(new() { Name = "sessions" })
            .WithEventTime(static v => v.Time)
            .KeyBy(static v => v.Page)
            .Window(WindowSpec.Session(TimeSpan.FromSeconds(10)))
            .AllowedLateness(TimeSpan.FromMinutes(5))
            .Aggregate(static a => a.Count())
            .To(sink)
            .To(Sinks.Callback<WindowResult<string, long>>((results, _) =>
            {
                all.AddRange(results.ToArray());
                return ValueTask.CompletedTask;
            }))
            .Build();
        await pipeline.RunAsync(InMemorySource<PageView>.FromEvents(views, batchSize: 1), TestContext.Current.CancellationToken);

        Assert.Contains(all, r => r.Replaces is { Count: > 0 });
        var current = new Dictionary<string, WindowResult<string, long>>();
        foreach (var result in all)
        {
            foreach (var replaced in result.Replaces ?? [])
            {
                current.Remove((result with { Window = replaced }).Id);
            }

            if (!current.TryGetValue(result.Id, out var known) || known.RecordCount <= result.RecordCount)
            {
                current[result.Id] = result;
            }
        }

        var documents = cluster.Documents("sessions-*");
        Assert.Equal(current.Keys.Order(StringComparer.Ordinal), documents.Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.All(documents, d => Assert.Equal(current[d.Id].Value, d.Json.GetProperty("views").GetInt64()));
        Assert.Equal(views.Length, documents.Sum(d => d.Json.GetProperty("views").GetInt64()));
    }
}
