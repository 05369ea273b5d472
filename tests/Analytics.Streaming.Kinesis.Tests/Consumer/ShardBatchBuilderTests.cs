using System.Text;

namespace Analytics.Streaming.Kinesis.Tests.Consumer;

public sealed class ShardBatchBuilderTests
{
    private const string Shard = "shardId-000000000001";
    private static readonly StreamPosition Fallback = new(Shard, SequenceNumber.FromInt64(999));

    [Fact]
    public void Build_PlainRecords_KeepsOrderDataKeysAndPositions()
    {
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, resumeAfter: null, default);

        var batch = builder.Build([Record(10, "a", "one"), Record(11, "b", "two")], TimeSpan.FromSeconds(3), false, Fallback, out long bytes);

        Assert.Equal(Shard, batch.PartitionId);
        Assert.Equal(["a|one", "b|two"], Texts(batch));
        Assert.Equal([10L, 11L], Sequences(batch));
        Assert.Equal(new StreamPosition(Shard, SequenceNumber.FromInt64(11)), batch.EndPosition);
        Assert.Equal(TimeSpan.FromSeconds(3), batch.BehindLatest);
        Assert.False(batch.IsEndOfPartition);
        Assert.Equal(6, bytes);
    }

    [Fact]
    public void Build_Aggregate_UnpacksUserRecordsWithSubSequences()
    {
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, resumeAfter: null, default);
        byte[] aggregate = TestKplAggregate.Encode(("k1", null, "x"u8.ToArray()), ("k2", null, []), ("ключ", null, "z"u8.ToArray()));

        var batch = builder.Build([Record(5, "a", aggregate), Record(6, "p", "plain")], null, false, Fallback, out _);

        Assert.Equal(["k1|x", "k2|", "ключ|z", "p|plain"], Texts(batch));
        Assert.Equal([0L, 1L, 2L, 0L], batch.Records.ToArray().Select(r => r.SubSequence));
        Assert.Equal([5L, 5L, 5L, 6L], Sequences(batch));
    }

    [Fact]
    public void Build_DeaggregateOff_PassesAggregateThroughAsOneRecord()
    {
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: false, resumeAfter: null, default);
        byte[] aggregate = TestKplAggregate.Encode(("k1", null, "x"u8.ToArray()), ("k2", null, "y"u8.ToArray()));

        var batch = builder.Build([Record(5, "a", aggregate)], null, false, Fallback, out _);

        Assert.Equal(1, batch.Records.Length);
        Assert.Equal(aggregate, batch.Records.Span[0].Value.Data.ToArray());
    }

    [Fact]
    public void Build_AggregateWithBadChecksum_GoesToDeadLettersAndOthersFlow()
    {
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, resumeAfter: null, default);
        byte[] aggregate = TestKplAggregate.Encode(("k1", null, "x"u8.ToArray()), ("k2", null, "y"u8.ToArray()));
        aggregate[^1] ^= 0xFF;

        var batch = builder.Build([Record(5, "a", aggregate), Record(6, "p", "after")], null, false, Fallback, out _);

        Assert.Equal(["p|after"], Texts(batch));
        var deadLetter = Assert.Single(batch.DeadLetters);
        Assert.Equal(DeadLetterReason.InvalidRecord, deadLetter.Reason);
        Assert.Equal(new StreamPosition(Shard, SequenceNumber.FromInt64(5)), deadLetter.Position);
        Assert.Contains("MD5", deadLetter.Message, StringComparison.Ordinal);
        Assert.Equal(aggregate, deadLetter.Payload.ToArray());
        Assert.Equal(new StreamPosition(Shard, SequenceNumber.FromInt64(6)), batch.EndPosition);
    }

    [Fact]
    public void Build_AggregateOutsideShardRange_IsDroppedWhole()
    {
        var lowerHalf = new KinesisHashKeyRange(UInt128.Zero, UInt128.MaxValue / 2);
        var builder = new ShardBatchBuilder(Shard, lowerHalf, deaggregate: true, resumeAfter: null, default);
        string inside = "1";
        string outside = KinesisHashKey.Format(UInt128.MaxValue - 1);
        byte[] misrouted = TestKplAggregate.Encode(("k1", inside, "x"u8.ToArray()), ("k2", outside, "y"u8.ToArray()));
        byte[] routed = TestKplAggregate.Encode(("k3", inside, "z"u8.ToArray()), ("k4", inside, "w"u8.ToArray()));

        var batch = builder.Build([Record(5, "a", misrouted), Record(6, "a", routed)], null, false, Fallback, out _);

        Assert.Equal(["k3|z", "k4|w"], Texts(batch));
        Assert.Empty(batch.DeadLetters);
    }

    [Fact]
    public void Build_AggregateWithInvalidExplicitHashKey_GoesToDeadLetters()
    {
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, resumeAfter: null, default);
        byte[] aggregate = TestKplAggregate.Encode(("k1", "not-a-number", "x"u8.ToArray()), ("k2", null, "y"u8.ToArray()));

        var batch = builder.Build([Record(5, "a", aggregate)], null, false, Fallback, out _);

        Assert.Equal(0, batch.Records.Length);
        var deadLetter = Assert.Single(batch.DeadLetters);
        Assert.Contains("explicit hash key", deadLetter.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ResumeInsideAggregate_DropsProcessedUserRecordsOnly()
    {
        var checkpoint = new StreamPosition(Shard, SequenceNumber.FromInt64(5), 1);
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, checkpoint, default);
        byte[] aggregate = TestKplAggregate.Encode(("k0", null, "0"u8.ToArray()), ("k1", null, "1"u8.ToArray()), ("k2", null, "2"u8.ToArray()));

        var batch = builder.Build([Record(5, "a", aggregate), Record(6, "p", "next")], null, false, Fallback, out _);

        Assert.Equal(["k2|2", "p|next"], Texts(batch));
        Assert.Equal(2L, batch.Records.Span[0].SubSequence);
    }

    [Fact]
    public void Build_ResumeAtPlainRecord_DropsTheCheckpointedRecord()
    {
        var checkpoint = new StreamPosition(Shard, SequenceNumber.FromInt64(7));
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, checkpoint, default);

        var batch = builder.Build([Record(7, "a", "done"), Record(8, "b", "new")], null, false, Fallback, out _);

        Assert.Equal(["b|new"], Texts(batch));
    }

    [Fact]
    public void Build_EmptyEndOfShardWithoutRecords_EndsAtFallback()
    {
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, resumeAfter: null, default);

        var batch = builder.Build([], TimeSpan.Zero, isEndOfShard: true, Fallback, out _);

        Assert.True(batch.IsEndOfPartition);
        Assert.Equal(Fallback, batch.EndPosition);
        Assert.Equal(0, batch.Records.Length);
    }

    [Fact]
    public void Build_EmptyEndOfShardAfterRecords_EndsAtLastRecord()
    {
        var builder = new ShardBatchBuilder(Shard, KinesisHashKeyRange.All, deaggregate: true, resumeAfter: null, default);
        builder.Build([Record(3, "a", "x")], null, false, Fallback, out _);

        var batch = builder.Build([], null, isEndOfShard: true, Fallback, out _);

        Assert.Equal(new StreamPosition(Shard, SequenceNumber.FromInt64(3)), batch.EndPosition);
        Assert.Equal(SequenceNumber.FromInt64(3), builder.LastSequenceNumber);
    }

    private static KinesisRecord Record(long sequence, string partitionKey, string text) => Record(sequence, partitionKey, Encoding.UTF8.GetBytes(text));

    private static KinesisRecord Record(long sequence, string partitionKey, byte[] data) => new()
    {
        SequenceNumber = SequenceNumber.FromInt64(sequence),
        PartitionKey = partitionKey,
        Data = data,
        ApproximateArrivalTimestamp = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero),
    };

    private static string[] Texts(RecordBatch<RawRecord> batch) =>
        batch.Records.ToArray().Select(r => r.Value.PartitionKey + "|" + Encoding.UTF8.GetString(r.Value.Data.Span)).ToArray();

    private static long[] Sequences(RecordBatch<RawRecord> batch) => batch.Records.ToArray().Select(r => r.Sequence.ToInt64()).ToArray();
}
