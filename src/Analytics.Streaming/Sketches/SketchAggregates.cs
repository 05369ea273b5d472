using Analytics.Streaming.Sketches;

namespace Analytics.Streaming;

/// <summary>
/// Sketch aggregations on <see cref="AggregateFactory{TInput}"/>: distinct counts (HyperLogLog), quantiles
/// (DDSketch) and heavy hitters (Space-Saving). Arguments are validated here, when the pipeline is built.
/// </summary>
/// <example>
/// <code>
/// a.DistinctCount(e =&gt; e.UserId)                   // long: unique visitors, 0.81% standard error
/// a.Quantiles(e =&gt; e.LatencyMs)                     // QuantileSummary: p50/p90/p99/p99.9 within 1%
/// a.TopK(e =&gt; e.Referrer, k: 10)                   // TopKResult&lt;string&gt;
/// </code>
/// </example>
public static class SketchAggregates
{
    /// <summary>Counts distinct strings (hashed over UTF-16 code units); <see langword="null"/> is not counted.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value.</param>
    /// <param name="precision">HyperLogLog precision, 4 to 18 (default 14: 0.81% standard error; an accumulator takes 8 to 16 bytes per set register while sparse, at most 16 KiB).</param>
    /// <returns>The aggregation; its result is the estimated number of distinct values.</returns>
    public static Aggregation<TInput, DistinctCountAggregator<TInput, string?, StringSketchHasher>, HyperLogLogSketch, long> DistinctCount<TInput>(
        this AggregateFactory<TInput> factory, Func<TInput, string?> selector, int precision = HyperLogLogSketch.DefaultPrecision)
        => new(new(selector, precision));

    /// <summary>Counts distinct 64-bit integers.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value.</param>
    /// <param name="precision">HyperLogLog precision, 4 to 18.</param>
    /// <returns>The aggregation.</returns>
    public static Aggregation<TInput, DistinctCountAggregator<TInput, long, Int64SketchHasher>, HyperLogLogSketch, long> DistinctCount<TInput>(
        this AggregateFactory<TInput> factory, Func<TInput, long> selector, int precision = HyperLogLogSketch.DefaultPrecision)
        => new(new(selector, precision));

    /// <summary>Counts distinct GUIDs.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value.</param>
    /// <param name="precision">HyperLogLog precision, 4 to 18.</param>
    /// <returns>The aggregation.</returns>
    public static Aggregation<TInput, DistinctCountAggregator<TInput, Guid, GuidSketchHasher>, HyperLogLogSketch, long> DistinctCount<TInput>(
        this AggregateFactory<TInput> factory, Func<TInput, Guid> selector, int precision = HyperLogLogSketch.DefaultPrecision)
        => new(new(selector, precision));

    /// <summary>Counts distinct byte sequences (for example UTF-8 identifiers sliced from the raw record).</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value.</param>
    /// <param name="precision">HyperLogLog precision, 4 to 18.</param>
    /// <returns>The aggregation.</returns>
    public static Aggregation<TInput, DistinctCountAggregator<TInput, ReadOnlyMemory<byte>, BytesSketchHasher>, HyperLogLogSketch, long> DistinctCount<TInput>(
        this AggregateFactory<TInput> factory, Func<TInput, ReadOnlyMemory<byte>> selector, int precision = HyperLogLogSketch.DefaultPrecision)
        => new(new(selector, precision));

    /// <summary>Counts distinct values with your own hasher.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <typeparam name="THasher">The hasher struct.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value.</param>
    /// <param name="precision">HyperLogLog precision, 4 to 18.</param>
    /// <returns>The aggregation.</returns>
    public static Aggregation<TInput, DistinctCountAggregator<TInput, TValue, THasher>, HyperLogLogSketch, long> DistinctCount<TInput, TValue, THasher>(
        this AggregateFactory<TInput> factory, Func<TInput, TValue> selector, int precision = HyperLogLogSketch.DefaultPrecision)
        where THasher : struct, ISketchHasher<TValue>
        => new(new(selector, precision));

    /// <summary>Counts distinct strings and returns the sketch itself, to serialize (DynamoDB, S3) and merge later.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value.</param>
    /// <param name="precision">HyperLogLog precision, 4 to 18.</param>
    /// <returns>The aggregation; its result is a copy of the window's sketch.</returns>
    public static Aggregation<TInput, DistinctCountSketchAggregator<TInput, string?, StringSketchHasher>, HyperLogLogSketch, HyperLogLogSketch> DistinctCountSketch<TInput>(
        this AggregateFactory<TInput> factory, Func<TInput, string?> selector, int precision = HyperLogLogSketch.DefaultPrecision)
        => new(new(selector, precision));

    /// <summary>Summarizes a value: exact count, sum, min and max; p50, p90, p99 and p99.9 within a relative error.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value; NaN and infinities are ignored.</param>
    /// <param name="relativeAccuracy">The relative accuracy (default 0.01, 1%).</param>
    /// <param name="maxBins">Buckets per sign (default 1024: 8 decades of range at 1%; an accumulator takes 8 bytes per bucket of the range in use, at most 8 KiB).</param>
    /// <returns>The aggregation; its result is a <see cref="QuantileSummary"/>.</returns>
    public static Aggregation<TInput, QuantileAggregator<TInput>, QuantileSketch, QuantileSummary> Quantiles<TInput>(
        this AggregateFactory<TInput> factory,
        Func<TInput, double> selector,
        double relativeAccuracy = Sketches.QuantileSketch.DefaultRelativeAccuracy,
        int maxBins = Sketches.QuantileSketch.DefaultMaxBins)
        => new(new(selector, relativeAccuracy, maxBins));

    /// <summary>Builds a quantile sketch of a value and returns the sketch itself (any quantile, storage, later merges).</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the value; NaN and infinities are ignored.</param>
    /// <param name="relativeAccuracy">The relative accuracy (default 0.01, 1%).</param>
    /// <param name="maxBins">Buckets per sign (default 1024).</param>
    /// <returns>The aggregation; its result is a copy of the window's sketch.</returns>
    public static Aggregation<TInput, QuantileSketchAggregator<TInput>, QuantileSketch, QuantileSketch> QuantileSketch<TInput>(
        this AggregateFactory<TInput> factory,
        Func<TInput, double> selector,
        double relativeAccuracy = Sketches.QuantileSketch.DefaultRelativeAccuracy,
        int maxBins = Sketches.QuantileSketch.DefaultMaxBins)
        => new(new(selector, relativeAccuracy, maxBins));

    /// <summary>Finds the <paramref name="k"/> most frequent items (Space-Saving heavy hitters).</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TItem">The item type; strings compare ordinally. <see langword="null"/> items are ignored.</typeparam>
    /// <param name="factory">The factory.</param>
    /// <param name="selector">Selects the item.</param>
    /// <param name="k">How many items to report (default 10).</param>
    /// <param name="capacity">Counters kept (default <c>max(64, 10 k)</c>); counts over-estimate by at most <c>N / capacity</c>. An accumulator has room for 8 items to start and grows to this.</param>
    /// <returns>The aggregation; its result lists the items with their counts and error bounds.</returns>
    public static Aggregation<TInput, TopKAggregator<TInput, TItem>, TopKSketch<TItem>, TopKResult<TItem>> TopK<TInput, TItem>(
        this AggregateFactory<TInput> factory, Func<TInput, TItem> selector, int k = 10, int? capacity = null)
        => new(new(selector, k, capacity ?? TopKSketch.DefaultCapacity(k)));
}
