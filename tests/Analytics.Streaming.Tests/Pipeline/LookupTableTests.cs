using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

public sealed class LookupTableTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task RefreshAsync_ReloadsEachInterval_KeepsTheLastGoodVersionWhenALoadFails_AndEndsOnCancellation()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var table = new LookupTable<int, string>([new(1, "first")]);
        var failure = new IOException("the rows could not be read");
        Func<IEnumerable<KeyValuePair<int, string>>>[] loads =
        [
            () => [new(1, "second"), new(2, "new")],
            () => throw failure,
            () => [new(1, "third")],
        ];
        int calls = 0;
        var errors = new List<Exception>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var refresh = table.RefreshAsync(
            _ => ValueTask.FromResult(loads[Math.Min(Interlocked.Increment(ref calls), loads.Length) - 1]()),
            Interval,
            time,
            ex => { lock (errors) { errors.Add(ex); } },
            stop.Token);

        Assert.Equal(0, Volatile.Read(ref calls)); // nothing is loaded before the first interval has passed
        Assert.Equal(0, table.FailedLoads);
        Assert.Null(table.LastLoadFailure);
        await AdvanceUntilAsync(time, () => table.Version == 1, ct);
        Assert.True(table.TryGet(1, out var row) && row == "second");
        Assert.True(table.TryGet(2, out _));

        await AdvanceUntilAsync(time, () => { lock (errors) { return errors.Count == 1; } }, ct);
        Assert.Equal(2, Volatile.Read(ref calls));
        Assert.Same(failure, errors[0]);
        Assert.Equal(1, table.FailedLoads);
        Assert.Same(failure, table.LastLoadFailure);
        Assert.Equal(1, table.Version);
        Assert.True(table.TryGet(1, out row) && row == "second");

        await AdvanceUntilAsync(time, () => table.Version == 2, ct);
        Assert.True(table.TryGet(1, out row) && row == "third");
        Assert.False(table.TryGet(2, out _));

        await stop.CancelAsync();
        await refresh.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System, ct); // cancellation ends it without an error
        Assert.Single(errors);
        Assert.Equal(1, table.FailedLoads);
    }

    [Fact]
    public async Task RefreshAsync_WithoutOnError_AFailedLoadIsStillCountedAndKept()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var table = new LookupTable<int, string>([new(1, "first")]);
        var failure = new InvalidDataException("row 7 has no key");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var refresh = table.RefreshAsync(_ => throw failure, Interval, time, cancellationToken: stop.Token);

        await AdvanceUntilAsync(time, () => table.FailedLoads >= 2, ct);
        Assert.Same(failure, table.LastLoadFailure);
        Assert.Equal(0, table.Version);
        Assert.True(table.TryGet(1, out var row) && row == "first");

        await stop.CancelAsync();
        await refresh.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System, ct);
    }

    [Fact]
    public async Task Replace_FromSeveralThreads_CountsEveryVersion()
    {
        var table = new LookupTable<int, int>([new(0, 0)]);
        const int Threads = 4, Each = 20_000;

        // Empty versions are quick to build, so the threads often replace at the same moment.
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < Each; i++)
            {
                table.Replace([]);
            }
        }, TestContext.Current.CancellationToken)));

        Assert.Equal(Threads * Each, table.Version);
        Assert.Equal(0, table.Count);
    }

    /// <summary>
    /// Moves the clock one interval at a time until <paramref name="done"/>, waiting after each move until the refresh
    /// loop has run (or a while). A move made before the loop waits again is lost, never doubled: one load per move at most.
    /// </summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> done, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "The refresh loop did not get there.");
            time.Advance(Interval);
            for (int spin = 0; spin < 50 && !done(); spin++)
            {
                await Task.Delay(1, ct);
            }
        }
    }
}
