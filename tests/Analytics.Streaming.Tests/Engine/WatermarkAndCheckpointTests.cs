using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Engine;

public sealed class WatermarkAndCheckpointTests
{
    private static readonly WindowSpec Minute = Windows.Tumbling(TimeSpan.FromMinutes(1));

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
    public void ProcessingTime_AdvanceTime_ClosesWindows()
    {
        var time = new ManualTimeProvider(TestEvent.At(0));
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
    public void SafeCheckpoints_OpenWindow_HoldsPositionBackUntilItCloses()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();

        driver.Push(new TestEvent(1, 10, 1), new TestEvent(1, 20, 1));
        Assert.Empty(driver.SafeCheckpoints);

        driver.Push(new TestEvent(1, 61, 1));
        Assert.Equal(SequenceNumber.FromInt64(2), driver.SafeCheckpoints["0"].Position.Sequence);

        driver.Complete();
        Assert.Equal(SequenceNumber.FromInt64(3), driver.SafeCheckpoints["0"].Position.Sequence);
    }

    [Fact]
    public void SafeCheckpoints_EndOfPartition_IsMarked()
    {
        var driver = TestPipelines.CountAndSum(Minute).Driver();

        driver.Push(new RecordBatch<TestEvent>("0", new[] { new StreamRecord<TestEvent>(new TestEvent(1, 1, 1), SequenceNumber.Parse("49590338271490256608559692538361571095921575989136588898")) }, isEndOfPartition: true));
        driver.Complete();

        var checkpoint = driver.SafeCheckpoints["0"];
        Assert.True(checkpoint.IsPartitionEnd);
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", checkpoint.Position.Sequence.ToString());
    }
}
