namespace Analytics.Streaming.Testing.Tests;

public sealed class PipelineTestDriverTests
{
    private sealed record Reading(string Machine, DateTimeOffset Time, double Temperature);

    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static PipelineTestDriver<Reading, string, double> Driver(TimeSpan lateness = default)
        => new(StreamPipeline.Create<Reading>(new() { Name = "temps" })
            .WithEventTime(r => r.Time)
            .KeyBy(r => r.Machine)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .AllowedLateness(lateness)
            .Aggregate(a => a.Max(r => r.Temperature))
            .To(new CollectingSink<WindowResult<string, double>>())
            .Build());

    [Fact]
    public void Push_NumbersRecordsPerPartition()
    {
        var driver = Driver();

        driver.Push("a", new Reading("m1", T0, 1));
        driver.Push("a", new Reading("m1", T0.AddMinutes(2), 1));
        driver.Push("a", new Reading("m1", T0, 1));

        Assert.Equal(new StreamPosition("a", SequenceNumber.FromInt64(3)), driver.LateRecords.Single().Position);
    }

    [Fact]
    public void AdvanceWatermark_ClosesWindowsWithoutNewRecords()
    {
        var driver = Driver();
        driver.Push(new Reading("m1", T0.AddSeconds(5), 20), new Reading("m1", T0.AddSeconds(6), 25));

        driver.AdvanceWatermark(T0.AddMinutes(1));

        var result = Assert.Single(driver.Results);
        Assert.Equal(25, result.Value);
        Assert.Equal("m1", result.Key);
        Assert.Equal(T0.AddMinutes(1), driver.Watermark);
    }

    [Fact]
    public void LatestResults_KeepsNewestValuePerIdentity()
    {
        var driver = Driver(lateness: TimeSpan.FromMinutes(5));
        driver.Push(new Reading("m1", T0, 20), new Reading("m1", T0.AddMinutes(2), 1));
        driver.Push(new Reading("m1", T0.AddSeconds(1), 30));

        Assert.Equal([EmitReason.Closed, EmitReason.LateUpdate], driver.Results.Select(r => r.Reason));
        Assert.Equal(30, driver.LatestResults.Values.Single(r => r.Window.Start == T0).Value);
    }

    [Fact]
    public void Complete_EmitsEveryOpenWindowAndCheckpointsAll()
    {
        var driver = Driver();
        driver.Push(new Reading("m1", T0, 20), new Reading("m2", T0.AddMinutes(3), 21));

        driver.Complete();

        Assert.Equal(2, driver.Results.Count);
        var checkpoint = driver.CreateCheckpoint();
        Assert.Equal(SequenceNumber.FromInt64(2), checkpoint.FindPartition("0")!.ResumeAfter!.Value.Sequence);
        Assert.Equal(DateTimeOffset.MaxValue, checkpoint.Watermark);
    }

    [Fact]
    public void CreateCheckpoint_NewDriverFromIt_ContinuesTheOpenWindow()
    {
        var first = Driver();
        first.Push(new Reading("m1", T0, 20));
        var checkpoint = first.CreateCheckpoint();

        var second = new PipelineTestDriver<Reading, string, double>(
            StreamPipeline.Create<Reading>(new() { Name = "temps" }).WithEventTime(r => r.Time).KeyBy(r => r.Machine)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))).Aggregate(a => a.Max(r => r.Temperature))
                .To(new CollectingSink<WindowResult<string, double>>()).Build(),
            first.Time,
            checkpoint);
        second.Push(new Reading("m1", T0.AddSeconds(30), 18));
        second.Complete();

        var result = Assert.Single(second.Results);
        Assert.Equal(20, result.Value);
        Assert.Equal(2, result.RecordCount);
        Assert.Equal(1, second.LastReceipt.Accepted);
    }
}
