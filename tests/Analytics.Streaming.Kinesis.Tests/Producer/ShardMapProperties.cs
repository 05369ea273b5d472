using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Kinesis.Tests.Producer;

/// <summary>The producer's shard map predicts the shard whose hash key range holds a key, for any layout of open and closed shards.</summary>
public sealed class ShardMapProperties
{
    public static class Layouts
    {
        /// <summary>Cuts of the 128-bit key space into 1 to 12 open shards, with some closed parents over the whole space.</summary>
        public static Arbitrary<(UInt128[] Cuts, ulong Probe)> Cuts() =>
            (from count in Gen.Choose(0, 11)
             from cuts in Gen.ArrayOf(Gen.Choose(1, int.MaxValue), count)
             from probe in Gen.Choose(0, int.MaxValue)
             select (cuts.Distinct().Order().Select(c => (UInt128)(uint)c << 96).ToArray(), (ulong)(uint)probe)).ToArbitrary();
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Layouts)])]
    public bool Find_AnyLayoutAndKey_IsTheOpenShardWhoseRangeHoldsTheKey((UInt128[] Cuts, ulong Probe) layout)
    {
        var shards = new List<KinesisShard>
        {
            // A closed parent over everything must never be predicted.
            new() { ShardId = "parent", HashKeyRange = KinesisHashKeyRange.All, SequenceNumberRange = new("1", "9") },
        };
        UInt128 start = 0;
        for (int i = 0; i <= layout.Cuts.Length; i++)
        {
            UInt128 end = i < layout.Cuts.Length ? layout.Cuts[i] - 1 : UInt128.MaxValue;
            shards.Add(new KinesisShard { ShardId = "shard-" + i, HashKeyRange = new(start, end), SequenceNumberRange = new("10", null) });
            start = end + 1;
        }

        var map = ShardMap.From(shards.OrderBy(s => s.ShardId, StringComparer.Ordinal));
        UInt128 key = (UInt128)layout.Probe << 96 | layout.Probe;
        string expected = shards.Single(s => !s.IsClosed && s.HashKeyRange.Contains(key)).ShardId;

        return map.Find(key) == expected && map.Count == layout.Cuts.Length + 1;
    }
}
