using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Kinesis.Tests.Consumer;

public sealed class ShardReadLimiterTests
{
    [Fact]
    public void DelayBeforeNextCall_BeforeAnyCall_IsZero()
    {
        var limiter = new ShardReadLimiter(5, 2 * 1024 * 1024, new FakeTimeProvider());

        Assert.Equal(TimeSpan.Zero, limiter.DelayBeforeNextCall);
    }

    [Fact]
    public void DelayBeforeNextCall_SmallResponse_SpacesCallsByOneFifthSecond()
    {
        var clock = new FakeTimeProvider();
        var limiter = new ShardReadLimiter(5, 2 * 1024 * 1024, clock);

        limiter.OnCallStarting();
        limiter.OnResponse(1000);
        clock.Advance(TimeSpan.FromMilliseconds(50));

        Assert.Equal(TimeSpan.FromMilliseconds(150), limiter.DelayBeforeNextCall);
        clock.Advance(TimeSpan.FromMilliseconds(150));
        Assert.Equal(TimeSpan.Zero, limiter.DelayBeforeNextCall);
    }

    [Fact]
    public void DelayBeforeNextCall_FourMebibytesRead_WaitsTwoSecondsAtTwoMebibytesPerSecond()
    {
        var clock = new FakeTimeProvider();
        var limiter = new ShardReadLimiter(5, 2 * 1024 * 1024, clock);

        limiter.OnCallStarting();
        limiter.OnResponse(4 * 1024 * 1024);
        clock.Advance(TimeSpan.FromMilliseconds(500));

        Assert.Equal(TimeSpan.FromMilliseconds(1500), limiter.DelayBeforeNextCall);
    }

    [Fact]
    public void DelayBeforeNextCall_OneCallPerSecond_SpacesCallsByOneSecond()
    {
        var clock = new FakeTimeProvider();
        var limiter = new ShardReadLimiter(1, 2 * 1024 * 1024, clock);

        limiter.OnCallStarting();
        limiter.OnResponse(0);

        Assert.Equal(TimeSpan.FromSeconds(1), limiter.DelayBeforeNextCall);
    }
}
