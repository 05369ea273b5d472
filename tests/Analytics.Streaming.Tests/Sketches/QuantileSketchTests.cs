using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Tests.Sketches;

public sealed class QuantileSketchTests
{
    private static readonly double[] Quantiles = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

    public static TheoryData<string, int> Distributions => new()
    {
        { "lognormal", 10 },
        { "lognormal", 1_000 },
        { "lognormal", 100_000 },
        { "uniform", 5_000 },
        { "pareto", 50_000 },
        { "mixed-sign", 20_000 },
        { "with-zeros", 10_000 },
    };

    [Theory]
    [MemberData(nameof(Distributions))]
    public void GetQuantile_GeneratedData_WithinRelativeAccuracyOfExactRank(string distribution, int size)
    {
        double[] values = Generate(distribution, size, seed: size);
        var sketch = new QuantileSketch();
        foreach (double v in values)
        {
            sketch.Add(v);
        }

        Array.Sort(values);
        foreach (double q in Quantiles)
        {
            double exact = values[(int)Math.Floor(q * (size - 1))];
            double estimate = sketch.GetQuantile(q);
            Assert.True(
                Math.Abs(estimate - exact) <= (sketch.RelativeAccuracy * Math.Abs(exact)) + 1e-12,
                $"{distribution} n={size} q={q}: estimate {estimate}, exact {exact}");
        }

        Assert.Equal(size, sketch.Count);
        Assert.Equal(values[0], sketch.Min);
        Assert.Equal(values[^1], sketch.Max);
        Assert.Equal(values.Sum(), sketch.Sum, 6);
    }

    [Fact]
    public void Merge_FourParts_EqualsSketchOfUnion()
    {
        double[] values = Generate("mixed-sign", 40_000, seed: 7);
        var union = new QuantileSketch();
        var parts = new[] { new QuantileSketch(), new QuantileSketch(), new QuantileSketch(), new QuantileSketch() };
        for (int i = 0; i < values.Length; i++)
        {
            union.Add(values[i]);
            parts[i % 4].Add(values[i]);
        }

        parts[2].Merge(parts[3]);
        parts[0].Merge(parts[1]);
        parts[0].Merge(parts[2]);
        Assert.Equal(union.Count, parts[0].Count);
        Assert.Equal(union.Min, parts[0].Min);
        Assert.Equal(union.Max, parts[0].Max);
        foreach (double q in Quantiles)
        {
            Assert.Equal(union.GetQuantile(q), parts[0].GetQuantile(q));
        }
    }

    [Fact]
    public void Add_RangeWiderThanBuckets_CollapsesLowestAndKeepsUpperQuantiles()
    {
        var sketch = new QuantileSketch(0.01, maxBins: 64);
        var values = new List<double>();
        for (int i = 0; i < 10_000; i++)
        {
            double v = Math.Pow(10, (i % 100) / 10.0); // 1 .. 1e10, far more than gamma^64
            values.Add(v);
            sketch.Add(v);
        }

        Assert.True(sketch.IsCollapsed);
        values.Sort();
        double exact = values[(int)Math.Floor(0.99 * (values.Count - 1))];
        Assert.InRange(sketch.GetQuantile(0.99), exact * 0.99, exact * 1.01);
        Assert.Equal(1.0, sketch.Min); // exact even after collapsing
        Assert.True(sketch.GetQuantile(0.01) <= sketch.GetQuantile(0.99));
    }

    [Fact]
    public void Deserialize_RoundTrip_PreservesEverything()
    {
        var sketch = new QuantileSketch(0.02, 512);
        foreach (double v in Generate("mixed-sign", 3_000, seed: 3))
        {
            sketch.Add(v);
        }

        sketch.Add(double.NaN);
        byte[] bytes = sketch.Serialize();
        Assert.Equal(sketch.SerializedSize, bytes.Length);
        QuantileSketch copy = QuantileSketch.Deserialize(bytes);
        Assert.Equal(sketch.Summarize(), copy.Summarize());
        Assert.Equal(1, copy.IgnoredCount);
        Assert.Equal(bytes, copy.Serialize());
    }

    [Fact]
    public void MergeSerialized_TwoParts_MatchesUnion()
    {
        var a = new QuantileSketch();
        var b = new QuantileSketch();
        var union = new QuantileSketch();
        double[] values = Generate("lognormal", 2_000, seed: 11);
        for (int i = 0; i < values.Length; i++)
        {
            (i < 500 ? a : b).Add(values[i]);
            union.Add(values[i]);
        }

        QuantileSketch merged = QuantileSketch.Deserialize(QuantileSketch.MergeSerialized(a.Serialize(), b.Serialize()));
        Assert.Equal(union.GetQuantile(0.99), merged.GetQuantile(0.99));
        Assert.Equal(union.Count, merged.Count);
    }

    [Fact]
    public void Deserialize_CorruptedOrInconsistent_ThrowsSketchFormatException()
    {
        var sketch = new QuantileSketch();
        sketch.Add(5);
        byte[] bytes = sketch.Serialize();
        Assert.Throws<SketchFormatException>(() => QuantileSketch.Deserialize(bytes.AsSpan(0, bytes.Length - 1)));
        byte[] flipped = (byte[])bytes.Clone();
        flipped[30] ^= 1;
        Assert.Throws<SketchFormatException>(() => QuantileSketch.Deserialize(flipped));
        Assert.Throws<SketchFormatException>(() => QuantileSketch.Deserialize(new HyperLogLogSketch(4).Serialize()));
    }

    [Fact]
    public void Summarize_Empty_IsNaNWithZeroCount()
    {
        QuantileSummary summary = new QuantileSketch().Summarize();
        Assert.Equal(0, summary.Count);
        Assert.True(double.IsNaN(summary.P99));
        Assert.True(double.IsNaN(summary.Min));
        Assert.True(double.IsNaN(summary.Mean));
    }

    [Fact]
    public void Merge_DifferentAccuracy_Throws()
    {
        Assert.Throws<ArgumentException>(() => new QuantileSketch(0.01).Merge(new QuantileSketch(0.02)));
        Assert.Contains("1024 buckets", Assert.Throws<ArgumentException>(() => new QuantileSketch(0.01, 2048).Merge(new QuantileSketch(0.01, 1024))).Message, StringComparison.Ordinal); // else the merge depends on its order
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantileSketch(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantileSketch(0.01, 8));
    }

    internal static double[] Generate(string distribution, int size, int seed)
    {
        var random = new Random(seed);
        var values = new double[size];
        for (int i = 0; i < size; i++)
        {
            double u = random.NextDouble();
            double normal = Math.Sqrt(-2 * Math.Log(1 - u)) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] = distribution switch
            {
                "lognormal" => Math.Exp(3 + (1.5 * normal)),
                "uniform" => 1 + (999 * u),
                "pareto" => 1 / Math.Pow(1 - u, 1 / 1.2),
                "mixed-sign" => normal * 100,
                "with-zeros" => i % 3 == 0 ? 0 : Math.Exp(normal),
                _ => throw new ArgumentOutOfRangeException(nameof(distribution)),
            };
        }

        return values;
    }
}
