using System.Text;
using Analytics.Streaming.TestSupport;
using Analytics.Streaming.Kinesis.Tests.Consumer;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerTests(KinesaliteServer kinesalite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task ReadBatchesAsync_ThousandsOfRecordsOnFourShards_EveryRecordOnceInKeyOrder()
    {
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-many", 4);
        var expected = await scenario.WriteAsync(keys: 40, perKey: 75);
        var consumer = scenario.Consumer();

        var batches = await ConsumerTestKit.ReadAsync(consumer, scenario.Progress, expected.Count, Timeout, Settle);

        var records = ConsumerTestKit.Flatten(batches);
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(records, expected);
        Assert.Equal(4, records.Select(r => r.Shard).Distinct().Count());
        Assert.All(records, r => Assert.NotNull(r.Record.Value.ArrivalTime));
        Assert.All(batches, b => Assert.NotNull(b.BehindLatest));
        Assert.Equal(4, consumer.BehindLatest.Count);
    }

    [Fact]
    public async Task ReadBatchesAsync_SplitAndMergeMidStream_EveryRecordOnceAndParentsBeforeChildren()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-reshard", 2);
        string stream = scenario.Stream;
        var expected = new List<string>();
        expected.AddRange(await scenario.WriteAsync(keys: 30, perKey: 10));

        // The consumer runs while the stream is resharded and written: split shard 0, then merge its two children.
        int phase = 0;
        var phases = new SemaphoreSlim(1, 1);
        var batches = await scenario.ReadAsync(900, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(800), async seen =>
        {
            if (!await phases.WaitAsync(0, ct))
            {
                return;
            }

            try
            {
                if (phase == 0 && seen >= 100)
                {
                    phase = 1;
                    await kinesalite.Admin.SplitShardInHalfAsync(stream, "shardId-000000000000", ct);
                    expected.AddRange(await scenario.WriteAsync(keys: 30, perKey: 10, firstIndex: 10));
                }
                else if (phase == 1 && seen >= 400)
                {
                    phase = 2;
                    await kinesalite.Admin.MergeShardsAsync(stream, "shardId-000000000002", "shardId-000000000003", ct);
                    expected.AddRange(await scenario.WriteAsync(keys: 30, perKey: 10, firstIndex: 20));
                }
            }
            finally
            {
                phases.Release();
            }
        });

        Assert.Equal(2, phase);
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected);
        var shards = await kinesalite.Admin.ListShardsAsync(stream, ct);
        Assert.Equal(5, shards.Count);
        foreach (var child in shards.Where(s => s.ParentShardId is not null))
        {
            int firstChildBatch = batches.FindIndex(b => b.PartitionId == child.ShardId && b.Records.Length > 0);
            foreach (string? parent in new[] { child.ParentShardId, child.AdjacentParentShardId })
            {
                if (parent is null || firstChildBatch < 0)
                {
                    continue;
                }

                int parentEnd = batches.FindIndex(b => b.PartitionId == parent && b.IsEndOfPartition);
                Assert.True(parentEnd >= 0 && parentEnd < firstChildBatch, $"{child.ShardId} was read before its parent {parent} ended.");
            }
        }

        Assert.All(shards.Where(s => s.IsClosed), s => Assert.True(scenario.Progress.Positions[s.ShardId].IsFinished));
    }

    [Fact]
    public async Task ReadBatchesAsync_ChildWhoseParentEndIsNotCheckpointed_IsNotRead()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-wait", 1);
        await kinesalite.Admin.PutRecordAsync(scenario.Stream, "k", "before"u8.ToArray(), cancellationToken: ct);
        await kinesalite.Admin.SplitShardInHalfAsync(scenario.Stream, "shardId-000000000000", ct);
        await kinesalite.Admin.PutRecordAsync(scenario.Stream, "k", "after"u8.ToArray(), cancellationToken: ct);
        var consumer = scenario.Consumer();
        var batches = new List<RecordBatch<RawRecord>>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromSeconds(30));

        // Nobody saves checkpoints here: the parent ends, but its end is never checkpointed. Keep reading for a
        // while after the parent's end (many parent-poll and discovery intervals) to give a child every chance.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var batch in consumer.ReadBatchesAsync(new SourceContext(), stop.Token))
            {
                batches.Add(batch);
                if (batch.IsEndOfPartition)
                {
                    stop.CancelAfter(TimeSpan.FromSeconds(1.5));
                }
            }
        });

        Assert.Contains(batches, b => b.PartitionId == "shardId-000000000000" && b.IsEndOfPartition);
        Assert.DoesNotContain(batches, b => b.PartitionId != "shardId-000000000000");
    }

    [Fact]
    public async Task ReadBatchesAsync_ResumedFromCheckpointInsideAggregate_ContinuesWithNextUserRecord()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-resume", 1);
        string stream = scenario.Stream;
        await kinesalite.Admin.PutRecordAsync(stream, "p", "plain-0"u8.ToArray(), cancellationToken: ct);
        byte[] aggregate = TestKplAggregate.Encode(("a", null, "agg-0"u8.ToArray()), ("b", null, "agg-1"u8.ToArray()), ("c", null, "agg-2"u8.ToArray()));
        var (_, aggregateSequence) = await kinesalite.Admin.PutRecordAsync(stream, "a", aggregate, cancellationToken: ct);
        await kinesalite.Admin.PutRecordAsync(stream, "p", "plain-1"u8.ToArray(), cancellationToken: ct);
        var store = new ShardProgress(PartitionCheckpoint.Create("shardId-000000000000", new StreamPosition("shardId-000000000000", SequenceNumber.Parse(aggregateSequence), 1)));
        var batches = await ConsumerTestKit.ReadAsync(scenario.Consumer(), store, 2, Timeout, Settle);

        var records = ConsumerTestKit.Flatten(batches);
        Assert.Equal(["agg-2", "plain-1"], records.Select(r => r.Payload));
        Assert.Equal(2, records[0].Record.SubSequence);
        Assert.Equal("c", records[0].Key);
    }

    [Fact]
    public async Task ReadBatchesAsync_BadAggregateAmongRecords_GoesToDeadLettersAndReadingContinues()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-bad-agg", 1);
        string stream = scenario.Stream;
        byte[] bad = TestKplAggregate.Encode(("a", null, "x"u8.ToArray()), ("b", null, "y"u8.ToArray()));
        bad[6] ^= 0x55;
        var (_, badSequence) = await kinesalite.Admin.PutRecordAsync(stream, "a", bad, cancellationToken: ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", TestKplAggregate.Encode(("k", null, "ok-0"u8.ToArray()), ("k", null, "ok-1"u8.ToArray())), cancellationToken: ct);
        var batches = await scenario.ReadAsync(3, Timeout, Settle);

        Assert.Equal(["ok-0", "ok-1"], ConsumerTestKit.Flatten(batches).Select(r => r.Payload));
        var deadLetter = Assert.Single(batches.SelectMany(b => b.DeadLetters));
        Assert.Equal(DeadLetterReason.InvalidRecord, deadLetter.Reason);
        Assert.Equal(badSequence, deadLetter.Position.Sequence.ToString());
        Assert.Equal(bad, deadLetter.Payload.ToArray());
    }

    [Fact]
    public async Task ReadBatchesAsync_StartAtLatest_ReadsOnlyRecordsWrittenAfterStart()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-latest", 1);
        string stream = scenario.Stream;
        await kinesalite.Admin.PutRecordAsync(stream, "k", "old"u8.ToArray(), cancellationToken: ct);
        scenario.Options.InitialPosition = KinesisStartingPosition.Latest;
        bool written = false;

        // The first (empty) batch proves the iterator exists; the new record is written after it.
        var batches = await scenario.ReadAsync(1, Timeout, Settle, async _ =>
        {
            if (!written)
            {
                written = true;
                await kinesalite.Admin.PutRecordAsync(stream, "k", "new"u8.ToArray(), cancellationToken: ct);
            }
        });

        Assert.Equal(["new"], ConsumerTestKit.Flatten(batches).Select(r => r.Payload));
    }

    [Fact]
    public async Task ReadBatchesAsync_StartAtTimestamp_SkipsOlderRecords()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-timestamp", 1);
        string stream = scenario.Stream;
        await kinesalite.Admin.PutRecordAsync(stream, "k", "old"u8.ToArray(), cancellationToken: ct);
        await Task.Delay(1100, ct);
        var from = DateTimeOffset.UtcNow;
        await Task.Delay(50, ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", "new"u8.ToArray(), cancellationToken: ct);
        scenario.Options.InitialPosition = KinesisStartingPosition.AtTimestamp(from);

        var batches = await scenario.ReadAsync(1, Timeout, Settle);

        Assert.Equal(["new"], ConsumerTestKit.Flatten(batches).Select(r => r.Payload));
    }

    [Fact]
    public async Task ReadBatchesAsync_ShardStartingPositionsAtAndAfterSequence_StartThere()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-sequence", 1);
        string stream = scenario.Stream;
        var sequences = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            sequences.Add((await kinesalite.Admin.PutRecordAsync(stream, "k", Encoding.UTF8.GetBytes($"r{i}"), cancellationToken: ct)).SequenceNumber);
        }

        var client = scenario.Client;
        var at = ConsumerTestKit.FastOptions(stream);
        at.ShardStartingPositions["shardId-000000000000"] = KinesisStartingPosition.AtSequenceNumber(sequences[1]);
        var after = ConsumerTestKit.FastOptions(stream);
        after.ShardStartingPositions["shardId-000000000000"] = KinesisStartingPosition.AfterSequenceNumber(sequences[1]);

        var fromAt = await ConsumerTestKit.ReadAsync(new KinesisShardConsumer(client, at), new ShardProgress(), 3, Timeout, Settle);
        var fromAfter = await ConsumerTestKit.ReadAsync(new KinesisShardConsumer(client, after), new ShardProgress(), 2, Timeout, Settle);

        Assert.Equal(["r1", "r2", "r3"], ConsumerTestKit.Flatten(fromAt).Select(r => r.Payload));
        Assert.Equal(["r2", "r3"], ConsumerTestKit.Flatten(fromAfter).Select(r => r.Payload));
    }

    [Fact]
    public async Task ReadBatchesAsync_StreamDoesNotExist_ThrowsResourceNotFound()
    {
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var consumer = new KinesisShardConsumer(client, ConsumerTestKit.FastOptions("no-such-stream"));

        await Assert.ThrowsAsync<KinesisResourceNotFoundException>(async () =>
        {
            await foreach (var _ in consumer.ReadBatchesAsync(new SourceContext(), TestContext.Current.CancellationToken))
            {
            }
        });
    }
}
