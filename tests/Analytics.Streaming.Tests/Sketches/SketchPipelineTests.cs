using Analytics.Streaming.Sketches;
using Analytics.Streaming.Testing;
using Analytics.Streaming.Tests.Pipeline;

namespace Analytics.Streaming.Tests.Sketches;

public sealed class SketchPipelineTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly record struct View(string Page, string UserId, string? Referrer, double LatencyMs, DateTimeOffset Time);

    [Fact]
    public void DistinctCount_SlidingWindowsMergedFromSlices_MatchExactCountsWithinError()
    {
        View[] views = Views(20_000);
        var pipeline = StreamPipeline.Create<View>()
            .WithEventTime(static v => v.Time)
            .KeyBy(static v => v.Page)
            .Window(WindowSpec.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)))
            .Aggregate(static a => a.DistinctCount(static v => v.UserId, precision: 12))
            .To(new CollectingSink<WindowResult<string, long>>())
            .Build();
        var driver = new PipelineTestDriver<View, string, long>(pipeline);
        for (int i = 0; i < views.Length; i += 1_000)
        {
            driver.Push(views[i..Math.Min(i + 1_000, views.Length)]);
        }

        driver.Complete();
        Assert.NotEmpty(driver.LatestResults);
        double tolerance = 3 * HyperLogLogSketch.StandardErrorOf(12);
        foreach (WindowResult<string, long> result in driver.LatestResults.Values)
        {
            int exact = views.Where(v => v.Page == result.Key && v.Time >= result.Window.Start && v.Time < result.Window.End).Select(v => v.UserId).Distinct().Count();
            Assert.InRange(result.Value, exact * (1 - tolerance) - 1, exact * (1 + tolerance) + 1);
        }
    }

    [Fact]
    public void DistinctCountBesideACount_SlidingWindows_EachWindowCountsOnlyItsOwnSlices()
    {
        // (long, sketch) is a value type holding a reference: the slices' sketches must not be shared between windows.
        var pipeline = StreamPipeline.Create<View>()
            .WithEventTime(static v => v.Time)
            .KeyBy(static _ => "site")
            .Window(WindowSpec.Sliding(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1)))
            .Aggregate(static a => a.Count().And(a.DistinctCount(static v => v.UserId)))
            .To(new CollectingSink<WindowResult<string, (long, long)>>())
            .Build();
        var driver = new PipelineTestDriver<View, string, (long Count, long Users)>(pipeline);
        foreach (var (user, seconds) in new[] { ("a", 30), ("b", 90), ("c", 150), ("d", 210) })
        {
            driver.Push(new View("/", user, null, 1, Start.AddSeconds(seconds)));
        }

        driver.Complete();

        Assert.Equal(
            ["-1: (1, 1)", "0: (2, 2)", "1: (2, 2)", "2: (2, 2)", "3: (1, 1)"],
            driver.LatestResults.Values.OrderBy(r => r.Window.Start).Select(r => $"{(r.Window.Start - Start).TotalMinutes}: {r.Value}"));
    }

    [Fact]
    public void SketchesBesideACount_SlidingWindowsOverManyViews_MatchExactValuesWithinError()
    {
        View[] views = Views(20_000);
        var pipeline = StreamPipeline.Create<View>()
            .WithEventTime(static v => v.Time)
            .KeyBy(static v => v.Page)
            .Window(WindowSpec.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)))
            .Aggregate(static a => a.Count().And(a.DistinctCount(static v => v.UserId, precision: 12)).And(a.Quantiles(static v => v.LatencyMs)))
            .To(new CollectingSink<WindowResult<string, (long, long, QuantileSummary)>>())
            .Build();
        var driver = new PipelineTestDriver<View, string, (long Count, long Users, QuantileSummary Latency)>(pipeline);
        for (int i = 0; i < views.Length; i += 1_000)
        {
            driver.Push(views[i..Math.Min(i + 1_000, views.Length)]);
        }

        driver.Complete();
        Assert.NotEmpty(driver.LatestResults);
        double tolerance = 3 * HyperLogLogSketch.StandardErrorOf(12);
        foreach (var result in driver.LatestResults.Values)
        {
            var inWindow = views.Where(v => v.Page == result.Key && v.Time >= result.Window.Start && v.Time < result.Window.End).ToArray();
            int exact = inWindow.Select(v => v.UserId).Distinct().Count();
            Assert.Equal(inWindow.Length, result.Value.Count);
            Assert.InRange(result.Value.Users, exact * (1 - tolerance) - 1, exact * (1 + tolerance) + 1);
            Assert.Equal(inWindow.Length, result.Value.Latency.Count);
            Assert.Equal(inWindow.Max(v => v.LatencyMs), result.Value.Latency.Max);
        }
    }

    [Theory]
    [InlineData(WindowStateMode.Always)]
    [InlineData(WindowStateMode.Never)]
    public async Task TopK_StoppedMidStreamAndResumed_EndsWithTheResultsOfOneRun(WindowStateMode state)
    {
        // Near-uniform items over far more than the counters, so most counts are tied and which counter a new item
        // replaces decides the result: the resumed run must choose as the uninterrupted one did.
        var random = new Random(8);
        var batches = Batches(page => Enumerable.Range(0, 25).Select(i =>
            new View("page-" + (i % 2), "u", "ref-" + random.Next(120), 1, Start.AddSeconds((page / 2.0) + (random.Next(3) * 0.1)))));

        await AssertStoppedAndResumedLikeOneRunAsync(
            state,
            WindowSpec.Tumbling(TimeSpan.FromSeconds(5)),
            static a => a.TopK(static v => v.Referrer, k: 40, capacity: 40),
            static r => string.Join(", ", r.Items.Select(h => $"{h.Item} {h.Count} {h.Error}")) + $" of {r.TotalCount}",
            batches);
    }

    [Theory]
    [InlineData(WindowStateMode.Always)]
    [InlineData(WindowStateMode.Never)]
    public async Task Sketches_StoppedMidStreamAndResumed_EndWithTheResultsOfOneRun(WindowStateMode state)
    {
        // Distinct users, latency quantiles and top referrers per page in sliding windows, over three partitions. Some
        // pages see a few users (sparse HyperLogLog, few quantile buckets, few top-K counters) and one sees hundreds
        // (dense at precision 10, wide, full): the checkpoints carry both forms of each sketch, mid-growth.
        var random = new Random(9);
        var batches = Batches(b => Enumerable.Range(0, 25).Select(i =>
        {
            string page = i % 5 == 0 ? "home" : "page-" + random.Next(6);
            string user = "user-" + random.Next(page == "home" ? 5_000 : 12);
            return new View(page, user, "ref-" + random.Next(page == "home" ? 300 : 3), Math.Exp(random.NextDouble() * (page == "home" ? 12 : 1)), Start.AddSeconds((b / 2.0) + (random.Next(3) * 0.1)));
        }));

        await AssertStoppedAndResumedLikeOneRunAsync(
            state,
            WindowSpec.Sliding(TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(2)),
            static a => a.DistinctCount(static v => v.UserId, precision: 10).And(a.Quantiles(static v => v.LatencyMs)).And(a.TopK(static v => v.Referrer, k: 5)),
            static r => $"{r.Item1} | {r.Item2} | " + string.Join(", ", r.Item3.Items.Select(h => $"{h.Item} {h.Count} {h.Error}")),
            batches);
    }

    [Theory]
    [InlineData(WindowStateMode.Always)]
    [InlineData(WindowStateMode.Never)]
    public async Task TopKAndKeysWithLoneSurrogates_StoppedMidStreamAndResumed_EndWithTheResultsOfOneRun(WindowStateMode state)
    {
        // JSON may carry "\ud83d" alone, and truncating a user agent can split a pair: such strings are valid .NET
        // strings but not UTF-16 text, and checkpoints must keep them as they are.
        string[] odd = ["\uD83D", "a\uDE00b", "\uDE00\uD83D", "x\uD83D\uD83D", "ok \uD83D\uDE00"];
        var random = new Random(10);
        var batches = Batches(b => Enumerable.Range(0, 25).Select(i =>
            new View("page-" + odd[i % odd.Length], "u", "ref-" + odd[random.Next(odd.Length)] + random.Next(4), 1, Start.AddSeconds((b / 2.0) + (random.Next(3) * 0.1)))));

        await AssertStoppedAndResumedLikeOneRunAsync(
            state,
            WindowSpec.Tumbling(TimeSpan.FromSeconds(5)),
            static a => a.TopK(static v => v.Referrer, k: 8, capacity: 8),
            static r => string.Join(", ", r.Items.Select(h => $"{h.Item} {h.Count} {h.Error}")) + $" of {r.TotalCount}",
            batches);
    }

    /// <summary>Forty batches for each of three partitions, the last of each ending its partition.</summary>
    private static List<RecordBatch<View>> Batches(Func<int, IEnumerable<View>> batch)
    {
        var batches = new List<RecordBatch<View>>();
        for (int b = 0; b < 40; b++)
        {
            for (int p = 0; p < 3; p++)
            {
                var records = batch(b).Select((v, i) => new StreamRecord<View>(v, SequenceNumber.FromInt64((b * 25) + i + 1))).ToArray();
                batches.Add(new RecordBatch<View>($"p{p}", records, isEndOfPartition: b == 39));
            }
        }

        return batches;
    }

    /// <summary>
    /// Runs the batches once without interruption, then again stopped after 50 batches and resumed from its last
    /// checkpoint; the table of the latest result per window must be the same.
    /// </summary>
    private static async Task AssertStoppedAndResumedLikeOneRunAsync<TAggregator, TAccumulator, TResult>(
        WindowStateMode state,
        WindowSpec window,
        Func<AggregateFactory<View>, Aggregation<View, TAggregator, TAccumulator, TResult>> aggregate,
        Func<TResult, string> show,
        List<RecordBatch<View>> batches)
        where TAggregator : struct, IAggregator<View, TAccumulator, TResult>
    {
        var oneRun = new Dictionary<string, string>();
        await Pipeline(oneRun, store: null).RunAsync(new InMemorySource<View>(batches), TestContext.Current.CancellationToken);

        var store = new InMemoryCheckpointStore();
        var table = new Dictionary<string, string>();
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
        {
            await Pipeline(table, store).RunAsync(new StoppingSource<View>(batches, stopAfter: 50, stop), stop.Token);
        }

        var resumed = Pipeline(table, store);
        await resumed.RunAsync(new InMemorySource<View>(batches), TestContext.Current.CancellationToken);

        Assert.NotNull(resumed.Statistics.RestoredFrom);
        Assert.True(oneRun.Count >= 4, $"Only {oneRun.Count} windows.");
        Assert.Equal(oneRun.OrderBy(r => r.Key, StringComparer.Ordinal), table.OrderBy(r => r.Key, StringComparer.Ordinal));

        StreamPipeline<View, string, TResult> Pipeline(Dictionary<string, string> rows, ICheckpointStore? store)
            => StreamPipeline.Create<View>(new() { Name = "sketches", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(10), WindowState = state })
                .WithEventTime(static v => v.Time, maxOutOfOrderness: TimeSpan.FromSeconds(2))
                .KeyBy(static v => v.Page)
                .Window(window)
                .Aggregate(aggregate)
                .To(Sinks.Callback<WindowResult<string, TResult>>((results, _) =>
                {
                    lock (rows)
                    {
                        foreach (var r in results.Span)
                        {
                            rows[r.Id] = show(r.Value);
                        }
                    }

                    return ValueTask.CompletedTask;
                }))
                .Build();
    }

    [Fact]
    public void QuantilesAndTopK_TumblingWindows_ReportPerWindowResults()
    {
        View[] views = Views(6_000);
        var pipeline = StreamPipeline.Create<View>()
            .WithEventTime(static v => v.Time)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(2)))
            .Aggregate(static a => a.Quantiles(static v => v.LatencyMs).And(a.TopK(static v => v.Referrer, k: 3)))
            .To(new CollectingSink<WindowResult<GlobalKey, (QuantileSummary, TopKResult<string?>)>>())
            .Build();
        var driver = new PipelineTestDriver<View, GlobalKey, (QuantileSummary, TopKResult<string?>)>(pipeline);
        driver.Push(views);
        driver.Complete();
        foreach (var result in driver.LatestResults.Values)
        {
            View[] inWindow = views.Where(v => v.Time >= result.Window.Start && v.Time < result.Window.End).ToArray();
            (QuantileSummary latency, TopKResult<string?> referrers) = result.Value;
            double[] sorted = inWindow.Select(v => v.LatencyMs).Order().ToArray();
            double exact = sorted[(int)Math.Floor(0.99 * (sorted.Length - 1))];
            Assert.Equal(inWindow.Length, latency.Count);
            Assert.InRange(latency.P99, exact * 0.99, exact * 1.01);
            Assert.Equal("search", referrers.Items[0].Item);
        }
    }

    private static View[] Views(int count)
    {
        var random = new Random(count);
        string?[] referrers = ["search", "search", "search", "social", "social", "news", null];
        var views = new View[count];
        for (int i = 0; i < count; i++)
        {
            views[i] = new View(
                "page-" + random.Next(20).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "user-" + random.Next(3_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                referrers[random.Next(referrers.Length)],
                Math.Exp(2 + (random.NextDouble() * 3)),
                Start.AddMilliseconds(i * 60.0));
        }

        return views;
    }
}
