using System.Text;
using System.Threading.Channels;
using Analytics.Streaming.Kinesis.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Kinesis.Tests.Producer;

/// <summary>The producer's stages one by one: aggregation, batching, sending with retries, and the intake.</summary>
public sealed class ProducerStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ProducerRecord Record(string data, string key, string? hashKey = null)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(data);
        return new ProducerRecord(bytes, bytes.Length, key, hashKey, Encoding.UTF8.GetByteCount(key), Owner: null);
    }

    private static OutgoingRecord Single(string data, string key = "k") => OutgoingRecord.Single(Record(data, key));

    private static string Text(OutgoingRecord record) => Encoding.UTF8.GetString(record.Data.Span);

    [Fact]
    public void RecordAggregator_RecordsForOneShard_ArePackedUntilTheSizeLimitThenClosed()
    {
        using var aggregator = new RecordAggregator(maxSize: 200);
        var closed = new List<OutgoingRecord>();

        for (int i = 0; i < 10; i++)
        {
            aggregator.Add(Record(new string('x', 40) + i, "key-" + i), "shard-a", closed);
        }

        Assert.NotEmpty(closed);
        Assert.All(closed, c => Assert.True(c.IsAggregate && c.Data.Length <= 200 && c.PartitionKey == KplFormat.AggregatePartitionKey));
        Assert.Equal(10, closed.Sum(c => c.UserRecordCount) + aggregator.OpenCount);
        var users = new List<UserRecord>();
        Assert.True(KplDeaggregator.TryDeaggregate(closed[0].Data, closed[0].PartitionKey, SequenceNumber.Zero, null, users, out string? error), error);
        Assert.Equal(closed[0].Members.Select(m => m.PartitionKey), users.Select(u => u.PartitionKey));
    }

    [Fact]
    public void RecordAggregator_CloseAll_SendsALoneRecordPlainAndEmptiesEveryShard()
    {
        using var aggregator = new RecordAggregator(maxSize: 51_200);
        var closed = new List<OutgoingRecord>();
        aggregator.Add(Record("alone", "a"), "shard-a", closed);
        aggregator.Add(Record("one", "b"), "shard-b", closed);
        aggregator.Add(Record("two", "c"), "shard-b", closed);

        aggregator.CloseAll(closed);

        Assert.Equal(0, aggregator.OpenCount);
        var plain = Assert.Single(closed, c => !c.IsAggregate);
        Assert.Equal(("alone", "a"), (Text(plain), plain.PartitionKey));
        var packed = Assert.Single(closed, c => c.IsAggregate);
        Assert.Equal("shard-b", packed.PredictedShard);
        Assert.Equal(2, packed.UserRecordCount);
    }

    [Fact]
    public void RecordAggregator_RecordNearTheLimit_IsTooLargeToAggregate()
    {
        using var aggregator = new RecordAggregator(maxSize: 100);

        Assert.False(aggregator.IsTooLarge(Record(new string('x', 10), "k")));
        Assert.True(aggregator.IsTooLarge(Record(new string('x', 80), "k")));
    }

    [Fact]
    public void BatchQueue_TakeBatch_CutsByCountThenByBytes()
    {
        var queue = new BatchQueue(maxBatchRecords: 3, maxBatchBytes: 25, TimeSpan.FromSeconds(1), new FakeTimeProvider());
        foreach (string data in new[] { "aaaaaaaaa", "bbbbbbbbb", "c", "d", "eeeeeeeeeeeeeeeeeeeeeeee" })
        {
            queue.Add(Single(data));
        }

        Assert.True(queue.HasFullBatch());
        // Sizes count data and partition key: 10, 10, 2, 2, 25 bytes.
        Assert.Equal(["aaaaaaaaa", "bbbbbbbbb", "c"], queue.TakeBatch(0).Select(Text)); // the count limit
        Assert.Equal(["d"], queue.TakeBatch(0).Select(Text)); // 2 + 25 bytes would pass 25
        Assert.Equal(["eeeeeeeeeeeeeeeeeeeeeeee"], queue.TakeBatch(0).Select(Text)); // alone at the byte limit
        Assert.Equal(0, queue.Count);
        Assert.Equal(0, queue.UserRecordCount);
    }

    [Fact]
    public void BatchQueue_Linger_RunsFromTheFirstArrivalAndStopsWhenIdle()
    {
        var clock = new FakeTimeProvider();
        var queue = new BatchQueue(500, 5_000_000, TimeSpan.FromMilliseconds(100), clock);
        Assert.Null(queue.LingerRemaining);

        queue.NoteArrival();
        clock.Advance(TimeSpan.FromMilliseconds(60));
        queue.Add(Single("x"));

        Assert.Equal(TimeSpan.FromMilliseconds(40), queue.LingerRemaining);
        Assert.False(queue.LingerExpired);
        clock.Advance(TimeSpan.FromMilliseconds(40));
        Assert.True(queue.LingerExpired);

        queue.TakeBatch(openAggregateRecords: 3);
        Assert.Equal(TimeSpan.FromMilliseconds(100), queue.LingerRemaining); // records still wait in aggregates
        queue.ResetIfIdle(openAggregateRecords: 0);
        Assert.Null(queue.LingerRemaining);
    }

    private static (BatchSender Sender, ProducerCounters Counters) Sender(ScriptedKinesisClient client, int maxAttempts = 5) =>
        Create(client, new RetryOptions { MaxAttempts = maxAttempts, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero });

    private static (BatchSender Sender, ProducerCounters Counters) Create(ScriptedKinesisClient client, RetryOptions retry)
    {
        var counters = new ProducerCounters("orders");
        var sender = new BatchSender(client, new StreamAddress { StreamName = "orders" }, "orders", retry, new FakeTimeProvider(), counters, NullLogger.Instance, () => 0.0);
        return (sender, counters);
    }

    [Fact]
    public async Task BatchSender_PartialFailure_ResendsOnlyTheFailedEntriesUntilWritten()
    {
        var failedOnce = new HashSet<string>();
        var client = new ScriptedKinesisClient { PutRecords = (request, _) => ScriptedKinesisClient.Answer(request, data => data.StartsWith('b') && failedOnce.Add(data)) };
        var (sender, counters) = Sender(client);

        var outcome = await sender.SendAsync([Single("a1"), Single("b1"), Single("a2"), Single("b2")], Ct);

        Assert.Equal(2, client.PutRecordsCalls.Count);
        Assert.Equal(["b1", "b2"], client.PutRecordsCalls[1].Records.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
        Assert.Equal(4, outcome.Written.Count);
        Assert.Empty(outcome.GivenUp);
        Assert.Equal((2L, 2L, 2L), (counters.Snapshot.Retries, counters.Snapshot.Throttles, counters.Snapshot.Batches));
    }

    [Fact]
    public async Task BatchSender_EntryFailingEveryAttempt_IsGivenUpAfterMaxAttemptsWithTheLastError()
    {
        var client = new ScriptedKinesisClient { PutRecords = (request, _) => ScriptedKinesisClient.Answer(request, data => data == "doomed", "InternalFailure") };
        var (sender, _) = Sender(client, maxAttempts: 3);

        var outcome = await sender.SendAsync([Single("fine"), Single("doomed")], Ct);

        Assert.Equal(3, client.PutRecordsCalls.Count);
        var (record, code, _) = Assert.Single(outcome.GivenUp);
        Assert.Equal(("doomed", "InternalFailure", 3), (Text(record), code, record.Attempts));
        Assert.Equal("fine", Text(Assert.Single(outcome.Written).Record));
    }

    [Fact]
    public async Task BatchSender_EntryWithANonRetryableCode_IsGivenUpAtOnce()
    {
        var client = new ScriptedKinesisClient { PutRecords = (request, _) => ScriptedKinesisClient.Answer(request, data => data == "bad", "KMSAccessDeniedException") };
        var (sender, _) = Sender(client);

        var outcome = await sender.SendAsync([Single("bad"), Single("good")], Ct);

        Assert.Single(client.PutRecordsCalls);
        Assert.Equal("KMSAccessDeniedException", Assert.Single(outcome.GivenUp).ErrorCode);
    }

    [Theory]
    [InlineData("InternalFailure", 500, 4)]
    [InlineData("ResourceNotFoundException", 400, 1)]
    public async Task BatchSender_CallFailingAsAWhole_IsRetriedOnlyWhenTransient(string code, int status, int expectedCalls)
    {
        var client = new ScriptedKinesisClient { PutRecords = (_, _) => throw new KinesisException("scripted", code, (System.Net.HttpStatusCode)status, null) };
        var (sender, _) = Sender(client, maxAttempts: 4);

        var outcome = await sender.SendAsync([Single("x"), Single("y")], Ct);

        Assert.Equal(expectedCalls, client.PutRecordsCalls.Count);
        Assert.Equal(2, outcome.GivenUp.Count);
        Assert.All(outcome.GivenUp, g => Assert.Equal((code, expectedCalls), (g.ErrorCode, g.Record.Attempts)));
    }

    private static (RecordIntake Intake, Channel<ProducerSignal> Signals) Intake(int maxBuffered)
    {
        var signals = Channel.CreateUnbounded<ProducerSignal>();
        return (new RecordIntake(new KinesisProducerOptions { StreamName = "s", MaxBufferedRecords = maxBuffered, MaxRecordSize = 1000 }, signals.Writer), signals);
    }

    [Fact]
    public async Task RecordIntake_BufferSpent_TryAddRefusesAndAddAsyncWaitsForARelease()
    {
        var (intake, signals) = Intake(maxBuffered: 2);
        using var _ = intake;

        Assert.True(intake.TryAdd("1"u8, "k", null));
        Assert.True(intake.TryAdd("2"u8, "k", null));
        Assert.True(intake.IsFull);
        Assert.False(intake.TryAdd("3"u8, "k", null));
        var waiting = intake.AddAsync("4"u8.ToArray(), "k", null, null, Ct).AsTask();
        await Task.Delay(50, Ct);
        Assert.False(waiting.IsCompleted);

        intake.Release(1);
        await waiting;

        var texts = new List<string>();
        while (signals.Reader.TryRead(out var signal))
        {
            texts.Add(Encoding.UTF8.GetString(signal.Record.Span));
        }

        Assert.Equal(["1", "2", "4"], texts);
    }

    [Fact]
    public async Task RecordIntake_Closed_RefusesRecordsAndReleasesWaitingCallers()
    {
        var (intake, _) = Intake(maxBuffered: 1);
        using var _ = intake;
        Assert.True(intake.TryAdd("1"u8, "k", null));
        var waiting = intake.AddAsync("2"u8.ToArray(), "k", null, null, Ct).AsTask();

        intake.Close();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        Assert.Throws<ObjectDisposedException>(() => intake.TryAdd("3"u8, "k", null));
    }

    [Theory]
    [InlineData("", null, 10, "1 to 256")]
    [InlineData("k", null, 1001, "MaxRecordSize")]
    [InlineData("k", "12x", 1, "explicit hash key")]
    public void RecordIntake_RecordBreakingALimit_IsRefusedWithTheReason(string key, string? hashKey, int size, string reason)
    {
        var (intake, _) = Intake(maxBuffered: 10);
        using var _ = intake;

        var error = Assert.Throws<ArgumentException>(() => intake.TryAdd(new byte[size], key, hashKey));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
