using System.Text.Json;
using System.Threading.Channels;
using Analytics.Streaming.Kinesis.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>Store outages on a fake clock: the default retries ride out a minute, and give up after their two-minute limit.</summary>
public sealed class S3SinkRetryTests(S3Fixture s3)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static S3SinkOptions<Click> Options(IObjectStore store, TimeProvider clock) => new()
    {
        Store = store,
        Format = LineFormats.JsonLines(TestJson.Default.Click),
        TableName = "clicks",
        Prefix = "lake/",
        Zone = DataLakeZone.Processed,
        Layout = KeyLayout<Click>.Hive(TimePartitioning.Hour, c => c.Time),
        MaxRecordsPerObject = 40, // objects roll while the store is down, not only on flush
        TimeProvider = clock,
    };

    [Fact]
    public void RetryOptions_Defaults_FortyAttemptsTwoMinutesTenSecondCap()
    {
        var retry = new RetryOptions();

        Assert.Equal((40, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(2)), (retry.MaxAttempts, retry.BaseDelay, retry.MaxDelay, retry.MaxElapsed));
    }

    [Fact]
    public async Task WriteAndFlush_StoreDownForSixtySecondsWithDefaultRetries_NothingLostNothingDuplicated()
    {
        string root = s3.CreateFolder();
        var time = new FakeTimeProvider(Clicks.Start);
        var clock = new TimerDrivenClock(time);
        var store = new OutageStore(new LocalFolderObjectStore(root), time);
        var logs = new CapturingLoggerFactory();
        var options = Options(store, clock);
        options.LoggerFactory = logs;
        await using var sink = new S3Sink<Click>(options);
        var clicks = Clicks.Make(200, hours: 2);
        await sink.RestoreAsync("clicks-pipeline", 0, Ct);
        var outageStart = time.GetUtcNow();
        store.FailUntil(outageStart + TimeSpan.FromSeconds(60));

        var work = Task.Run(
            async () =>
            {
                await sink.WriteAsync(clicks, Ct);
                await sink.FlushAsync(Ct);
                await sink.CheckpointCompletedAsync(1, Ct);
            },
            Ct);
        await clock.DriveAsync(work, Ct);
        await work;

        Assert.True(time.GetUtcNow() - outageStart >= TimeSpan.FromSeconds(60), $"the work ended {time.GetUtcNow() - outageStart} into the outage");
        Assert.True(store.Failures > 10, $"only {store.Failures} calls failed");
        Assert.Equal(store.Failures, sink.Statistics.Retries);
        Assert.Equal(store.Failures, logs.Entries.Count(e => e.EventId.Id == 3001 && e.Level == LogLevel.Warning && e.Exception is IOException));
        Assert.Equal(6, logs.Entries.Count(e => e.EventId.Id == 3002));
        var files = Directory.GetFiles(Path.Combine(root, "lake/processed/clicks"), "*.jsonl", SearchOption.AllDirectories);
        var stored = files.SelectMany(File.ReadAllLines).Select(l => JsonSerializer.Deserialize(l, TestJson.Default.Click)!).OrderBy(c => c.UserId);
        Assert.Equal(clicks, stored);
        Assert.Equal(6, files.Length); // two hours of 100 clicks, 40 per object: nothing stored twice
        Assert.Empty(await new LocalFolderObjectStore(root).ListKeysAsync("lake/processed/_sink-intents/", Ct));
    }

    [Fact]
    public async Task FlushAsync_StoreDownLongerThanMaxElapsed_ThrowsWithinTwoMinutes()
    {
        string root = s3.CreateFolder();
        var time = new FakeTimeProvider(Clicks.Start);
        var clock = new TimerDrivenClock(time);
        var store = new OutageStore(new LocalFolderObjectStore(root), time);
        await using var sink = new S3Sink<Click>(Options(store, clock));
        await sink.WriteAsync(Clicks.Make(10), Ct);
        var outageStart = time.GetUtcNow();
        store.FailUntil(outageStart + TimeSpan.FromMinutes(10));

        var work = Task.Run(async () => await sink.FlushAsync(Ct), Ct);
        await clock.DriveAsync(work, Ct);

        await Assert.ThrowsAsync<IOException>(() => work);
        Assert.InRange(time.GetUtcNow() - outageStart, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(2));
        Assert.InRange(sink.Statistics.Retries, 1, 39);
        Assert.Empty(Directory.GetFiles(root, "*", SearchOption.AllDirectories));
    }

    /// <summary>A store that fails every call with a dropped connection until a time on the fake clock.</summary>
    private sealed class OutageStore(IObjectStore inner, TimeProvider time) : ForwardingStore(inner)
    {
        private long _untilTicks;
        private int _failures;

        public int Failures => Volatile.Read(ref _failures);

        public void FailUntil(DateTimeOffset until) => Interlocked.Exchange(ref _untilTicks, until.UtcTicks);

        protected override void BeforeCall(StoreCall call, string key)
        {
            if (time.GetUtcNow().UtcTicks < Interlocked.Read(ref _untilTicks))
            {
                Interlocked.Increment(ref _failures);
                throw new IOException("Simulated outage: connection refused.");
            }
        }
    }

    /// <summary>
    /// A clock over a <see cref="FakeTimeProvider"/> that reports every timer the code under test starts (a retry
    /// delay), so the test moves time exactly to the next due time instead of guessing.
    /// </summary>
    private sealed class TimerDrivenClock(FakeTimeProvider time) : TimeProvider
    {
        private readonly Channel<DateTimeOffset> _due = Channel.CreateUnbounded<DateTimeOffset>();

        public override long TimestampFrequency => time.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => time.LocalTimeZone;

        public override DateTimeOffset GetUtcNow() => time.GetUtcNow();

        public override long GetTimestamp() => time.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = time.CreateTimer(callback, state, dueTime, period);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                _due.Writer.TryWrite(time.GetUtcNow() + dueTime);
            }

            return timer;
        }

        /// <summary>Until <paramref name="work"/> ends: waits for the next timer it starts and moves the clock to that timer's due time.</summary>
        public async Task DriveAsync(Task work, CancellationToken cancellationToken)
        {
            while (true)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(TimeSpan.FromSeconds(60)); // a guard against a hang, not a pause: the loop goes on as soon as a timer starts
                var next = _due.Reader.ReadAsync(wait.Token).AsTask();
                if (await Task.WhenAny(next, work) == work)
                {
                    await wait.CancelAsync();
                    await next.ContinueWith(static _ => { }, TaskScheduler.Default);
                    return;
                }

                var due = await next;
                if (due > time.GetUtcNow())
                {
                    time.SetUtcNow(due);
                }
            }
        }
    }
}
