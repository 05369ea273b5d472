namespace Analytics.Streaming.Kinesis.Tests.Aggregation;

public sealed class KplAggregateBuilderTests
{
    [Fact]
    public void TryAdd_OverMaxSize_RefusesAndKeepsContent()
    {
        using var builder = new KplAggregateBuilder(maxSize: 200);
        Assert.True(builder.TryAdd(new byte[100], "a"));
        int size = builder.Size;

        Assert.False(builder.TryAdd(new byte[100], "b"));

        Assert.Equal(1, builder.Count);
        Assert.Equal(size, builder.Size);
        Assert.True(builder.Size <= builder.MaxSize);
    }

    [Fact]
    public void ToArray_FirstPartitionKeyIndexZero_IsWrittenExplicitly()
    {
        using var builder = new KplAggregateBuilder();
        builder.TryAdd([], "k");
        byte[] bytes = builder.ToArray();

        // magic, pk table entry (0A 01 'k'), record (1A 04 08 00 1A 00), MD5
        Assert.Equal(new byte[] { 0x0A, 0x01, (byte)'k', 0x1A, 0x04, 0x08, 0x00, 0x1A, 0x00 }, bytes[4..^16]);
    }

    [Fact]
    public void AggregateExplicitHashKey_FirstRecordWithoutHashKey_IsMd5OfItsPartitionKey()
    {
        using var builder = new KplAggregateBuilder();
        builder.TryAdd("x"u8, "a");
        builder.TryAdd("y"u8, "b", "5");

        Assert.Equal(KinesisHashKey.Format(KinesisHashKey.FromPartitionKey("a")), builder.AggregateExplicitHashKey);
    }

    [Fact]
    public void Clear_AfterUse_StartsAnEmptyAggregate()
    {
        using var builder = new KplAggregateBuilder();
        builder.TryAdd("x"u8, "a");
        builder.Clear();

        Assert.Equal(0, builder.Count);
        Assert.Equal(KplFormat.Overhead, builder.Size);
        Assert.Throws<InvalidOperationException>(() => builder.ToArray());
    }
}
