using System.Security.Cryptography;
using System.Text;

namespace Analytics.Streaming.Kinesis.Tests.Aggregation;

public sealed class KplDeaggregatorTests
{
    private static readonly SequenceNumber Sequence = SequenceNumber.Parse("49590338271490256608559692538361571095921575989136588898");

    [Fact]
    public void TryDeaggregate_PlainRecord_YieldsItselfWithSubSequenceZero()
    {
        var output = new List<UserRecord>();
        bool ok = KplDeaggregator.TryDeaggregate(Record("hello"u8.ToArray(), "pk"), output, out string? error);

        Assert.True(ok, error);
        var single = Assert.Single(output);
        Assert.Equal("hello", Encoding.UTF8.GetString(single.Data.Span));
        Assert.Equal("pk", single.PartitionKey);
        Assert.Equal(0, single.SubSequenceNumber);
        Assert.False(single.IsAggregated);
        Assert.Equal(Sequence, single.SequenceNumber);
    }

    [Fact]
    public void TryDeaggregate_BuiltAggregate_RoundTripsWithSubSequences()
    {
        using var builder = new KplAggregateBuilder();
        Assert.True(builder.TryAdd("one"u8, "key-1"));
        Assert.True(builder.TryAdd([], "ключ-🔑"));
        Assert.True(builder.TryAdd("three"u8, "key-1", "170141183460469231731687303715884105728"));
        var output = new List<UserRecord>();

        bool ok = KplDeaggregator.TryDeaggregate(Record(builder.ToArray(), KplFormat.AggregatePartitionKey), output, out string? error);

        Assert.True(ok, error);
        Assert.Equal(3, output.Count);
        Assert.Equal(["key-1", "ключ-🔑", "key-1"], output.Select(r => r.PartitionKey));
        Assert.Equal([0L, 1L, 2L], output.Select(r => r.SubSequenceNumber));
        Assert.Equal("one", Encoding.UTF8.GetString(output[0].Data.Span));
        Assert.True(output[1].Data.IsEmpty);
        Assert.Null(output[0].ExplicitHashKey);
        Assert.Equal("170141183460469231731687303715884105728", output[2].ExplicitHashKey);
        Assert.All(output, r => Assert.True(r.IsAggregated));
    }

    [Fact]
    public void TryDeaggregate_BadChecksum_FailsWithReasonAndAppendsNothing()
    {
        using var builder = new KplAggregateBuilder();
        builder.TryAdd("one"u8, "a");
        builder.TryAdd("two"u8, "b");
        byte[] data = builder.ToArray();
        data[^1] ^= 0xFF;
        var output = new List<UserRecord> { default };

        bool ok = KplDeaggregator.TryDeaggregate(Record(data, "a"), output, out string? error);

        Assert.False(ok);
        Assert.Contains("checksum", error, StringComparison.OrdinalIgnoreCase);
        Assert.Single(output);
    }

    [Fact]
    public void TryDeaggregate_MissingRequiredPartitionKeyIndex_Fails()
    {
        // AggregatedRecord { partition_key_table: ["k"], records: [{ data: "x" }] } without field 1 in the record.
        byte[] message = [0x0A, 0x01, (byte)'k', 0x1A, 0x03, 0x1A, 0x01, (byte)'x'];
        var output = new List<UserRecord>();

        bool ok = KplDeaggregator.TryDeaggregate(Record(Frame(message), "a"), output, out string? error);

        Assert.False(ok);
        Assert.Contains("partition_key_index", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDeaggregate_IndexOutsideTable_Fails()
    {
        byte[] message = [0x0A, 0x01, (byte)'k', 0x1A, 0x05, 0x08, 0x03, 0x1A, 0x01, (byte)'x'];
        var output = new List<UserRecord>();

        bool ok = KplDeaggregator.TryDeaggregate(Record(Frame(message), "a"), output, out string? error);

        Assert.False(ok);
        Assert.Contains("outside the table", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDeaggregate_TruncatedProtobufWithValidChecksum_Fails()
    {
        byte[] message = [0x0A, 0x05, (byte)'k'];
        var output = new List<UserRecord>();

        Assert.False(KplDeaggregator.TryDeaggregate(Record(Frame(message), "a"), output, out string? error));
        Assert.Contains("malformed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Deaggregate_BadAggregate_ThrowsInvalidData()
    {
        byte[] data = Frame([0x0A, 0x01, (byte)'k']);
        data[5] ^= 1;
        Assert.Throws<InvalidDataException>(() => KplDeaggregator.Deaggregate(Record(data, "a")));
    }

    [Fact]
    public void TryDeaggregate_ManyRandomAggregates_RoundTrip()
    {
        var random = new Random(42);
        for (int round = 0; round < 200; round++)
        {
            using var builder = new KplAggregateBuilder(64 * 1024);
            var expected = new List<(byte[] Data, string Key, string? Hash)>();
            int count = random.Next(1, 40);
            for (int i = 0; i < count; i++)
            {
                byte[] data = new byte[random.Next(0, 300)];
                random.NextBytes(data);
                string key = "k" + random.Next(0, 5);
                string? hash = random.Next(3) == 0 ? random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                Assert.True(builder.TryAdd(data, key, hash));
                expected.Add((data, key, hash));
            }

            byte[] aggregate = builder.ToArray();
            Assert.Equal(builder.Size, aggregate.Length);
            var output = new List<UserRecord>();
            Assert.True(KplDeaggregator.TryDeaggregate(Record(aggregate, "a"), output, out string? error), error);
            Assert.Equal(expected.Count, output.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Data, output[i].Data.ToArray());
                Assert.Equal(expected[i].Key, output[i].PartitionKey);
                Assert.Equal(expected[i].Hash, output[i].ExplicitHashKey);
                Assert.Equal(i, output[i].SubSequenceNumber);
            }
        }
    }

    internal static KinesisRecord Record(byte[] data, string partitionKey) => new()
    {
        SequenceNumber = Sequence,
        Data = data,
        PartitionKey = partitionKey,
        ApproximateArrivalTimestamp = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000),
    };

    private static byte[] Frame(byte[] message)
    {
        byte[] result = new byte[KplFormat.Overhead + message.Length];
        KplFormat.Magic.CopyTo(result);
        message.CopyTo(result, 4);
        MD5.HashData(message).CopyTo(result, 4 + message.Length);
        return result;
    }
}
