using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests;

/// <summary>A small event for engine tests: a key, a time in seconds after <see cref="Epoch"/>, a value.</summary>
public readonly record struct TestEvent(int Key, long Seconds, int Value)
{
    public static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    public DateTimeOffset Time => Epoch.AddSeconds(Seconds);

    public static DateTimeOffset At(long seconds) => Epoch.AddSeconds(seconds);
}

internal static class TestPipelines
{
    /// <summary>A keyed count-and-sum pipeline over <see cref="TestEvent"/>.</summary>
    public static StreamPipeline<TestEvent, int, (long Count, long Sum)> CountAndSum(
        WindowSpec window,
        TimeSpan outOfOrderness = default,
        TimeSpan lateness = default,
        EmitMode mode = EmitMode.OnClose,
        TimeSpan? idleTimeout = null,
        StreamPipelineOptions? options = null)
        => StreamPipeline.Create<TestEvent>(options ?? new() { Name = "test" })
            .WithEventTime(e => e.Time, outOfOrderness, idleTimeout)
            .KeyBy(e => e.Key)
            .Window(window)
            .AllowedLateness(lateness)
            .Emit(mode)
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .To(new CollectingSink<WindowResult<int, (long, long)>>())
            .Build();

    public static PipelineTestDriver<TestEvent, int, (long Count, long Sum)> Driver(this StreamPipeline<TestEvent, int, (long Count, long Sum)> pipeline)
        => new(pipeline);
}
