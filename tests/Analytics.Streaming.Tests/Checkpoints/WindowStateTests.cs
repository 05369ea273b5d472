using Analytics.Streaming.Sketches;
using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Checkpoints;

/// <summary>Every built-in aggregator's accumulators survive a checkpoint: a restored engine ends with the same results as the original.</summary>
public sealed class WindowStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

    private sealed record View(string Page, string User, double Latency, long Bytes, DateTimeOffset Time);

    private static View[] Views(int count, int users)
        => [.. Enumerable.Range(0, count).Select(i => new View($"/p{i % 3}", $"u{i * 7 % users}", 10 + (i * 13 % 97), i * 1000L, T0.AddSeconds(i % 50)))];

    private static void AssertSameAfterRestore<TResult>(Func<WindowedPipelineBuilder<View, View, string>, AggregatedPipelineBuilder<View, string, TResult>> aggregate, Func<TResult, object> show, int count = 400, int users = 150)
    {
        var pipeline = aggregate(StreamPipeline.Create<View>(new() { Name = "state", WindowState = WindowStateMode.Always })
            .WithEventTime(v => v.Time).KeyBy(v => v.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))))
            .To(new CollectingSink<WindowResult<string, TResult>>()).Build();
        var views = Views(count, users);
        var time = new FakeTimeProvider(T0);
        var original = new PipelineTestDriver<View, string, TResult>(pipeline, time);
        original.Push(views[..(count / 2)]);

        var restored = new PipelineTestDriver<View, string, TResult>(pipeline, new FakeTimeProvider(T0), PipelineCheckpoint.Parse(original.CreateCheckpoint().ToBytes()));
        original.Push(views[(count / 2)..]);
        restored.Push(views[(count / 2)..]);
        original.Complete();
        restored.Complete();

        Assert.Equal(3, original.Results.Count);
        Assert.Equal(original.Results.Select(r => (r.Id, r.RecordCount, show(r.Value))), restored.Results.Select(r => (r.Id, r.RecordCount, show(r.Value))));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(200)]
    [InlineData(10_000)]
    public void Restore_IntegerKeys_ManyKeys_SameResults(int keys)
    {
        var pipeline = StreamPipeline.Create<(int Key, long Value, DateTimeOffset Time)>(new() { Name = "int-keys", WindowState = WindowStateMode.Always })
            .WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.Sum(e => e.Value)))
            .To(new CollectingSink<WindowResult<int, (long, long)>>()).Build();
        var events = Enumerable.Range(0, keys * 4).Select(i => (Key: i % keys, Value: (long)i, Time: T0.AddMilliseconds(i % 1000))).ToArray();
        var original = new PipelineTestDriver<(int Key, long Value, DateTimeOffset Time), int, (long, long)>(pipeline, new FakeTimeProvider(T0));
        original.Push(events[..(events.Length / 2)]);

        var restored = new PipelineTestDriver<(int Key, long Value, DateTimeOffset Time), int, (long, long)>(pipeline, new FakeTimeProvider(T0), PipelineCheckpoint.Parse(original.CreateCheckpoint().ToBytes()));
        original.Push(events[(events.Length / 2)..]);
        restored.Push(events[(events.Length / 2)..]);
        original.Complete();
        restored.Complete();

        Assert.Equal(keys, original.Results.Count);
        Assert.Equal(original.Results.Select(r => (r.Id, r.RecordCount, r.Value)), restored.Results.Select(r => (r.Id, r.RecordCount, r.Value)));
    }

    [Fact]
    public void Restore_CountSumMinMaxAverage_SameResults()
        => AssertSameAfterRestore(w => w.Aggregate(a => a.Count().And(a.Sum(v => v.Latency)).And(a.Min(v => v.Latency)).And(a.Max(v => v.Latency)).And(a.Average(v => v.Latency)).And(a.Sum(v => v.Bytes))), v => v);

    [Theory]
    [InlineData(20)]
    [InlineData(100_000)]
    public void Restore_DistinctCount_SparseAndDenseSketches_SameEstimates(int users)
        => AssertSameAfterRestore(w => w.Aggregate(a => a.DistinctCount(v => v.User, precision: 10)), v => v, count: 3000, users: users);

    [Fact]
    public void Restore_QuantilesAndTopK_SameResults()
        => AssertSameAfterRestore(
            w => w.Aggregate(a => a.Quantiles(v => v.Latency).And(a.TopK(v => v.User, k: 5))),
            v => (v.Item1, string.Join(",", v.Item2.Items.Select(h => $"{h.Item}:{h.Count}:{h.Error}")), v.Item2.TotalCount));

    [Fact]
    public void Build_AlwaysWithAnAggregatorThatCannotSave_SaysWhatIsMissing()
    {
        var builder = StreamPipeline.Create<View>(new() { Name = "state", WindowState = WindowStateMode.Always })
            .WithEventTime(v => v.Time).KeyBy(v => v.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(Aggregates.Custom<View, LastPage, string?, string?>(default))
            .To(Sinks.Discard<WindowResult<string, string?>>());

        var error = Assert.Throws<ArgumentException>(builder.Build);

        Assert.Contains("IPersistentAggregator", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AutoWithAnAggregatorThatCannotSave_RebuildsFromReplaysInstead()
    {
        var pipeline = StreamPipeline.Create<View>(new() { Name = "state" })
            .WithEventTime(v => v.Time).KeyBy(v => v.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(Aggregates.Custom<View, LastPage, string?, string?>(default))
            .To(Sinks.Discard<WindowResult<string, string?>>())
            .Build();

        Assert.False(pipeline.SnapshotsWindowState);
    }

    [Fact]
    public void Restore_CheckpointOfOtherWindows_IsRefusedWithAMessage()
    {
        var minute = TestPipelines.CountAndSum(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))).Driver();
        minute.Push(new TestEvent(1, 10, 1));
        var checkpoint = minute.CreateCheckpoint();

        var error = Assert.Throws<InvalidOperationException>(() => TestPipelines.CountAndSum(WindowSpec.Tumbling(TimeSpan.FromMinutes(5))).CreateProcessor(checkpoint));

        Assert.Contains("different windows", error.Message, StringComparison.Ordinal);
    }

    private readonly struct LastPage : IAggregator<View, string?, string?>
    {
        public string? CreateAccumulator() => null;

        public void Add(ref string? accumulator, in View input) => accumulator = input.Page;

        public void Merge(ref string? accumulator, in string? other) => accumulator = other ?? accumulator;

        public string? GetResult(in string? accumulator) => accumulator;
    }
}
