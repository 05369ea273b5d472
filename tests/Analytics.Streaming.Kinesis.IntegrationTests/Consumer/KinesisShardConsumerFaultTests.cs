using System.Net;
using Analytics.Streaming.Kinesis.Tests.Support;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerFaultTests(KinesaliteServer kinesalite)
{
    private static readonly (HttpStatusCode, string) Throttled = (HttpStatusCode.BadRequest, "ProvisionedThroughputExceededException");
    private static readonly (HttpStatusCode, string) Expired = (HttpStatusCode.BadRequest, "ExpiredIteratorException");
    private static readonly (HttpStatusCode, string) Internal = (HttpStatusCode.InternalServerError, "InternalFailure");
    private static readonly (HttpStatusCode, string) InUse = (HttpStatusCode.BadRequest, "ResourceInUseException");

    [Fact]
    public async Task ReadBatchesAsync_ThrottlingExpiredIteratorsServerErrorsAndStreamInUse_EveryRecordOnceInKeyOrder()
    {
        using var handler = new FaultInjectingHandler((operation, call) => operation switch
        {
            "GetShardIterator" when call == 1 => Throttled,
            "GetRecords" when call is 2 or 3 => Throttled,
            "GetRecords" when call is 5 or 9 => Expired,
            "GetRecords" when call == 7 => Internal,
            "ListShards" when call == 1 => Internal,
            "ListShards" when call == 2 => InUse,
            _ => null,
        });

        // One attempt per call: the consumer, not the client, has to ride out every injected failure.
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-faults", 2, handler, clientAttempts: 1);
        var expected = await scenario.WriteAsync(keys: 17, perKey: 18);
        var logs = new CapturingLoggerFactory();
        scenario.Options.MaxRecordsPerCall = 25;
        scenario.Options.LoggerFactory = logs;

        var batches = await scenario.ReadAsync(expected.Count, TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(400));

        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected);
        Assert.Equal(8, handler.InjectedCount);

        // Every injected failure is logged once, with its stable event id.
        var events = logs.Entries.Where(e => e.Category == typeof(KinesisShardConsumer).FullName).GroupBy(e => e.EventId.Name!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(2, events["DiscoveryRetrying"]);
        Assert.Equal(3, events["ReadThrottled"]);
        Assert.Equal(1, events["ReadRetrying"]);
        Assert.Equal(2, events["IteratorRenewed"]);
        Assert.Equal(1, events["ShardsDiscovered"]);
        Assert.All(logs.Entries, e => Assert.InRange(e.EventId.Id, 2000, 2999));
    }

    [Fact]
    public async Task ReadBatchesAsync_StartedAtLatest_AnIteratorExpiredBeforeTheFirstRecord_LosesNothingWrittenMeanwhile()
    {
        // A quiet shard read from LATEST whose iterator expires (the pipeline was held up for five minutes) after
        // records came in: the renewed iterator must not be LATEST again.
        int written = 0;
        using var handler = new FaultInjectingHandler((operation, _) => operation == "GetRecords" && Interlocked.CompareExchange(ref written, 2, 1) == 1 ? Expired : null);
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-latest-expired", 1, handler, clientAttempts: 1);
        await scenario.WriteAsync(keys: 3, perKey: 2); // before the start: LATEST skips these
        scenario.Options.InitialPosition = KinesisStartingPosition.Latest;
        List<string>? expected = null;

        var batches = await scenario.ReadAsync(20, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(400), async _ =>
        {
            if (expected is null)
            {
                expected = await scenario.WriteAsync(keys: 4, perKey: 5, firstIndex: 100);
                Volatile.Write(ref written, 1);
            }
        });

        Assert.Equal(1, handler.InjectedCount);
        var read = ConsumerTestKit.Flatten(batches);
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(read.Where(r => expected!.Contains(r.Payload)), expected!);
    }

    [Fact]
    public async Task ReadBatchesAsync_ThrottledShard_HandsOnEmptyBatchesWhoseLagGrowsWhileItCannotBeRead()
    {
        // GetRecords calls 2 to 6 are throttled. While the reader waits to try again, its shard is not idle: each retry
        // hands on an empty batch whose lag is the time since the last read (kinesalite itself reports no lag), so a
        // pipeline keeps the shard holding the watermark once that passes its idle timeout.
        using var handler = new FaultInjectingHandler((operation, call) => operation == "GetRecords" && call is >= 2 and <= 6 ? Throttled : null);
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-throttled", 1, handler, clientAttempts: 1);
        var expected = await scenario.WriteAsync(keys: 3, perKey: 10);
        scenario.Options.MaxRecordsPerCall = 10;
        scenario.Options.Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100) };

        var batches = await scenario.ReadAsync(expected.Count, TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(400));

        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected);
        var lags = batches.Where(b => b.Records.Length == 0 && b.BehindLatest > TimeSpan.Zero).Select(b => b.BehindLatest!.Value).ToList();
        Assert.Equal(5, lags.Count);
        Assert.Equal(lags.Order(), lags);
    }

    [Fact]
    public async Task ReadBatchesAsync_CaughtUpShardWithoutIdleWait_CallsGetRecordsAtMostFiveTimesPerSecond()
    {
        using var handler = new FaultInjectingHandler((_, _) => null);
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-rate", 1, handler);
        scenario.Options.IdleTimeBetweenReads = TimeSpan.Zero;
        var consumer = scenario.Consumer();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(60));

        // Reads until six GetRecords calls went out (the shard stays empty, so the reader never yields).
        var sixCalls = Task.Run(async () =>
        {
            while (handler.Log.Count(e => e.Operation == "GetRecords") < 6)
            {
                await Task.Delay(20, stop.Token);
            }

            await stop.CancelAsync();
        }, TestContext.Current.CancellationToken);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in consumer.ReadBatchesAsync(new SourceContext(), stop.Token))
            {
            }
        });
        await sixCalls.ContinueWith(_ => { }, TaskScheduler.Default);

        // Spacing is measured where requests leave the client, so allow one interval of scheduling jitter overall.
        var calls = handler.Log.Where(e => e.Operation == "GetRecords").Select(e => e.At).ToList();
        Assert.True(calls.Count >= 6, $"Only {calls.Count} GetRecords calls were made in 60 s.");
        var span = calls[^1] - calls[0];
        Assert.True(
            span >= TimeSpan.FromMilliseconds(200 * (calls.Count - 2)),
            $"{calls.Count} GetRecords calls within {span.TotalMilliseconds} ms: more than 5 per second.");
    }

    [Fact]
    public async Task ReadBatchesAsync_ByteRateLimit_WaitsUntilBytesReadFitTheRate()
    {
        using var handler = new FaultInjectingHandler((_, _) => null);
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-bytes", 1, handler);
        var records = Enumerable.Range(0, 20).Select(i => ($"k{i}", new byte[6 * 1024])).ToList();
        await kinesalite.Admin.PutRecordsAsync(scenario.Stream, records, TestContext.Current.CancellationToken);
        scenario.Options.MaxRecordsPerCall = 10;
        scenario.Options.MaxBytesPerSecond = 64 * 1024;

        await scenario.ReadAsync(20, TimeSpan.FromSeconds(20), TimeSpan.Zero);

        // 10 records of 6 KiB = 60 KiB at 64 KiB/s: the second call waits about 0.94 s after the first (the call
        // rate alone would allow 0.2 s); the bound leaves room for scheduling jitter on a busy machine.
        var calls = handler.Log.Where(e => e.Operation == "GetRecords").Select(e => e.At).ToList();
        Assert.True(calls.Count >= 2);
        Assert.True(calls[1] - calls[0] >= TimeSpan.FromMilliseconds(600), $"The second call came {(calls[1] - calls[0]).TotalMilliseconds} ms after the first.");
    }
}
