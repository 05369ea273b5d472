namespace Analytics.Streaming.Testing.Tests;

public sealed class ManualTimeProviderTests
{
    [Fact]
    public void Advance_PastPeriodicTimer_FiresOncePerPeriodInOrder()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var fired = new List<DateTimeOffset>();
        using var timer = time.CreateTimer(_ => fired.Add(time.GetUtcNow()), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        time.Advance(TimeSpan.FromSeconds(3.5));

        Assert.Equal([1, 2, 3], fired.Select(t => (t - DateTimeOffset.UnixEpoch).TotalSeconds));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(3.5), time.GetUtcNow());
    }

    [Fact]
    public void Dispose_Timer_StopsIt()
    {
        var time = new ManualTimeProvider();
        int fired = 0;
        var timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        timer.Dispose();
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(0, fired);
    }

    [Fact]
    public void SetUtcNow_Backwards_Throws()
    {
        var time = new ManualTimeProvider();

        Assert.Throws<ArgumentOutOfRangeException>(() => time.SetUtcNow(time.GetUtcNow().AddTicks(-1)));
    }

    [Fact]
    public async Task Delay_CompletesWhenClockPassesIt()
    {
        var time = new ManualTimeProvider();
        var delay = Task.Delay(TimeSpan.FromMinutes(1), time, TestContext.Current.CancellationToken);

        Assert.False(delay.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1));

        await delay.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }
}
