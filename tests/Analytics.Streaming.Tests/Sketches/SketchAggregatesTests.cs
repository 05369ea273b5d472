using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Tests.Sketches;

public sealed class SketchAggregatesTests
{
    private readonly record struct Click(string UserId, string? Referrer, double LatencyMs, long SessionId);

    [Fact]
    public void DistinctCount_SlicesMerged_EqualsSingleAccumulator()
    {
        var aggregation = Aggregates.For<Click>().DistinctCount(e => e.UserId);
        var aggregator = aggregation.Aggregator;
        HyperLogLogSketch whole = aggregator.CreateAccumulator();
        HyperLogLogSketch[] slices = [aggregator.CreateAccumulator(), aggregator.CreateAccumulator(), aggregator.CreateAccumulator()];
        Click[] clicks = Clicks(30_000);
        for (int i = 0; i < clicks.Length; i++)
        {
            aggregator.Add(ref whole, clicks[i]);
            aggregator.Add(ref slices[i % 3], clicks[i]);
        }

        HyperLogLogSketch merged = aggregator.CreateAccumulator();
        foreach (HyperLogLogSketch slice in slices)
        {
            aggregator.Merge(ref merged, slice);
        }

        Assert.Equal(aggregator.GetResult(whole), aggregator.GetResult(merged));
        Assert.InRange(aggregator.GetResult(merged), 2_000 * 0.97, 2_000 * 1.03);
    }

    [Fact]
    public void DistinctCount_IntegerSelector_CountsDistinctSessions()
    {
        var aggregator = Aggregates.For<Click>().DistinctCount(e => e.SessionId, precision: 12).Aggregator;
        HyperLogLogSketch acc = aggregator.CreateAccumulator();
        foreach (Click click in Clicks(5_000))
        {
            aggregator.Add(ref acc, click);
        }

        Assert.Equal(12, acc.Precision);
        Assert.InRange(aggregator.GetResult(acc), 500 * 0.95, 500 * 1.05);
    }

    [Fact]
    public void Quantiles_LatencySelector_SummarizesWithinOnePercent()
    {
        var aggregator = Aggregates.For<Click>().Quantiles(e => e.LatencyMs).Aggregator;
        QuantileSketch acc = aggregator.CreateAccumulator();
        Click[] clicks = Clicks(10_000);
        foreach (Click click in clicks)
        {
            aggregator.Add(ref acc, click);
        }

        QuantileSummary summary = aggregator.GetResult(acc);
        double[] sorted = clicks.Select(c => c.LatencyMs).Order().ToArray();
        Assert.Equal(10_000, summary.Count);
        Assert.InRange(summary.P99, sorted[(int)(0.99 * 9_999)] * 0.99, sorted[(int)(0.99 * 9_999)] * 1.01);
        Assert.Equal(sorted[^1], summary.Max);
    }

    [Fact]
    public void TopK_ReferrerSelector_ReportsKItemsAndIgnoresNulls()
    {
        var aggregator = Aggregates.For<Click>().TopK(e => e.Referrer, k: 3).Aggregator;
        TopKSketch<string?> acc = aggregator.CreateAccumulator();
        TopKSketch<string?> other = aggregator.CreateAccumulator();
        Click[] clicks = Clicks(9_000);
        for (int i = 0; i < clicks.Length; i++)
        {
            aggregator.Add(ref i % 2 == 0 ? ref acc : ref other, clicks[i]);
        }

        aggregator.Merge(ref acc, other);
        TopKResult<string?> result = aggregator.GetResult(acc);
        Assert.Equal(3, result.Items.Count);
        Assert.Equal("search", result.Items[0].Item);
        Assert.Equal(clicks.Count(c => c.Referrer is not null), result.TotalCount);
    }

    [Fact]
    public void SketchAggregates_CombinedWithAnd_ProducesBothResults()
    {
        var a = Aggregates.For<Click>();
        var aggregator = a.DistinctCount(e => e.UserId).And(a.TopK(e => e.Referrer, k: 2)).Aggregator;
        var acc = aggregator.CreateAccumulator();
        foreach (Click click in Clicks(1_000))
        {
            aggregator.Add(ref acc, click);
        }

        (long visitors, TopKResult<string?> referrers) = aggregator.GetResult(acc);
        Assert.InRange(visitors, 990, 1_010);
        Assert.Equal(2, referrers.Items.Count);
    }

    [Fact]
    public void Factories_InvalidArguments_ThrowWhenPipelineIsBuilt()
    {
        var a = Aggregates.For<Click>();
        Assert.Throws<ArgumentOutOfRangeException>(() => a.DistinctCount(e => e.UserId, precision: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Quantiles(e => e.LatencyMs, relativeAccuracy: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.TopK(e => e.Referrer, k: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.TopK(e => e.Referrer, k: 10, capacity: 5));
        Assert.Throws<ArgumentNullException>(() => a.DistinctCount((Func<Click, string?>)null!));
    }

    [Fact]
    public void SketchResults_AreCopiesThatSerialize()
    {
        var a = Aggregates.For<Click>();
        var hll = a.DistinctCountSketch(e => e.UserId).Aggregator;
        HyperLogLogSketch acc = hll.CreateAccumulator();
        hll.Add(ref acc, new Click("u1", null, 1, 1));
        HyperLogLogSketch result = hll.GetResult(acc);
        hll.Add(ref acc, new Click("u2", null, 1, 1));
        Assert.Equal(1, HyperLogLogSketch.Deserialize(result.Serialize()).Estimate());

        var q = a.QuantileSketch(e => e.LatencyMs).Aggregator;
        QuantileSketch qa = q.CreateAccumulator();
        q.Add(ref qa, new Click("u1", null, 12.5, 1));
        Assert.Equal(12.5, q.GetResult(qa).GetQuantile(0.5), 2);
    }

    private static Click[] Clicks(int count)
    {
        var random = new Random(count);
        string?[] referrers = ["search", "search", "search", "search", "social", "social", "news", "mail", null];
        var clicks = new Click[count];
        for (int i = 0; i < count; i++)
        {
            clicks[i] = new Click(
                "user-" + (i % 2_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                referrers[random.Next(referrers.Length)],
                Math.Exp(3 + random.NextDouble() * 2),
                i % 500);
        }

        return clicks;
    }
}
