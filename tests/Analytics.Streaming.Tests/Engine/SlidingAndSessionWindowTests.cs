using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Engine;

public sealed class SlidingAndSessionWindowTests
{
    [Fact]
    public void Sliding_EventBelongsToEveryOverlappingWindow()
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Sliding(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10))).Driver();

        driver.Push(new TestEvent(1, 25, 1));
        driver.Complete();

        Assert.Equal(
            [(0L, 30L), (10L, 40L), (20L, 50L)],
            driver.Results.Select(r => ((long)(r.Window.Start - TestEvent.Epoch).TotalSeconds, (long)(r.Window.End - TestEvent.Epoch).TotalSeconds)));
        Assert.All(driver.Results, r => Assert.Equal((1L, 1L), r.Value));
    }

    [Theory]
    [InlineData(10, 4, 3, EmitMode.OnClose)]
    [InlineData(10, 4, 3, EmitMode.OnUpdate)]
    [InlineData(30, 10, 7, EmitMode.OnClose)]
    [InlineData(12, 8, 0, EmitMode.OnClose)]
    [InlineData(9, 9, 4, EmitMode.OnUpdate)]
    public void Sliding_WithOffsetAndASlideThatNeedNotDivideTheSize_EveryWindowHoldsExactlyItsEvents(int size, int slide, int offset, EmitMode mode)
    {
        // Windows start at offset + k * slide and last size seconds; the engine counts in slices of gcd(size, slide).
        var driver = TestPipelines.CountAndSum(
            WindowSpec.Sliding(TimeSpan.FromSeconds(size), TimeSpan.FromSeconds(slide), TimeSpan.FromSeconds(offset)),
            outOfOrderness: TimeSpan.FromSeconds(5),
            mode: mode).Driver();
        TestEvent[][] batches =
        [
            [new(1, 101, 1), new(2, 103, 2), new(1, 99, 4)],
            [new(1, 107, 8), new(1, 112, 16), new(2, 104, 32)],
            [new(2, 131, 64), new(1, 118, 128), new(1, 140, 256)],
        ];
        foreach (var batch in batches)
        {
            driver.Push(batch);
        }

        driver.Complete();

        var events = batches.SelectMany(b => b).ToArray();
        var expected = new SortedDictionary<(int Key, long Start), (long Count, long Sum)>();
        foreach (var e in events)
        {
            // Every window start s on the grid with s <= t < s + size.
            long first = offset + (long)Math.Ceiling((e.Seconds - size + 1 - offset) / (double)slide) * slide;
            for (long start = first; start <= e.Seconds; start += slide)
            {
                var (count, sum) = expected.GetValueOrDefault((e.Key, start));
                expected[(e.Key, start)] = (count + 1, sum + e.Value);
            }
        }

        // The last emission of each window is its final value; under OnClose each window is emitted once.
        var final = new SortedDictionary<(int Key, long Start), (long Count, long Sum)>();
        foreach (var r in driver.Results)
        {
            long start = (long)(r.Window.Start - TestEvent.Epoch).TotalSeconds;
            Assert.Equal(size, (r.Window.End - r.Window.Start).TotalSeconds);
            Assert.True(mode == EmitMode.OnUpdate || !final.ContainsKey((r.Key, start)), $"window {r.Window} of key {r.Key} emitted twice");
            final[(r.Key, start)] = r.Value;
        }

        Assert.Equal(expected, final);
        Assert.Empty(driver.LateRecords);
    }

    [Fact]
    public void Session_EventsCloserThanGap_ShareOneSessionAndExactGapSplits()
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Session(TimeSpan.FromSeconds(10))).Driver();

        driver.Push(new TestEvent(1, 100, 1), new TestEvent(1, 105, 1), new TestEvent(1, 114, 1), new TestEvent(1, 123, 1));
        driver.Complete();

        Assert.Equal(
            [new TimeWindow(TestEvent.At(100), TestEvent.At(133))],
            driver.Results.Select(r => r.Window));
        var split = TestPipelines.CountAndSum(WindowSpec.Session(TimeSpan.FromSeconds(10))).Driver();
        split.Push(new TestEvent(1, 100, 1), new TestEvent(1, 110, 1));
        split.Complete();
        Assert.Equal(2, split.Results.Count);
    }

    [Fact]
    public void Session_BridgingEvent_MergesTwoSessions()
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Session(TimeSpan.FromSeconds(10)), outOfOrderness: TimeSpan.FromMinutes(5)).Driver();

        driver.Push(new TestEvent(1, 100, 1), new TestEvent(1, 118, 2));
        driver.Push(new TestEvent(1, 109, 4));
        driver.Complete();

        var session = Assert.Single(driver.Results);
        Assert.Equal(new TimeWindow(TestEvent.At(100), TestEvent.At(128)), session.Window);
        Assert.Equal((3L, 7L), session.Value);
    }

    [Fact]
    public void Session_LateEventExtendsEmittedSession_NewExtentIsClosedAndReplacesOldOne()
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Session(TimeSpan.FromSeconds(10)), lateness: TimeSpan.FromMinutes(2)).Driver();
        driver.Push(new TestEvent(1, 100, 1), new TestEvent(1, 200, 1));

        driver.Push(new TestEvent(1, 108, 1));

        var update = driver.Results[^1];
        Assert.Equal(EmitReason.Closed, update.Reason);
        Assert.Equal(new TimeWindow(TestEvent.At(100), TestEvent.At(118)), update.Window);
        Assert.Equal([new TimeWindow(TestEvent.At(100), TestEvent.At(110))], update.Replaces);
        Assert.Equal(2, update.RecordCount);
        Assert.DoesNotContain(driver.LatestResults.Values, r => r.Window.End == TestEvent.At(110));
    }

    [Fact]
    public void Session_RecordInsideEmittedExtent_IsALateUpdateOfTheSameWindow()
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Session(TimeSpan.FromSeconds(10)), lateness: TimeSpan.FromMinutes(2)).Driver();
        driver.Push(new TestEvent(1, 100, 1), new TestEvent(1, 105, 1), new TestEvent(1, 200, 1));

        driver.Push(new TestEvent(1, 103, 1));

        var update = driver.Results[^1];
        Assert.Equal(EmitReason.LateUpdate, update.Reason);
        Assert.Equal(new TimeWindow(TestEvent.At(100), TestEvent.At(115)), update.Window);
        Assert.Null(update.Replaces);
        Assert.Equal((3L, 3L), update.Value);
    }

    [Fact]
    public void Session_ExtendedPastTheWatermarkWithinLateness_IsEmittedWhenTheWatermarkPassesItsNewEnd()
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Session(TimeSpan.FromSeconds(10)), lateness: TimeSpan.FromMinutes(10)).Driver();
        driver.Push(new TestEvent(1, 100, 1), new TestEvent(2, 112, 1));
        Assert.Single(driver.Results);

        // Joins [100, 110) (it overlaps it) and extends it to 119, past the watermark (112).
        driver.Push(new TestEvent(1, 109, 1));
        Assert.Single(driver.Results);
        driver.Push(new TestEvent(2, 119, 1));

        var extended = Assert.Single(driver.Results, r => r.Key == 1 && r.Window.End == TestEvent.At(119));
        Assert.Equal(EmitReason.Closed, extended.Reason);
        Assert.Equal(2, extended.Value.Count);
    }
}
