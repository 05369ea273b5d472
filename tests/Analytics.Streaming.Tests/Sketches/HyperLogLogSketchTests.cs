using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Tests.Sketches;

public sealed class HyperLogLogSketchTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(1_000)]
    [InlineData(10_000)]
    [InlineData(50_000)]
    [InlineData(200_000)]
    [InlineData(1_000_000)]
    public void Estimate_DistinctStrings_WithinThreeStandardErrors(int distinct)
    {
        var sketch = new HyperLogLogSketch();
        for (int i = 0; i < distinct; i++)
        {
            string value = "user-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            sketch.Add(value);
            if ((i & 3) == 0)
            {
                sketch.Add(value); // duplicates must not count
            }
        }

        long estimate = sketch.Estimate();
        double tolerance = Math.Max(1, 3 * sketch.StandardError * distinct);
        Assert.InRange(estimate, distinct - tolerance, distinct + tolerance);
    }

    [Theory]
    [InlineData(8, 5_000)]
    [InlineData(12, 30_000)]
    [InlineData(16, 300_000)]
    public void Estimate_OtherPrecisionsAndIntegers_WithinThreeStandardErrors(int precision, int distinct)
    {
        var sketch = new HyperLogLogSketch(precision);
        for (long i = 0; i < distinct; i++)
        {
            sketch.Add(i * 7919);
        }

        double tolerance = 3 * sketch.StandardError * distinct;
        Assert.InRange(sketch.Estimate(), distinct - tolerance, distinct + tolerance);
    }

    [Fact]
    public void Estimate_SmallCardinalities_AreNearlyExact()
    {
        var sketch = new HyperLogLogSketch();
        for (int i = 0; i < 200; i++)
        {
            sketch.Add(new Guid(i, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8));
        }

        // Linear-counting range: 200 values in 16,384 registers, error far below one standard error (1.6 values).
        Assert.InRange(sketch.Estimate(), 197, 203);
    }

    [Fact]
    public void Merge_TwoOverlappingSketches_EqualsSketchOfUnion()
    {
        var left = new HyperLogLogSketch();
        var right = new HyperLogLogSketch();
        var union = new HyperLogLogSketch();
        for (long i = 0; i < 60_000; i++)
        {
            left.Add(i);
            union.Add(i);
        }

        for (long i = 40_000; i < 100_000; i++)
        {
            right.Add(i);
            union.Add(i);
        }

        left.Merge(right);
        Assert.Equal(union.Serialize(), left.Serialize());
        Assert.InRange(left.Estimate(), 100_000 * (1 - (3 * left.StandardError)), 100_000 * (1 + (3 * left.StandardError)));
    }

    [Fact]
    public void Merge_FinerIntoCoarserAndBack_EqualsCoarseSketchOfUnion()
    {
        var fine = new HyperLogLogSketch(14);
        var coarse = new HyperLogLogSketch(11);
        var expected = new HyperLogLogSketch(11);
        for (long i = 0; i < 20_000; i++)
        {
            fine.Add(i);
            expected.Add(i);
        }

        for (long i = 15_000; i < 50_000; i++)
        {
            coarse.Add(i);
            expected.Add(i);
        }

        HyperLogLogSketch coarseCopy = coarse.Clone();
        coarse.Merge(fine);
        Assert.Equal(expected.Serialize(), coarse.Serialize());

        fine.Merge(coarseCopy);
        Assert.Equal(11, fine.Precision);
        Assert.Equal(expected.Serialize(), fine.Serialize());
    }

    [Fact]
    public void Deserialize_RoundTrip_PreservesRegistersAndEstimate()
    {
        var sketch = new HyperLogLogSketch(10);
        for (int i = 0; i < 5_000; i++)
        {
            sketch.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        byte[] bytes = sketch.Serialize();
        Assert.Equal(sketch.SerializedSize, bytes.Length);
        HyperLogLogSketch copy = HyperLogLogSketch.Deserialize(bytes);
        Assert.Equal(10, copy.Precision);
        Assert.Equal(sketch.Estimate(), copy.Estimate());
        Assert.Equal(bytes, copy.Serialize());
    }

    [Fact]
    public void MergeSerialized_TwoParts_EqualsSerializedUnion()
    {
        var a = new HyperLogLogSketch();
        var b = new HyperLogLogSketch();
        var union = new HyperLogLogSketch();
        for (long i = 0; i < 1_000; i++)
        {
            (i % 2 == 0 ? a : b).Add(i);
            union.Add(i);
        }

        Assert.Equal(union.Serialize(), HyperLogLogSketch.MergeSerialized(a.Serialize(), b.Serialize()));
    }

    [Fact]
    public void Deserialize_TruncatedCorruptedOrForeignBytes_ThrowsSketchFormatException()
    {
        var sketch = new HyperLogLogSketch(8);
        sketch.Add("x");
        byte[] bytes = sketch.Serialize();

        var truncated = Assert.Throws<SketchFormatException>(() => HyperLogLogSketch.Deserialize(bytes.AsSpan(0, bytes.Length - 3)));
        Assert.Contains("checksum", truncated.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", Assert.Throws<SketchFormatException>(() => HyperLogLogSketch.Deserialize(bytes.AsSpan(0, 5))).Message, StringComparison.Ordinal);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[20] ^= 0x40;
        Assert.Throws<SketchFormatException>(() => HyperLogLogSketch.Deserialize(flipped));

        byte[] quantile = new QuantileSketch().Serialize();
        Assert.Contains("quantile", Assert.Throws<SketchFormatException>(() => HyperLogLogSketch.Deserialize(quantile)).Message, StringComparison.Ordinal);

        byte[] future = (byte[])bytes.Clone();
        future[5] = 9;
        Assert.Contains("version 9", Assert.Throws<SketchFormatException>(() => HyperLogLogSketch.Deserialize(future)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_PrecisionOutOfRange_ThrowsWithAdvice()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new HyperLogLogSketch(3));
        Assert.Contains("between 4 and 18", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HyperLogLogSketch(19));
    }

    [Fact]
    public void Add_NullStringAndNaN_AreIgnored()
    {
        var sketch = new HyperLogLogSketch();
        sketch.Add((string?)null);
        sketch.Add(double.NaN);
        sketch.Add(double.PositiveInfinity);
        Assert.True(sketch.IsEmpty);
        Assert.Equal(0, sketch.Estimate());
    }
}
