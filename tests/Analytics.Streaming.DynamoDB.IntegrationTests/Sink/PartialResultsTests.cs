using Analytics.Streaming.Sketches;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests;

public sealed record Click(string Page, string User, DateTimeOffset Time);

public sealed record Purchase(string Page, decimal Amount, double LatencyMs, DateTimeOffset Time);

/// <summary>
/// Results from many workers: each shard aggregated by its own pipeline writes partial results, a replay of a shard
/// overwrites its partials, and merging them on read equals one pipeline over every record.
/// </summary>
public sealed class PartialResultsTests(DynaliteServer dynalite)
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task PerShardPipelines_WithAReplay_MergeOnReadToTheSingleProcessResult()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.ForWindowResults<string, (long Views, HyperLogLogSketch Visitors)>()
            .Number("views", r => r.Value.Views)
            .Sketch("visitors", r => r.Value.Visitors)
            .Build();
        string table = await DynamoDbSinkTests.CreateTableAsync(client, map);

        // Keys spread over all three shards, as with a random partition key.
        var clicks = Enumerable.Range(0, 900).Select(i => new Click($"/p{i % 4}", $"u{i * 7 % 53}", T0.AddSeconds(i * 0.4))).ToArray();
        var shards = new[] { "shardId-000000000000", "shardId-000000000001", "shardId-000000000002" };
        var byShard = shards.Select((shard, s) => clicks.Where((_, i) => i % 3 == s).ToArray()).ToArray();

        async Task RunShardAsync(int s, Click[] events)
        {
            await using var sink = new DynamoDbSink<WindowResult<string, (long, HyperLogLogSketch)>>(client, new() { TableName = table, Map = map });
            var pipeline = StreamPipeline.Create<Click>(new() { Name = "clicks", Partition = shards[s] })
                .WithEventTime(c => c.Time)
                .KeyBy(c => c.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count().And(a.DistinctCountSketch(c => c.User)))
                .To(sink)
                .Build();
            await pipeline.RunAsync(InMemorySource<Click>.FromEvents(events, shards[s], batchSize: 40), ct);
        }

        for (int s = 0; s < shards.Length; s++)
        {
            await RunShardAsync(s, byShard[s]);
        }

        // Shard 1 is processed again from the start (a worker died before its checkpoint; another took its lease),
        // first only part of the way, then in full.
        await RunShardAsync(1, byShard[1][..(byShard[1].Length / 2)]);
        await RunShardAsync(1, byShard[1]);

        for (int p = 0; p < 4; p++)
        {
            string page = $"/p{p}";
            var groups = await DynamoDbPartialResults.QueryAsync(client, table, "clicks", page, T0, T0.AddHours(1), ct);
            var expected = clicks.Where(c => c.Page == page).GroupBy(c => new DateTimeOffset(c.Time.Ticks - (c.Time.Ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero)).OrderBy(g => g.Key).ToArray();
            Assert.Equal(expected.Length, groups.Count);
            for (int w = 0; w < groups.Count; w++)
            {
                Assert.StartsWith(DynamoDbItemMap.ResultSortKey(new TimeWindow(expected[w].Key, expected[w].Key.AddMinutes(1))), groups[w].Window, StringComparison.Ordinal);
                Assert.Equal(3, groups[w].Partitions.Count());
                Assert.Equal(expected[w].Count(), groups[w].Sum("views"));
                long distinct = expected[w].Select(c => c.User).Distinct().Count();
                Assert.InRange(groups[w].MergeHyperLogLog("visitors").Estimate(), distinct * 0.95, distinct * 1.05);
            }
        }
    }

    [Fact]
    public async Task PerShardPipelines_DecimalsExtremesAndQuantileSketches_MergeOnRead()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.ForWindowResults<string, (decimal MaxAmount, decimal MinAmount, QuantileSketch Latency)>()
            .Number("max_amount", r => r.Value.MaxAmount)
            .Number("min_amount", r => r.Value.MinAmount)
            .Sketch("latency", r => r.Value.Latency)
            .Build();
        string table = await DynamoDbSinkTests.CreateTableAsync(client, map);
        var purchases = Enumerable.Range(0, 600)
            .Select(i => new Purchase($"/p{i % 2}", 10.01m + (i * 37 % 101 * 0.37m), 1 + (i * 13 % 97 * 2.5), T0.AddSeconds(i * 0.5)))
            .ToArray();
        var shards = new[] { "shardId-000000000000", "shardId-000000000001", "shardId-000000000002" };
        for (int s = 0; s < shards.Length; s++)
        {
            await using var sink = new DynamoDbSink<WindowResult<string, (decimal, decimal, QuantileSketch)>>(client, new() { TableName = table, Map = map });
            var pipeline = StreamPipeline.Create<Purchase>(new() { Name = "purchases", Partition = shards[s] })
                .WithEventTime(p => p.Time)
                .KeyBy(p => p.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Max(p => p.Amount).And(a.Min(p => p.Amount)).And(a.QuantileSketch(p => p.LatencyMs)))
                .To(sink)
                .Build();
            int shard = s;
            await pipeline.RunAsync(InMemorySource<Purchase>.FromEvents([.. purchases.Where((_, i) => i % 3 == shard)], shards[s], batchSize: 25), ct);
        }

        static DateTimeOffset Minute(DateTimeOffset t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        for (int p = 0; p < 2; p++)
        {
            string page = $"/p{p}";
            var groups = await DynamoDbPartialResults.QueryAsync(client, table, "purchases", page, T0, T0.AddHours(1), ct);
            var windows = purchases.Select((e, i) => (e, Shard: i % 3)).Where(x => x.e.Page == page).GroupBy(x => Minute(x.e.Time)).OrderBy(g => g.Key).ToArray();
            Assert.Equal(windows.Length, groups.Count);
            for (int w = 0; w < groups.Count; w++)
            {
                var group = groups[w];
                Assert.Equal(3, group.Partitions.Count());

                // The partial maxima, summed exactly as decimals (each shard's own maximum, with its cents).
                decimal sumOfShardMaxima = windows[w].GroupBy(x => x.Shard).Sum(g => g.Max(x => x.e.Amount));
                Assert.Equal(sumOfShardMaxima, group.SumDecimal("max_amount"));
                Assert.Equal((double)windows[w].Max(x => x.e.Amount), group.Max("max_amount"));
                Assert.Equal((double)windows[w].Min(x => x.e.Amount), group.Min("min_amount"));
                Assert.Null(group.Max("no_such_attribute"));

                // The merged sketch holds every event of the window, and its median is within 1% of a median of them.
                var latencies = windows[w].Select(x => x.e.LatencyMs).Order().ToArray();
                var merged = group.MergeQuantiles("latency");
                Assert.Equal(latencies.Length, merged.Count);
                Assert.Equal(latencies[0], merged.Min);
                Assert.Equal(latencies[^1], merged.Max);
                double rank = 0.5 * (latencies.Length - 1);
                Assert.InRange(merged.GetQuantile(0.5), latencies[(int)Math.Floor(rank)] * 0.99, latencies[(int)Math.Ceiling(rank)] * 1.01);
            }
        }
    }
}
