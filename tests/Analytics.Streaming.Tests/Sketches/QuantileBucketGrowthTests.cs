using System.Buffers.Binary;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Tests.Sketches;

/// <summary>
/// The quantile sketch's bucket array starts small and grows with the range of values. Whatever its size, the buckets
/// must be those of a store of <c>maxBins</c> buckets from the start: checked against a model of that store (every bucket
/// kept; once the range exceeds <c>maxBins</c>, everything below the lowest kept bucket folds into it).
/// </summary>
public sealed class QuantileBucketGrowthTests
{
    /// <summary>Offset of the positive bucket store in the binary form: header, then accuracy, max bins and six 8-byte fields.</summary>
    private const int PositiveStore = 6 + 8 + 4 + (6 * 8);

    public static TheoryData<int, int, double> Cases() => new()
    {
        { 16, 1, 0.01 },
        { 16, 2, 0.05 },
        { 64, 3, 0.01 },
        { 64, 4, 0.02 },
        { 1024, 5, 0.01 },
        { 1024, 6, 0.001 },
        { 4096, 7, 0.01 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Add_ValuesSpreadingOut_HoldTheBucketsOfAFullSizeStore(int maxBins, int seed, double accuracy)
    {
        double[] values = Spreading(seed, 5_000);
        var sketch = new QuantileSketch(accuracy, maxBins);
        var model = new Model(accuracy, maxBins);
        for (int i = 0; i < values.Length; i++)
        {
            sketch.Add(values[i]);
            model.Add(values[i]);
            if (i % 97 == 0 || i == values.Length - 1)
            {
                AssertBuckets(model, sketch);
            }
        }

        byte[] bytes = sketch.Serialize();
        Assert.Equal(bytes, QuantileSketch.Deserialize(bytes).Serialize());
        Assert.Equal(bytes, sketch.Clone().Serialize());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Merge_PartsThatGrewApart_HoldTheBucketsOfTheUnion(int seed)
    {
        double[] values = Spreading(seed, 3_000);
        var parts = new[] { new QuantileSketch(), new QuantileSketch(), new QuantileSketch() };
        var model = new Model(QuantileSketch.DefaultRelativeAccuracy, QuantileSketch.DefaultMaxBins);
        for (int i = 0; i < values.Length; i++)
        {
            parts[i * parts.Length / values.Length].Add(values[i]);
            model.Add(values[i]);
        }

        var merged = new QuantileSketch();
        foreach (var part in parts)
        {
            merged.Merge(part);
        }

        AssertBuckets(model, merged);
    }

    [Fact]
    public void NewSketch_AFewSimilarValues_TakesBytesNotKilobytes()
    {
        long allocated = Allocations.Of(
            () =>
            {
                var sketch = new QuantileSketch();
                for (int i = 0; i < 100; i++)
                {
                    sketch.Add(100 + (i % 10));
                }

                return sketch;
            },
            out QuantileSketch sketch);

        // 100 to 109 ms spans 5 buckets at 1%: the first 16-bucket array (128 bytes), not the 8 KiB of 1,024 buckets.
        Assert.InRange(allocated, 1, 512);
        Assert.Equal(100, sketch.Count);
    }

    /// <summary>Values whose spread widens as the stream goes on, with rare jumps far up and down.</summary>
    private static double[] Spreading(int seed, int count)
    {
        var random = new Random(seed);
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            double spread = 0.05 + (8.0 * i / count);
            double exponent = 3 + (spread * ((random.NextDouble() * 2) - 1));
            if (random.Next(200) == 0)
            {
                exponent += random.Next(2) == 0 ? 40 : -40;
            }

            values[i] = Math.Exp(exponent);
        }

        return values;
    }

    private static void AssertBuckets(Model model, QuantileSketch sketch)
    {
        byte[] bytes = sketch.Serialize();
        ReadOnlySpan<byte> store = bytes.AsSpan(PositiveStore);
        Assert.Equal(model.Collapsed, store[0] == 1);
        Assert.Equal(model.Collapsed, sketch.IsCollapsed);
        int first = BinaryPrimitives.ReadInt32LittleEndian(store[1..]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(store[5..]);
        var counts = new long[length];
        for (int i = 0; i < length; i++)
        {
            counts[i] = BinaryPrimitives.ReadInt64LittleEndian(store[(9 + (8 * i))..]);
        }

        (int modelFirst, long[] modelCounts) = model.Buckets();
        Assert.Equal(modelFirst, first);
        Assert.Equal(modelCounts, counts);
    }

    /// <summary>A store of every bucket by index, collapsed as a store of <c>maxBins</c> buckets collapses.</summary>
    private sealed class Model(double accuracy, int maxBins)
    {
        private readonly double _inverseLogGamma = 1.0 / Math.Log((1 + accuracy) / (1 - accuracy));
        private readonly SortedDictionary<int, long> _buckets = [];

        public bool Collapsed { get; private set; }

        public void Add(double value)
        {
            int index = (int)Math.Ceiling(Math.Log(value) * _inverseLogGamma);
            if (_buckets.Count == 0)
            {
                _buckets[index] = 1;
                return;
            }

            int lowest = Math.Max(_buckets.Keys.Last(), index) - maxBins + 1;
            if (index < lowest)
            {
                index = lowest;
                Collapsed = true;
            }

            _buckets[index] = _buckets.GetValueOrDefault(index) + 1;
            int[] below = [.. _buckets.Keys.TakeWhile(k => k < lowest)];
            if (below.Length > 0)
            {
                Collapsed = true;
                _buckets[lowest] = _buckets.GetValueOrDefault(lowest) + below.Sum(k => _buckets[k]);
                foreach (int k in below)
                {
                    _buckets.Remove(k);
                }
            }
        }

        public (int First, long[] Counts) Buckets()
        {
            int first = _buckets.Keys.First();
            var counts = new long[_buckets.Keys.Last() - first + 1];
            foreach (var (index, count) in _buckets)
            {
                counts[index - first] = count;
            }

            return (first, counts);
        }
    }
}
