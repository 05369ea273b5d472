using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Engine;

public sealed class WatermarkAndCheckpointTests
{
    private static readonly WindowSpec Minute = WindowSpec.Tumbling(TimeSpan.FromMinutes(1));

    [Fact]
    public void Watermark_SlowPartition_HoldsItBack()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();

        driver.Push("a", new TestEvent(1, 10, 1));
        driver.Push("b", new TestEvent(1, 200, 1));

        Assert.Equal(TestEvent.At(10), driver.Watermark);
        Assert.Empty(driver.Results);
    }

    [Fact]
    public void Watermark_AnnouncedPartitionThatHasNotDelivered_HoldsItBackUntilIdle()
    {
        var driver = TestPipelines.CountAndSum(Minute, idleTimeout: TimeSpan.FromSeconds(30)).Driver();
        driver.Announce("a", "b");

        driver.Push("a", Enumerable.Range(1, 60).Select(s => new TestEvent(1, s, 1)).ToArray());
        Assert.Equal(DateTimeOffset.MinValue, driver.Watermark);
        driver.Push("b", new TestEvent(1, 1, 1));
        Assert.Empty(driver.LateRecords);
        Assert.Equal(TestEvent.At(1), driver.Watermark);

        driver.AdvanceTime(TimeSpan.FromSeconds(30));
        Assert.Equal(TestEvent.At(60), driver.Watermark);
    }

    [Fact]
    public void Watermark_TwoPartitionsWithTheSameBacklog_NothingIsLateWhicheverDeliversFirst()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();
        driver.Announce("a", "b");
        var events = Enumerable.Range(0, 60).Select(s => new TestEvent(1, s + 1, 1)).ToArray();

        driver.Push("a", events);
        driver.Push("b", events);
        driver.Complete();

        Assert.Empty(driver.LateRecords);
        Assert.Equal(120, driver.LatestResults.Values.Sum(r => r.Value.Count));
    }

    [Fact]
    public void Watermark_IdlePartition_StopsHoldingItBackAfterTimeout()
    {
        var driver = TestPipelines.CountAndSum(Minute, idleTimeout: TimeSpan.FromSeconds(30)).Driver();
        driver.Push("a", new TestEvent(1, 10, 1));
        driver.Push("b", new TestEvent(1, 200, 1));

        driver.AdvanceTime(TimeSpan.FromSeconds(31));
        driver.Push("b", new TestEvent(1, 201, 1));

        Assert.Equal(TestEvent.At(201), driver.Watermark);
        Assert.Contains(driver.Results, r => r.Window.Start == TestEvent.At(0));
    }

    [Fact]
    public void Watermark_IdlePartitionDeliveringOnlyLateRecords_HoldsItAgain()
    {
        var driver = TestPipelines.CountAndSum(Minute, idleTimeout: TimeSpan.FromSeconds(30)).Driver();
        driver.Push("a", new TestEvent(1, 10, 1));
        driver.Push("b", new TestEvent(1, 100, 1));
        driver.AdvanceTime(TimeSpan.FromSeconds(31));
        driver.Push("b", new TestEvent(1, 130, 1));
        Assert.Equal(TestEvent.At(130), driver.Watermark);

        var receipt = driver.Push("a", new TestEvent(1, 11, 1));
        Assert.Equal(1, receipt.Late);
        driver.Push("b", new TestEvent(1, 190, 1));

        Assert.Equal(TestEvent.At(130), driver.Watermark);
    }

    [Theory]
    [InlineData(300, 0)]
    [InlineData(31, 0)]
    [InlineData(29, 1)]
    [InlineData(0, 1)]
    [InlineData(null, 1)]
    public void Watermark_PartitionReadingEmptyBatchesWhileBehindItsNewestRecord_IsNotIdle(int? behindSeconds, int late)
    {
        // b's reader gets empty pages for a minute (a Kinesis shard read from an old position through a stretch without
        // records reports how far it is behind the newest one), while a moves on. Further behind than the idle timeout,
        // b's records may still be coming and it holds the watermark; closer than that (or lag unknown), it is idle
        // after 30 s and its next record is late.
        var driver = TestPipelines.CountAndSum(Minute, idleTimeout: TimeSpan.FromSeconds(30)).Driver();
        driver.Push("a", new TestEvent(1, 10, 1));
        driver.Push("b", new TestEvent(1, 5, 1));
        var lag = behindSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        for (int i = 0; i < 6; i++)
        {
            driver.AdvanceTime(TimeSpan.FromSeconds(10));
            driver.Push(new RecordBatch<TestEvent>("b", ReadOnlyMemory<StreamRecord<TestEvent>>.Empty, behindLatest: lag));
            driver.Push("a", new TestEvent(1, 70 + i, 1));
        }

        var receipt = driver.Push("b", new TestEvent(1, 20, 1));

        Assert.Equal(late, receipt.Late);
    }

    [Theory]
    [InlineData(WindowStateMode.Always)]
    [InlineData(WindowStateMode.Never)]
    public void Watermark_PartitionReplayingLongerThanTheIdleTimeout_IsNotIdleAndItsNewRecordsAreNotLate(WindowStateMode state)
    {
        // After a restart a partition may deliver replays for a long time: the pipeline behind in a fan-out sets where
        // the source resumes, and a pipeline without window state resumes before its open windows. Meanwhile another
        // partition delivers new records. The replaying partition must keep holding the watermark back.
        var pipeline = TestPipelines.CountAndSum(Minute, idleTimeout: TimeSpan.FromSeconds(30), options: new() { Name = "replaying", WindowState = state });
        var first = pipeline.Driver();
        first.Push("a", new TestEvent(1, 5, 1), new TestEvent(1, 8, 1));
        first.Push("b", new TestEvent(1, 3, 1), new TestEvent(1, 4, 1), new TestEvent(1, 6, 1));
        var checkpoint = first.CreateCheckpoint();

        var second = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline, new FakeTimeProvider(first.Time.GetUtcNow()), checkpoint);
        second.Push(Replay("a", (1, 5), (2, 8)));
        foreach (var (sequence, seconds) in new[] { (1, 3), (2, 4), (3, 6) })
        {
            // b's records read again one batch at a time, 20 s apart: a minute of replays in all.
            second.Push(Replay("b", (sequence, seconds)));
            second.AdvanceTime(TimeSpan.FromSeconds(20));
        }

        second.Push("a", new TestEvent(1, 70, 1));
        Assert.Empty(second.Results);
        second.Push("b", new TestEvent(1, 9, 1), new TestEvent(1, 71, 1));
        second.Complete();

        Assert.Empty(second.LateRecords);
        Assert.Equal((6L, 6L), second.LatestResults.Values.Single(r => r.Window.Start == TestEvent.At(0)).Value);

        static RecordBatch<TestEvent> Replay(string partition, params (int Sequence, int Seconds)[] records)
            => new(partition, records.Select(r => new StreamRecord<TestEvent>(new TestEvent(1, r.Seconds, 1), SequenceNumber.FromInt64(r.Sequence))).ToArray());
    }

    [Fact]
    public void ProcessingTime_AdvanceTime_ClosesWindows()
    {
        var time = new FakeTimeProvider(TestEvent.At(1));
        var pipeline = StreamPipeline.Create<TestEvent>(new() { TimeProvider = time })
            .WithProcessingTime()
            .KeyBy(e => e.Key)
            .Window(Minute)
            .Aggregate(a => a.Count())
            .To(new CollectingSink<WindowResult<int, long>>())
            .Build();
        var driver = new PipelineTestDriver<TestEvent, int, long>(pipeline, time);

        driver.Push(new TestEvent(1, 9_999, 1), new TestEvent(1, -5, 1));
        Assert.Empty(driver.Results);
        driver.AdvanceTime(TimeSpan.FromMinutes(1));

        var result = Assert.Single(driver.Results);
        Assert.Equal(2, result.Value);
        Assert.Equal(TestEvent.At(0), result.Window.Start);
    }

    [Fact]
    public void Checkpoint_WithoutWindowState_ResumesBeforeTheFirstRecordOfAnOpenWindow()
    {
        var driver = TestPipelines.CountAndSum(Minute, options: new() { Name = "test", WindowState = WindowStateMode.Never }).Driver();

        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 20, 1));
        var first = driver.CreateCheckpoint().FindPartition("0")!;
        Assert.Null(first.ResumeAfter);
        Assert.Equal(SequenceNumber.FromInt64(2), first.ProcessedThrough!.Value.Sequence);

        driver.Push(new TestEvent(1, 61, 1));
        Assert.Equal(SequenceNumber.FromInt64(2), driver.CreateCheckpoint().FindPartition("0")!.ResumeAfter!.Value.Sequence);

        driver.Complete();
        Assert.Equal(SequenceNumber.FromInt64(3), driver.CreateCheckpoint().FindPartition("0")!.ResumeAfter!.Value.Sequence);
    }

    [Fact]
    public void Checkpoint_WithWindowState_ResumesAfterEverythingProcessed()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();

        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 20, 1));
        var checkpoint = driver.CreateCheckpoint();

        Assert.True(checkpoint.HasWindowState);
        Assert.Equal(SequenceNumber.FromInt64(2), checkpoint.FindPartition("0")!.ResumeAfter!.Value.Sequence);
    }

    [Fact]
    public void Checkpoint_EndOfPartition_IsFinished()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();

        driver.Push(new RecordBatch<TestEvent>("0", new[] { new StreamRecord<TestEvent>(new TestEvent(1, 1, 1), SequenceNumber.Parse("49590338271490256608559692538361571095921575989136588898")) }, isEndOfPartition: true));
        driver.Complete();

        var partition = driver.CreateCheckpoint().FindPartition("0")!;
        Assert.True(partition.IsFinished);
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", partition.ResumeAfter!.Value.Sequence.ToString());
    }
}
