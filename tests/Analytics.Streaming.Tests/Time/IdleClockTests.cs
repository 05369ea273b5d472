using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Time;

public sealed class IdleClockTests
{
    [Fact]
    public void Now_WaitsShorterThanASecond_AreThePipelinesPaceAndStillCount()
    {
        // A pipeline slower than its source: its reader waits for room 900 ms of every second for a minute. A partition
        // without records must still turn idle after the idle timeout, so none of that time is left out.
        var time = new FakeTimeProvider();
        var clock = new IdleClock(time);
        long start = time.GetUtcNow().UtcTicks;
        for (int i = 0; i < 60; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            var waiting = clock.Begin();
            time.Advance(TimeSpan.FromMilliseconds(900));
            IdleClock.End(waiting);
        }

        Assert.Equal(TimeSpan.FromMinutes(1), TimeSpan.FromTicks(clock.Now() - start));
    }

    [Fact]
    public void Now_AStall_IsLeftOutBeyondItsFirstSecond_WhileItLastsAndAfter()
    {
        var time = new FakeTimeProvider();
        var clock = new IdleClock(time);
        long start = time.GetUtcNow().UtcTicks;
        var waiting = clock.Begin();
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(TimeSpan.FromSeconds(1), TimeSpan.FromTicks(clock.Now() - start));

        IdleClock.End(waiting);
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(TimeSpan.FromSeconds(11), TimeSpan.FromTicks(clock.Now() - start));
    }

    [Fact]
    public void Now_LinkedClocks_StallTogetherAndCountOverlappingStallsOnce()
    {
        var time = new FakeTimeProvider();
        var first = new IdleClock(time);
        var second = new IdleClock(time);
        IdleClock.Link([first, second]);
        long start = time.GetUtcNow().UtcTicks;

        var one = first.Begin();
        time.Advance(TimeSpan.FromSeconds(20));
        var other = second.Begin();
        time.Advance(TimeSpan.FromSeconds(20));
        IdleClock.End(one);
        time.Advance(TimeSpan.FromSeconds(20));
        IdleClock.End(other);
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(6), TimeSpan.FromTicks(first.Now() - start));
        Assert.Equal(TimeSpan.FromSeconds(6), TimeSpan.FromTicks(second.Now() - start));
        Assert.False(first.IsStalled);
    }
}
