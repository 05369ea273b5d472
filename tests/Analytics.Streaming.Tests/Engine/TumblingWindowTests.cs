using Microsoft.Extensions.Time.Testing;
using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Engine;

public sealed class TumblingWindowTests
{
    private static readonly WindowSpec Minute = WindowSpec.Tumbling(TimeSpan.FromMinutes(1));

    [Fact]
    public void Process_EventsInTwoWindows_EmitsEachWindowWhenWatermarkPassesItsEnd()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();

        driver.Push(new TestEvent(1, 10, 5), new TestEvent(1, 50, 7), new TestEvent(1, 61, 1));

        var closed = Assert.Single(driver.Results);
        Assert.Equal(new TimeWindow(TestEvent.At(0), TestEvent.At(60)), closed.Window);
        Assert.Equal((2L, 12L), closed.Value);
        Assert.Equal(EmitReason.Closed, closed.Reason);
        Assert.Equal("test|1|0|60000", closed.Id);

        driver.Complete();
        Assert.Equal((1L, 1L), driver.Results[^1].Value);
    }

    [Fact]
    public void Process_RecordLaterThanAllowedLateness_GoesToLateOutputWithPosition()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();
        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 70, 1));

        driver.Push(new TestEvent(1, 20, 1));

        var late = Assert.Single(driver.LateRecords);
        Assert.Equal(new StreamPosition("0", SequenceNumber.FromInt64(3)), late.Position);
        Assert.Equal(TestEvent.At(20), late.EventTime);
        Assert.Equal(TestEvent.At(70), late.Watermark);
        Assert.Equal((1L, 1L), driver.Results.Single().Value);
    }

    [Fact]
    public void Process_RecordWithinAllowedLateness_ReemitsWindowWithSameIdentity()
    {
        var driver = TestPipelines.CountAndSum(Minute, lateness: TimeSpan.FromSeconds(30)).Driver();
        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 70, 1));

        driver.Push(new TestEvent(1, 20, 4));

        Assert.Empty(driver.LateRecords);
        Assert.Equal(2, driver.Results.Count);
        Assert.Equal(driver.Results[0].Id, driver.Results[1].Id);
        Assert.Equal(EmitReason.LateUpdate, driver.Results[1].Reason);
        Assert.Equal((2L, 5L), driver.Results[1].Value);
    }

    [Fact]
    public void Process_AfterLatenessExpires_RecordIsLate()
    {
        var driver = TestPipelines.CountAndSum(Minute, lateness: TimeSpan.FromSeconds(30)).Driver();
        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 95, 1));

        driver.Push(new TestEvent(1, 20, 4));

        Assert.Single(driver.LateRecords);
    }

    [Fact]
    public void Process_NullKey_GoesToDeadLettersAndStreamGoesOn()
    {
        var pipeline = StreamPipeline.Create<(string? Page, DateTimeOffset Time)>(new() { Name = "pages" })
            .WithEventTime(e => e.Time)
            .KeyBy(e => e.Page)
            .Window(Minute)
            .Aggregate(a => a.Count())
            .To(new CollectingSink<WindowResult<string, long>>())
            .Build();
        var driver = new PipelineTestDriver<(string? Page, DateTimeOffset Time), string, long>(pipeline);

        driver.Push((null, TestEvent.At(1)), ("home", TestEvent.At(2)));
        driver.Complete();

        var deadLetter = Assert.Single(driver.DeadLetters);
        Assert.Equal(DeadLetterReason.NullKey, deadLetter.Reason);
        Assert.Equal(SequenceNumber.FromInt64(1), deadLetter.Position.Sequence);
        Assert.Equal(1L, Assert.Single(driver.Results).Value);
    }

    [Fact]
    public void Process_TimestampOutsideSupportedRange_GoesToDeadLetters()
    {
        var pipeline = StreamPipeline.Create<DateTimeOffset>()
            .WithEventTime(t => t)
            .Window(Minute)
            .Aggregate(a => a.Count())
            .To(new CollectingSink<WindowResult<GlobalKey, long>>())
            .Build();
        var driver = new PipelineTestDriver<DateTimeOffset, GlobalKey, long>(pipeline);

        driver.Push(default(DateTimeOffset), DateTimeOffset.MaxValue, TestEvent.At(5));
        driver.Complete();

        Assert.Equal(2, driver.DeadLetters.Count);
        Assert.All(driver.DeadLetters, d => Assert.Equal(DeadLetterReason.InvalidEventTime, d.Reason));
        Assert.Contains("outside the supported range", driver.DeadLetters[0].Message, StringComparison.Ordinal);
        Assert.Equal(1L, Assert.Single(driver.Results).Value);
    }

    [Fact]
    public void Process_EventFarAheadOfClock_GoesToDeadLettersWhenLimitIsSet()
    {
        var time = new FakeTimeProvider(TestEvent.At(0));
        var pipeline = TestPipelines.CountAndSum(Minute, options: new() { Name = "test", MaxEventTimeAhead = TimeSpan.FromHours(1) });
        var driver = new PipelineTestDriver<TestEvent, int, (long, long)>(pipeline, time);

        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 86_400, 1));

        var deadLetter = Assert.Single(driver.DeadLetters);
        Assert.Contains("ahead of the clock", deadLetter.Message, StringComparison.Ordinal);
        Assert.Equal(TestEvent.At(10), driver.Watermark);
    }

    [Fact]
    public void Process_BatchCarryingDeadLetters_ForwardsThem()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();
        var bad = new DeadLetter(new StreamPosition("0", SequenceNumber.FromInt64(1)), DeadLetterReason.DecodeFailed, "not JSON");

        driver.Push(new RecordBatch<TestEvent>("0", new[] { new StreamRecord<TestEvent>(new TestEvent(1, 1, 1), SequenceNumber.FromInt64(2)) }, [bad]));

        Assert.Same(bad, Assert.Single(driver.DeadLetters));
    }

    [Fact]
    public void Emit_OnUpdate_EmitsEarlyResultAfterEachBatchThenClosed()
    {
        var driver = TestPipelines.CountAndSum(Minute, mode: EmitMode.OnUpdate).Driver();

        driver.Push(new TestEvent(1, 1, 1));
        driver.Push(new TestEvent(1, 2, 1));
        driver.Complete();

        Assert.Equal([EmitReason.Update, EmitReason.Update, EmitReason.Closed], driver.Results.Select(r => r.Reason));
        Assert.Equal([1L, 2L, 2L], driver.Results.Select(r => r.Value.Count));
    }

    [Fact]
    public void Emit_OnUpdate_RunsOfOneKeyAndWindowInABatch_EachChangedWindowOnceWithAllItsRecords()
    {
        // The watermark stays ten minutes behind, so no window closes: every result is an update.
        var driver = TestPipelines.CountAndSum(Minute, outOfOrderness: TimeSpan.FromMinutes(10), mode: EmitMode.OnUpdate).Driver();

        // Runs of one key and window, broken by another key and by the next window; the last record returns to the first run's window.
        driver.Push(new TestEvent(1, 1, 1), new TestEvent(1, 2, 2), new TestEvent(1, 3, 3), new TestEvent(2, 4, 10), new TestEvent(2, 5, 20), new TestEvent(1, 61, 5), new TestEvent(1, 62, 6), new TestEvent(1, 7, 4));

        Assert.All(driver.Results, r => Assert.Equal(EmitReason.Update, r.Reason));
        Assert.Equal(
            [(1, 0L, (4L, 10L), 4L), (1, 60L, (2L, 11L), 2L), (2, 0L, (2L, 30L), 2L)],
            driver.Results.Select(r => (r.Key, (long)(r.Window.Start - TestEvent.Epoch).TotalSeconds, r.Value, r.RecordCount)).Order());

        driver.Push(new TestEvent(1, 8, 1), new TestEvent(1, 9, 1));

        var update = Assert.Single(driver.Results.Skip(3));
        Assert.Equal((1, EmitReason.Update, (6L, 12L), 6L), (update.Key, update.Reason, update.Value, update.RecordCount));
    }

    [Fact]
    public void Process_ARunOfRecordsWithinAllowedLateness_ReemitsTheirWindowOnceWithAllOfThem()
    {
        var driver = TestPipelines.CountAndSum(Minute, lateness: TimeSpan.FromSeconds(30)).Driver();
        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 70, 1));

        driver.Push(new TestEvent(1, 20, 2), new TestEvent(1, 21, 3), new TestEvent(1, 22, 4));

        Assert.Equal(2, driver.Results.Count);
        Assert.Equal(driver.Results[0].Id, driver.Results[1].Id);
        Assert.Equal((EmitReason.LateUpdate, (4L, 10L), 4L), (driver.Results[1].Reason, driver.Results[1].Value, driver.Results[1].RecordCount));
    }

    [Fact]
    public void Window_WithoutKey_AggregatesAllEventsUnderGlobalKey()
    {
        var pipeline = StreamPipeline.Create<TestEvent>()
            .WithEventTime(e => e.Time)
            .Window(Minute)
            .Aggregate(a => a.Sum(e => (double)e.Value))
            .To(new CollectingSink<WindowResult<GlobalKey, double>>())
            .Build();
        var driver = new PipelineTestDriver<TestEvent, GlobalKey, double>(pipeline);

        driver.Push(new TestEvent(1, 1, 2), new TestEvent(2, 3, 3));
        driver.Complete();

        var result = Assert.Single(driver.Results);
        Assert.Equal(5.0, result.Value);
        Assert.Equal("pipeline|*|0|60000", result.Id);
    }

    [Fact]
    public void Tumbling_WithOffset_ShiftsBoundaries()
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Tumbling(TimeSpan.FromMinutes(1), offset: TimeSpan.FromSeconds(15))).Driver();

        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 20, 1));
        driver.Complete();

        Assert.Equal([new TimeWindow(TestEvent.At(-45), TestEvent.At(15)), new TimeWindow(TestEvent.At(15), TestEvent.At(75))], driver.Results.Select(r => r.Window));
    }

    [Fact]
    public void Id_PartitionResult_IncludesThePartitionSoPartialsOfShardsDoNotCollide()
    {
        var whole = new WindowResult<string, long>("p", "/home", new TimeWindow(TestEvent.At(0), TestEvent.At(60)), 3);
        var partial = whole with { Partition = "shardId-000000000001" };

        Assert.Equal("p|/home|0|60000", whole.Id);
        Assert.Equal("p|shardId-000000000001|/home|0|60000", partial.Id);
    }
}
