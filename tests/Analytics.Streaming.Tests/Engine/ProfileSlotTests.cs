using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Engine;

/// <summary>
/// Pipelines of one shape run their per-record loop in the code of their profile slot (<see cref="ProfileSlots"/>):
/// every slot must give the same results, and every processor of one pipeline must use its pipeline's slot.
/// </summary>
public sealed class ProfileSlotTests
{
    private static readonly WindowSpec Minute = WindowSpec.Tumbling(TimeSpan.FromMinutes(1));

    [Fact]
    public void PipelinesOfOneShape_InEverySlot_GiveTheSameResults()
    {
        var outcomes = InEverySlot(() => TestPipelines.CountAndSum(Minute, lateness: TimeSpan.FromSeconds(30)));

        Assert.All(outcomes, outcome => Assert.Equal(outcomes[0], outcome));
        Assert.Contains("LateUpdate", outcomes[0], StringComparison.Ordinal);
        Assert.Contains("late ", outcomes[0], StringComparison.Ordinal);
    }

    [Fact]
    public void PipelinesWithSelectMany_InEverySlot_GiveTheSameResults()
    {
        // Each event expands to as many items as its value modulo 3: the expansion runs in the slot's code too.
        var outcomes = InEverySlot(() => StreamPipeline.Create<TestEvent>(new() { Name = "items" })
            .WithEventTime(e => e.Time)
            .SelectMany(e => Enumerable.Repeat(e, e.Value % 3).ToArray())
            .KeyBy(e => e.Key)
            .Window(Minute)
            .AllowedLateness(TimeSpan.FromSeconds(30))
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .To(new CollectingSink<WindowResult<int, (long, long)>>())
            .Build());

        Assert.All(outcomes, outcome => Assert.Equal(outcomes[0], outcome));
        Assert.Contains("LateUpdate", outcomes[0], StringComparison.Ordinal);
    }

    [Fact]
    public void ProcessorsOfOnePipeline_ShareItsSlot()
    {
        var pipeline = TestPipelines.CountAndSum(Minute);

        var slots = Enumerable.Range(0, 8).Select(_ => SlotOf(pipeline)).Distinct();

        Assert.Single(slots);
    }

    private static int SlotOf(StreamPipeline<TestEvent, int, (long Count, long Sum)> pipeline) => pipeline.CreateProcessor().ProfileSlot;

    /// <summary>
    /// Builds pipelines until every slot has one and returns the outcome of <see cref="Run"/> for each. Tests in other
    /// classes build pipelines at the same time and take slots too, hence the loop (four builds when nothing else runs).
    /// </summary>
    private static string[] InEverySlot(Func<StreamPipeline<TestEvent, int, (long Count, long Sum)>> build)
    {
        var bySlot = new Dictionary<int, StreamPipeline<TestEvent, int, (long Count, long Sum)>>();
        for (int built = 0; built < 1_000 && bySlot.Count < ProfileSlots.Count; built++)
        {
            var pipeline = build();
            bySlot.TryAdd(SlotOf(pipeline), pipeline);
        }

        Assert.Equal(Enumerable.Range(0, ProfileSlots.Count), bySlot.Keys.Order());
        return [.. bySlot.Values.Select(Run)];
    }

    /// <summary>Results (with reasons), late records and dead letters of a run that has all three, as one string.</summary>
    private static string Run(StreamPipeline<TestEvent, int, (long Count, long Sum)> pipeline)
    {
        var driver = pipeline.Driver();
        driver.Push(new TestEvent(1, 10, 5), new TestEvent(2, 50, 7), new TestEvent(1, 61, 1), new TestEvent(1, 70, 2));
        driver.Push(new TestEvent(2, 40, 3), new TestEvent(1, 5, 4)); // within the lateness: late updates
        driver.Push(new TestEvent(1, 130, 1));
        driver.Push(new TestEvent(2, 20, 1)); // the first minute is purged: late
        driver.Complete();
        return string.Join(
            "; ",
            driver.Results.Select(r => $"{r.Id} {r.Value} {r.RecordCount} {r.Reason}")
                .Concat(driver.LateRecords.Select(l => $"late {l.Position} {l.EventTime:O}"))
                .Concat(driver.DeadLetters.Select(d => $"dead {d.Position} {d.Reason}")));
    }
}
