using Analytics.Streaming.Resilience;
using FsCheck;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Polly;

namespace Analytics.Streaming.Kinesis.Tests.Resilience;

public sealed class RetryPipelineFactoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RetryOptions Options(int maxAttempts = 20, int baseMs = 200, int maxMs = 20_000, int maxElapsedSeconds = 120) => new()
    {
        MaxAttempts = maxAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(baseMs),
        MaxDelay = TimeSpan.FromMilliseconds(maxMs),
        MaxElapsed = TimeSpan.FromSeconds(maxElapsedSeconds),
    };

    [Property(MaxTest = 300)]
    public bool Delay_AnyAttemptAndDraw_IsTheDrawTimesTheCappedExponentialCeiling(PositiveInt attempt, NormalFloat fraction)
    {
        double random = Math.Abs(fraction.Get) % 1.0;
        int failed = Math.Min(attempt.Get, 80);
        var delay = RetryPipelineFactory.Delay(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(20), failed, random);

        double ceilingMs = Math.Min(20_000, 200 * Math.Pow(2, Math.Min(failed - 1, 62)));
        return delay >= TimeSpan.Zero
            && delay.TotalMilliseconds <= ceilingMs
            && Math.Abs(delay.TotalMilliseconds - (random * ceilingMs)) < 0.001;
    }

    [Fact]
    public void Delay_UpperDraws_DoubleFromTheBaseUntilTheCap()
    {
        var ceilings = Enumerable.Range(1, 9).Select(n => RetryPipelineFactory.Delay(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(20), n, 1.0).TotalMilliseconds);

        Assert.Equal([200, 400, 800, 1600, 3200, 6400, 12_800, 20_000, 20_000], ceilings);
        Assert.Equal(TimeSpan.Zero, RetryPipelineFactory.Delay(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(20), 5, 0.0));
    }

    [Property(MaxTest = 50)]
    public bool Execute_AlwaysTransient_MakesExactlyMaxAttempts(byte draw)
    {
        int maxAttempts = 1 + (draw % 25);
        var pipeline = RetryPipelineFactory.Create(Options(maxAttempts), new FakeTimeProvider(), _ => true, random: () => 0.0);
        int calls = 0;

        var error = Assert.Throws<TimeoutException>(() => pipeline.Execute(() =>
        {
            calls++;
            throw new TimeoutException("transient " + calls);
        }));

        return calls == maxAttempts && error.Message == "transient " + maxAttempts;
    }

    [Fact]
    public async Task ExecuteAsync_NonTransientFailure_IsThrownAfterOneAttempt()
    {
        var pipeline = RetryPipelineFactory.Create(Options(), new FakeTimeProvider(), e => e is TimeoutException, random: () => 0.0);
        int calls = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw new InvalidOperationException("not transient");
        }, Ct));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ExecuteAsync_TransientThenSuccess_ReturnsTheResultAndReportsEachRetry()
    {
        var notices = new List<RetryNotice<object>>();
        var pipeline = RetryPipelineFactory.Create(Options(), new FakeTimeProvider(), _ => true, notices.Add, () => 0.0);
        int calls = 0;

        int result = await pipeline.ExecuteAsync(_ => ++calls < 3 ? throw new TimeoutException() : ValueTask.FromResult(calls), Ct);

        Assert.Equal(3, result);
        Assert.Equal([1, 2], notices.Select(n => n.FailedAttempt));
        Assert.All(notices, n => Assert.IsType<TimeoutException>(n.Outcome.Exception));
    }

    [Fact]
    public async Task ExecuteAsync_AttemptsTakingTenSeconds_NoAttemptStartsAfterMaxElapsed()
    {
        var clock = new FakeTimeProvider();
        var pipeline = RetryPipelineFactory.Create(Options(maxAttempts: 100, maxElapsedSeconds: 120), clock, _ => true, random: () => 0.0);
        var starts = new List<TimeSpan>();
        var origin = clock.GetTimestamp();

        await Assert.ThrowsAsync<TimeoutException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            starts.Add(clock.GetElapsedTime(origin));
            clock.Advance(TimeSpan.FromSeconds(10));
            throw new TimeoutException();
        }, Ct));

        Assert.Equal(12, starts.Count);
        Assert.All(starts, start => Assert.True(start < TimeSpan.FromSeconds(120)));
    }

    [Fact]
    public async Task ExecuteAsync_WaitsOnTheClock_EachWaitFullJitterAndTheLastCutToTheElapsedBudget()
    {
        var clock = new TimerSignallingClock();
        var notices = new List<RetryNotice<object>>();
        var pipeline = RetryPipelineFactory.Create(Options(maxAttempts: 20, baseMs: 10_000, maxMs: 40_000, maxElapsedSeconds: 60), clock, _ => true, notices.Add, () => 0.75);
        var origin = clock.GetTimestamp();
        var starts = new List<TimeSpan>();

        var run = pipeline.ExecuteAsync(_ =>
        {
            starts.Add(clock.GetElapsedTime(origin));
            throw new TimeoutException();
        }, Ct).AsTask();

        // Each wait is a timer on the fake clock: nothing happens until the test moves the clock by the wait.
        while (!run.IsCompleted)
        {
            if (await clock.TimerCreated.WaitAsync(TimeSpan.FromMilliseconds(50), Ct))
            {
                Assert.False(run.IsCompleted);
                clock.Advance(notices[^1].Delay);
            }
        }

        await Assert.ThrowsAsync<TimeoutException>(() => run);

        // Waits are 0.75 of the ceilings 10 s, 20 s, 40 s, 40 s: the fourth (30 s from 52.5 s) would end after the
        // 60 s budget and is cut to end at 60 s; the attempt failing there is the last.
        Assert.Equal([7.5, 15, 30, 7.5], notices.Select(n => n.Delay.TotalSeconds));
        Assert.Equal([0, 7.5, 22.5, 52.5, 60], starts.Select(s => s.TotalSeconds));
    }

    [Fact]
    public async Task ExecuteAsync_CancelledByTheCaller_IsNotRetried()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pipeline = RetryPipelineFactory.Create(Options(), new FakeTimeProvider(), _ => true, random: () => 0.0);
        int calls = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pipeline.ExecuteAsync(token =>
        {
            calls++;
            cancel.Cancel();
            token.ThrowIfCancellationRequested();
            return ValueTask.CompletedTask;
        }, cancel.Token));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ExecuteAsync_ResultClassifiedTransient_RetriesUntilTheResultIsDoneOrAttemptsRunOut()
    {
        var pipeline = RetryPipelineFactory.Create<int>(Options(maxAttempts: 4), new FakeTimeProvider(), outcome => outcome.Result > 0, random: () => 0.0);
        int remaining = 10;

        int settled = await pipeline.ExecuteAsync(_ => ValueTask.FromResult(remaining = Math.Max(0, remaining - 4)), Ct);
        int exhausted = await pipeline.ExecuteAsync(_ => ValueTask.FromResult(99), Ct);

        Assert.Equal(0, settled);
        Assert.Equal(99, exhausted);
    }

    [Fact]
    public void Create_OneAttempt_RunsTheOperationOnce()
    {
        var pipeline = RetryPipelineFactory.Create(Options(maxAttempts: 1), new FakeTimeProvider(), _ => true);
        int calls = 0;

        Assert.Throws<TimeoutException>(() => pipeline.Execute(() =>
        {
            calls++;
            throw new TimeoutException();
        }));

        Assert.Equal(1, calls);
    }

    [Fact]
    public void Create_InvalidOptions_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => RetryPipelineFactory.Create(Options(baseMs: 500, maxMs: 100), new FakeTimeProvider(), _ => true));

        Assert.Contains("MaxDelay", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A fake clock that says when a timer (a retry wait) was created, so the test moves it only then.</summary>
    private sealed class TimerSignallingClock : FakeTimeProvider
    {
        public SemaphoreSlim TimerCreated { get; } = new(0);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            TimerCreated.Release();
            return timer;
        }
    }
}
