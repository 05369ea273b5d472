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
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-many");
        await kinesalite.Admin.CreateStreamAsync(stream, 4, ct);
        var expected = await WriteAsync(stream, keys: 40, perKey: 75, ct);
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var store = new ShardProgress();
        var consumer = new KinesisShardConsumer(client, ConsumerTestKit.FastOptions(stream));

        var batches = await ConsumerTestKit.ReadAsync(consumer, store, expected.Count, Timeout, Settle);

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
        string stream = KinesaliteServer.NewStreamName("consume-reshard");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, ct);
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var store = new ShardProgress();
        var consumer = new KinesisShardConsumer(client, ConsumerTestKit.FastOptions(stream));
        var expected = new List<string>();
        expected.AddRange(await WriteAsync(stream, keys: 30, perKey: 10, ct, firstIndex: 0));

        // The consumer runs while the stream is resharded and written: split shard 0, then merge its two children.
        int phase = 0;
        var phases = new SemaphoreSlim(1, 1);
        var batches = await ConsumerTestKit.ReadAsync(consumer, store, 900, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(800), async seen =>
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
                    expected.AddRange(await WriteAsync(stream, keys: 30, perKey: 10, ct, firstIndex: 10));
                }
                else if (phase == 1 && seen >= 400)
                {
                    phase = 2;
                    await kinesalite.Admin.MergeShardsAsync(stream, "shardId-000000000002", "shardId-000000000003", ct);
                    expected.AddRange(await WriteAsync(stream, keys: 30, perKey: 10, ct, firstIndex: 20));
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

        Assert.All(shards.Where(s => s.IsClosed), s => Assert.True(store.Positions[s.ShardId].IsFinished));
    }

    [Fact]
    public async Task ReadBatchesAsync_ChildWhoseParentEndIsNotCheckpointed_IsNotRead()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-wait");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", "before"u8.ToArray(), cancellationToken: ct);
        await kinesalite.Admin.SplitShardInHalfAsync(stream, "shardId-000000000000", ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", "after"u8.ToArray(), cancellationToken: ct);
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var consumer = new KinesisShardConsumer(client, ConsumerTestKit.FastOptions(stream));
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
        string stream = KinesaliteServer.NewStreamName("consume-resume");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        await kinesalite.Admin.PutRecordAsync(stream, "p", "plain-0"u8.ToArray(), cancellationToken: ct);
        byte[] aggregate = TestKplAggregate.Encode(("a", null, "agg-0"u8.ToArray()), ("b", null, "agg-1"u8.ToArray()), ("c", null, "agg-2"u8.ToArray()));
        var (_, aggregateSequence) = await kinesalite.Admin.PutRecordAsync(stream, "a", aggregate, cancellationToken: ct);
        await kinesalite.Admin.PutRecordAsync(stream, "p", "plain-1"u8.ToArray(), cancellationToken: ct);
        var store = new ShardProgress(PartitionCheckpoint.Create("shardId-000000000000", new StreamPosition("shardId-000000000000", SequenceNumber.Parse(aggregateSequence), 1)));
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var consumer = new KinesisShardConsumer(client, ConsumerTestKit.FastOptions(stream));

        var batches = await ConsumerTestKit.ReadAsync(consumer, store, 2, Timeout, Settle);

        var records = ConsumerTestKit.Flatten(batches);
        Assert.Equal(["agg-2", "plain-1"], records.Select(r => r.Payload));
        Assert.Equal(2, records[0].Record.SubSequence);
        Assert.Equal("c", records[0].Key);
    }

    [Fact]
    public async Task ReadBatchesAsync_BadAggregateAmongRecords_GoesToDeadLettersAndReadingContinues()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-bad-agg");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        byte[] bad = TestKplAggregate.Encode(("a", null, "x"u8.ToArray()), ("b", null, "y"u8.ToArray()));
        bad[6] ^= 0x55;
        var (_, badSequence) = await kinesalite.Admin.PutRecordAsync(stream, "a", bad, cancellationToken: ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", TestKplAggregate.Encode(("k", null, "ok-0"u8.ToArray()), ("k", null, "ok-1"u8.ToArray())), cancellationToken: ct);
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var store = new ShardProgress();
        var consumer = new KinesisShardConsumer(client, ConsumerTestKit.FastOptions(stream));

        var batches = await ConsumerTestKit.ReadAsync(consumer, store, 3, Timeout, Settle);

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
        string stream = KinesaliteServer.NewStreamName("consume-latest");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", "old"u8.ToArray(), cancellationToken: ct);
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var store = new ShardProgress();
        var options = ConsumerTestKit.FastOptions(stream);
        options.InitialPosition = KinesisStartingPosition.Latest;
        var consumer = new KinesisShardConsumer(client, options);
        bool written = false;

        // The first (empty) batch proves the iterator exists; the new record is written after it.
        var batches = await ConsumerTestKit.ReadAsync(consumer, store, 1, Timeout, Settle, async _ =>
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
        string stream = KinesaliteServer.NewStreamName("consume-timestamp");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", "old"u8.ToArray(), cancellationToken: ct);
        await Task.Delay(1100, ct);
        var from = DateTimeOffset.UtcNow;
        await Task.Delay(50, ct);
        await kinesalite.Admin.PutRecordAsync(stream, "k", "new"u8.ToArray(), cancellationToken: ct);
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var store = new ShardProgress();
        var options = ConsumerTestKit.FastOptions(stream);
        options.InitialPosition = KinesisStartingPosition.AtTimestamp(from);
        var consumer = new KinesisShardConsumer(client, options);

        var batches = await ConsumerTestKit.ReadAsync(consumer, store, 1, Timeout, Settle);

        Assert.Equal(["new"], ConsumerTestKit.Flatten(batches).Select(r => r.Payload));
    }

    [Fact]
    public async Task ReadBatchesAsync_ShardStartingPositionsAtAndAfterSequence_StartThere()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-sequence");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        var sequences = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            sequences.Add((await kinesalite.Admin.PutRecordAsync(stream, "k", Encoding.UTF8.GetBytes($"r{i}"), cancellationToken: ct)).SequenceNumber);
        }

        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
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

    private async Task<List<string>> WriteAsync(string stream, int keys, int perKey, CancellationToken ct, int firstIndex = 0)
    {
        // Round-robin over keys so that every PutRecords call mixes keys; each key's records go in index order.
        var payloads = new List<string>();
        var pending = new List<(string, byte[])>();
        for (int i = firstIndex; i < firstIndex + perKey; i++)
        {
            for (int k = 0; k < keys; k++)
            {
                string key = $"key-{k:D3}";
                var payload = ConsumerTestKit.Payload(key, i);
                payloads.Add(Encoding.UTF8.GetString(payload));
                pending.Add((key, payload));
                if (pending.Count == 500)
                {
                    await kinesalite.Admin.PutRecordsAsync(stream, pending, ct);
                    pending.Clear();
                }
            }
        }

        if (pending.Count > 0)
        {
            await kinesalite.Admin.PutRecordsAsync(stream, pending, ct);
        }

        return payloads;
    }
}
