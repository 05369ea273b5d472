using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Tests.Sketches;

public sealed class TopKSketchTests
{
    [Theory]
    [InlineData(1_000, 1.1)]
    [InlineData(100_000, 1.1)]
    [InlineData(200_000, 0.8)]
    public void GetTop_ZipfStream_FindsTrueHeavyHittersWithinBounds(int size, double exponent)
    {
        string[] stream = Zipf(size, distinct: 5_000, exponent, seed: size);
        var sketch = new TopKSketch<string>(TopKSketch.DefaultCapacity(10));
        var exact = new Dictionary<string, long>();
        foreach (string item in stream)
        {
            sketch.Add(item);
            exact[item] = exact.GetValueOrDefault(item) + 1;
        }

        AssertBoundsAndRecall(sketch, exact, size);
    }

    [Fact]
    public void Merge_FourShards_KeepsBoundsAndRecall()
    {
        string[] stream = Zipf(120_000, distinct: 20_000, 1.0, seed: 5);
        var shards = new[] { new TopKSketch<string>(100), new TopKSketch<string>(100), new TopKSketch<string>(100), new TopKSketch<string>(100) };
        var exact = new Dictionary<string, long>();
        for (int i = 0; i < stream.Length; i++)
        {
            shards[i % 4].Add(stream[i]);
            exact[stream[i]] = exact.GetValueOrDefault(stream[i]) + 1;
        }

        shards[0].Merge(shards[1]);
        shards[2].Merge(shards[3]);
        shards[0].Merge(shards[2]);
        Assert.Equal(stream.Length, shards[0].TotalCount);
        AssertBoundsAndRecall(shards[0], exact, stream.Length);
    }

    [Fact]
    public void Merge_AnotherCapacity_IsRefusedWithTheTwoCapacities()
    {
        // A full sketch of 1 counter merged into one of 100 would leave the result with room and no error bound for
        // what the small one evicted: "x", counted 5 times, would read 0 with error 0.
        var small = new TopKSketch<string>(1);
        for (int i = 0; i < 5; i++)
        {
            small.Add("x");
        }

        for (int i = 0; i < 6; i++)
        {
            small.Add("y");
        }

        var large = new TopKSketch<string>(100);

        var error = Assert.Throws<ArgumentException>(() => large.Merge(small));
        Assert.Contains("capacity 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("capacity 100", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, large.TotalCount);
    }

    [Fact]
    public void Merge_TwoFullSketchesOfTheLargestCapacity_Merge()
    {
        var left = new TopKSketch<int>(TopKSketch.MaxCapacity);
        var right = new TopKSketch<int>(TopKSketch.MaxCapacity);
        for (int i = 0; i < TopKSketch.MaxCapacity; i++)
        {
            left.Add(i);
            right.Add(i + TopKSketch.MaxCapacity);
        }

        left.Merge(right);

        Assert.Equal(2L * TopKSketch.MaxCapacity, left.TotalCount);
        Assert.Equal(TopKSketch.MaxCapacity, left.Size);
        Assert.All(left.GetTop(10), h => Assert.True(h.Count >= 1 && h.Count - h.Error <= 1));
    }

    [Fact]
    public void Add_ManyEvictions_IndexStaysConsistent()
    {
        var sketch = new TopKSketch<long>(16);
        var random = new Random(1);
        for (int i = 0; i < 50_000; i++)
        {
            sketch.Add(random.Next(200));
        }

        HeavyHitter<long>[] top = sketch.GetTop(16);
        Assert.Equal(16, top.Length);
        Assert.Equal(16, top.Select(h => h.Item).Distinct().Count());
        foreach (HeavyHitter<long> hit in top)
        {
            Assert.Equal(hit, sketch.Estimate(hit.Item)); // found through the hash index
        }

        Assert.Equal(50_000, top.Sum(h => h.Count)); // Space-Saving: the counters add up to N
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(100)]
    [InlineData(1_000)]
    public void Add_ItemsArrivingOneByOne_GrowTheCountersWithoutLosingAnItem(int capacity)
    {
        // The counters start with room for 8 items and double: every step must keep every item, found by its index.
        var sketch = new TopKSketch<string>(capacity);
        var exact = new Dictionary<string, long>();
        for (int i = 0; i < 2_500; i++)
        {
            string item = "item-" + (i % 1_200).ToString(System.Globalization.CultureInfo.InvariantCulture);
            sketch.Add(item, 1 + (i % 3));
            exact[item] = exact.GetValueOrDefault(item) + 1 + (i % 3);
            Assert.Equal(Math.Min(exact.Count, capacity), sketch.Size);
            if (exact.Count <= capacity)
            {
                // Room for every item so far: exact counts, no error (MaxError is the minimum once every counter is taken).
                Assert.Equal(exact.Count < capacity ? 0 : exact.Values.Min(), sketch.MaxError);
                Assert.All(exact, p => Assert.Equal(new HeavyHitter<string>(p.Key, p.Value, 0), sketch.Estimate(p.Key)));
            }
        }

        Assert.Equal(capacity, sketch.Capacity);
        byte[] bytes = sketch.Serialize(SketchItemCodecs.Utf8Strings);
        Assert.Equal(bytes, TopKSketch.Deserialize(bytes, SketchItemCodecs.Utf8Strings).Serialize(SketchItemCodecs.Utf8Strings));
        Assert.Equal(bytes, sketch.Clone().Serialize(SketchItemCodecs.Utf8Strings));
    }

    [Fact]
    public void NewSketch_AFewItems_TakesBytesNotKilobytes()
    {
        string[] items = ["/", "/cart", "/search"];
        long allocated = Allocations.Of(
            () =>
            {
                var sketch = new TopKSketch<string>(1_000);
                foreach (string item in items)
                {
                    sketch.Add(item);
                }

                return sketch;
            },
            out TopKSketch<string> sketch);

        // Room for 8 items (about 300 bytes with their index), not 1,000 counters (about 56 KiB).
        Assert.InRange(allocated, 1, 1024);
        Assert.Equal(3, sketch.Size);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 2)]
    [InlineData(64, 3)]
    [InlineData(300, 4)]
    public void Add_UnitAndWeightedCounts_KeepGuaranteesAndOrderThroughCopies(int capacity, int seed)
    {
        // Mixed single and weighted additions over a skewed stream; every 997 additions the sketch is replaced by
        // its clone or its deserialized copy, so the ranking rebuilt there is also exercised by later additions.
        var random = new Random(seed);
        var sketch = new TopKSketch<string>(capacity);
        var exact = new Dictionary<string, long>();
        long total = 0;
        for (int i = 1; i <= 40_000; i++)
        {
            string item = "item-" + ((int)Math.Pow(random.Next(1, 4_000), 1.6) % 5_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            long count = random.Next(4) == 0 ? random.Next(1, 50) : 1;
            sketch.Add(item, count);
            exact[item] = exact.GetValueOrDefault(item) + count;
            total += count;
            if (i % 997 == 0)
            {
                sketch = i % 2 == 0 ? sketch.Clone() : TopKSketch.Deserialize(sketch.Serialize(SketchItemCodecs.Utf8Strings), SketchItemCodecs.Utf8Strings);
            }

            if (i % 3_001 == 0 || i == 40_000)
            {
                HeavyHitter<string>[] top = sketch.GetTop(capacity);
                Assert.Equal(total, sketch.TotalCount);
                Assert.Equal(total, top.Sum(h => h.Count)); // Space-Saving: the counters add up to N
                Assert.Equal(top.Min(h => h.Count), sketch.MaxError); // the ranking's last counter is the minimum
                Assert.True(sketch.MaxError <= total / capacity, $"max error {sketch.MaxError} above N/m");
                foreach (HeavyHitter<string> hit in top)
                {
                    Assert.InRange(exact[hit.Item], hit.GuaranteedCount, hit.Count);
                    Assert.Equal(hit, sketch.Estimate(hit.Item)); // found through the index
                }

                var held = top.Select(h => h.Item).ToHashSet();
                Assert.All(exact.Where(p => p.Value > total / capacity), p => Assert.Contains(p.Key, held));
            }
        }
    }

    [Theory]
    [InlineData(16, 5)]
    [InlineData(100, 6)]
    public void Deserialize_MidStream_ContinuesExactlyLikeTheSketchThatWasNotRestarted(int capacity, int seed)
    {
        // A window's top-K state goes through checkpoints: the restored sketch must choose the same counters to
        // replace among equal counts and merge the same way, or a restart would change results that an uninterrupted
        // run gives. Near-uniform items over three times the capacity make most counts (and errors) tied.
        var random = new Random(seed);
        string[] stream = Enumerable.Range(0, 20_000).Select(_ => "item-" + random.Next(3 * capacity).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var uninterrupted = new TopKSketch<string>(capacity);
        var shard = new TopKSketch<string>(capacity);
        TopKSketch<string> restarted = new(capacity);
        for (int i = 0; i < stream.Length; i++)
        {
            uninterrupted.Add(stream[i]);
            restarted.Add(stream[i]);
            shard.Add(stream[(i * 7) % stream.Length]);
            if (i % 1_000 == 999)
            {
                // Restarted from its last checkpoint: the bytes of what it had (equal to the uninterrupted sketch's).
                restarted = TopKSketch.Deserialize(restarted.Serialize(SketchItemCodecs.Utf8Strings), SketchItemCodecs.Utf8Strings);
            }

            if (i % 3_000 == 2_999)
            {
                uninterrupted.Merge(shard);
                restarted.Merge(shard);
            }

            if (i % 1_000 == 500)
            {
                Assert.Equal(uninterrupted.Serialize(SketchItemCodecs.Utf8Strings), restarted.Serialize(SketchItemCodecs.Utf8Strings));
            }
        }

        Assert.Equal(uninterrupted.GetTop(capacity), restarted.GetTop(capacity));
    }

    [Fact]
    public void Deserialize_RoundTrip_PreservesCountsAndErrors()
    {
        var sketch = new TopKSketch<string>(8);
        foreach (string item in Zipf(5_000, 100, 1.2, seed: 9))
        {
            sketch.Add(item);
        }

        byte[] bytes = sketch.Serialize(SketchItemCodecs.Utf8Strings);
        TopKSketch<string> copy = TopKSketch.Deserialize(bytes, SketchItemCodecs.Utf8Strings);
        Assert.Equal(sketch.GetTop(8), copy.GetTop(8));
        Assert.Equal(sketch.TotalCount, copy.TotalCount);
        Assert.Equal(sketch.MaxError, copy.MaxError);

        byte[] merged = TopKSketch.MergeSerialized(bytes, bytes, SketchItemCodecs.Utf8Strings);
        Assert.Equal(2 * sketch.TotalCount, TopKSketch.Deserialize(merged, SketchItemCodecs.Utf8Strings).TotalCount);
    }

    [Fact]
    public void Deserialize_BadBytesOrWrongCodec_ThrowsSketchFormatException()
    {
        var sketch = new TopKSketch<long>(4);
        sketch.Add(42);
        byte[] bytes = sketch.Serialize(SketchItemCodecs.Integers);
        Assert.Contains("item type", Assert.Throws<SketchFormatException>(() => TopKSketch.Deserialize(bytes, SketchItemCodecs.Guids)).Message, StringComparison.Ordinal);
        Assert.Throws<SketchFormatException>(() => TopKSketch.Deserialize(bytes.AsSpan(0, 20), SketchItemCodecs.Integers));
        byte[] flipped = (byte[])bytes.Clone();
        flipped[12] ^= 0x80;
        Assert.Throws<SketchFormatException>(() => TopKSketch.Deserialize(flipped, SketchItemCodecs.Integers));
    }

    [Fact]
    public void Add_NullItem_IsIgnored()
    {
        var sketch = new TopKSketch<string?>(4);
        sketch.Add(null);
        sketch.Add("a");
        Assert.Equal(1, sketch.TotalCount);
        Assert.Single(sketch.GetTop(4));
    }

    private static void AssertBoundsAndRecall(TopKSketch<string> sketch, Dictionary<string, long> exact, long total)
    {
        HeavyHitter<string>[] top = sketch.GetTop(sketch.Capacity);
        foreach (HeavyHitter<string> hit in top)
        {
            long truth = exact[hit.Item];
            Assert.InRange(truth, hit.GuaranteedCount, hit.Count);
            Assert.True(hit.Error <= total / sketch.Capacity, $"error {hit.Error} above N/m");
        }

        // Every item above N / capacity is held; the true top 10 are reported in the top 10 when well separated.
        var held = top.Select(h => h.Item).ToHashSet();
        foreach ((string item, long count) in exact)
        {
            if (count > total / sketch.Capacity)
            {
                Assert.Contains(item, held);
            }
        }

        var trueTop = exact.OrderByDescending(p => p.Value).Take(10).Select(p => p.Key).ToHashSet();
        int hits = sketch.GetTop(10).Count(h => trueTop.Contains(h.Item));
        Assert.True(hits >= 9, $"recall {hits}/10");
    }

    internal static string[] Zipf(int size, int distinct, double exponent, int seed)
    {
        var cumulative = new double[distinct];
        double sum = 0;
        for (int i = 0; i < distinct; i++)
        {
            sum += 1 / Math.Pow(i + 1, exponent);
            cumulative[i] = sum;
        }

        var names = new string[distinct];
        for (int i = 0; i < distinct; i++)
        {
            names[i] = "https://ref-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".example/";
        }

        var random = new Random(seed);
        var stream = new string[size];
        for (int i = 0; i < size; i++)
        {
            int index = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            stream[i] = names[index < 0 ? Math.Min(~index, distinct - 1) : index];
        }

        return stream;
    }
}
