using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Engine;

public sealed class SlidingAndSessionWindowTests
{
    [Fact]
    public void Sliding_EventBelongsToEveryOverlappingWindow()
    {
        var driver = TestPipelines.CountAndSum(Windows.Sliding(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10))).Driver();

        driver.Push(new TestEvent(1, 25, 1));
        driver.Complete();

        Assert.Equal(
            [(0L, 30L), (10L, 40L), (20L, 50L)],
            driver.Results.Select(r => ((long)(r.Window.Start - TestEvent.Epoch).TotalSeconds, (long)(r.Window.End - TestEvent.Epoch).TotalSeconds)));
        Assert.All(driver.Results, r => Assert.Equal((1L, 1L), r.Value));
    }

    [Fact]
    public void Session_EventsCloserThanGap_ShareOneSessionAndExactGapSplits()
    {
        var driver = TestPipelines.CountAndSum(Windows.Session(TimeSpan.FromSeconds(10))).Driver();

        driver.Push(new TestEvent(1, 0, 1), new TestEvent(1, 5, 1), new TestEvent(1, 14, 1), new TestEvent(1, 23, 1));
        driver.Complete();

        Assert.Equal(
            [new TimeWindow(TestEvent.At(0), TestEvent.At(33))],
            driver.Results.Select(r => r.Window));
        var split = TestPipelines.CountAndSum(Windows.Session(TimeSpan.FromSeconds(10))).Driver();
        split.Push(new TestEvent(1, 0, 1), new TestEvent(1, 10, 1));
        split.Complete();
        Assert.Equal(2, split.Results.Count);
    }

    [Fact]
    public void Session_BridgingEvent_MergesTwoSessions()
    {
        var driver = TestPipelines.CountAndSum(Windows.Session(TimeSpan.FromSeconds(10)), outOfOrderness: TimeSpan.FromMinutes(5)).Driver();

        driver.Push(new TestEvent(1, 0, 1), new TestEvent(1, 18, 2));
        driver.Push(new TestEvent(1, 9, 4));
        driver.Complete();

        var session = Assert.Single(driver.Results);
        Assert.Equal(new TimeWindow(TestEvent.At(0), TestEvent.At(28)), session.Window);
        Assert.Equal((3L, 7L), session.Value);
    }

    [Fact]
    public void Session_LateEventExtendsEmittedSession_ReplacesOldExtent()
    {
        var driver = TestPipelines.CountAndSum(Windows.Session(TimeSpan.FromSeconds(10)), lateness: TimeSpan.FromMinutes(2)).Driver();
        driver.Push(new TestEvent(1, 0, 1), new TestEvent(1, 100, 1));

        driver.Push(new TestEvent(1, 8, 1));

        var update = driver.Results[^1];
        Assert.Equal(EmitReason.LateUpdate, update.Reason);
        Assert.Equal(new TimeWindow(TestEvent.At(0), TestEvent.At(18)), update.Window);
        Assert.Equal([new TimeWindow(TestEvent.At(0), TestEvent.At(10))], update.Replaces);
        Assert.DoesNotContain(driver.LatestResults.Values, r => r.Window.End == TestEvent.At(10));
    }
}
