using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Kinesis.Tests.Aggregation;

/// <summary>What the KPL aggregate builder packs, the deaggregator gives back: every user record, in order, with its keys and sub-sequence number.</summary>
public sealed class KplRoundTripProperties
{
    public sealed record UserInput(string PartitionKey, string? ExplicitHashKey, byte[] Data)
    {
        public override string ToString() => $"({PartitionKey}, {ExplicitHashKey ?? "-"}, {Data.Length} bytes)";
    }

    public static class Inputs
    {
        public static Arbitrary<UserInput[]> Records() =>
            (from count in Gen.Choose(1, 40)
             from records in Gen.ArrayOf(
                 from key in Gen.Elements("a", "k1", "k2", "ключ", "🙂", new string('x', 256))
                 from hash in Gen.Frequency((3, Gen.Constant<string?>(null)), (1, Gen.Elements<string?>("0", "1", "340282366920938463463374607431768211455", "170141183460469231731687303715884105728")))
                 from length in Gen.Choose(0, 300)
                 from seed in Gen.Choose(0, 255)
                 select new UserInput(key, hash, Enumerable.Range(0, length).Select(i => (byte)(seed + i)).ToArray()), count)
             select records).ToArbitrary();
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(Inputs)])]
    public bool BuildThenDeaggregate_AnyRecords_GivesThemBackInOrder(UserInput[] records)
    {
        using var builder = new KplAggregateBuilder(maxSize: 1024 * 1024);
        foreach (var record in records)
        {
            Assert.True(builder.TryAdd(record.Data, record.PartitionKey, record.ExplicitHashKey));
        }

        byte[] aggregate = builder.ToArray();
        var output = new List<UserRecord>();
        bool ok = KplDeaggregator.TryDeaggregate(aggregate, KplFormat.AggregatePartitionKey, SequenceNumber.FromInt64(42), null, output, out string? error);

        return ok && error is null
            && aggregate.Length == builder.Size
            && output.Count == records.Length
            && output.Select((u, i) => u.SubSequenceNumber == i
                && u.IsAggregated
                && u.PartitionKey == records[i].PartitionKey
                && u.ExplicitHashKey == records[i].ExplicitHashKey
                && u.Data.Span.SequenceEqual(records[i].Data)
                && u.SequenceNumber == SequenceNumber.FromInt64(42)).All(same => same);
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(Inputs)])]
    public bool TryAdd_UnderASmallLimit_NeverBuildsALargerAggregate(UserInput[] records)
    {
        using var builder = new KplAggregateBuilder(maxSize: 512);
        foreach (var record in records)
        {
            if (!builder.TryAdd(record.Data, record.PartitionKey, record.ExplicitHashKey))
            {
                builder.Clear();
                builder.TryAdd(record.Data, record.PartitionKey, record.ExplicitHashKey);
            }

            if (builder.Count > 1 && builder.Size > builder.MaxSize)
            {
                return false;
            }
        }

        return builder.ToArray().Length == builder.Size;
    }
}
