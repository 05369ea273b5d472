namespace Analytics.Streaming.Sketches;

/// <summary>Counts distinct values with a <see cref="HyperLogLogSketch"/>; the result is the estimate.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TValue">The type of the counted value.</typeparam>
/// <typeparam name="THasher">Hashes the value (a struct, inlined by the JIT).</typeparam>
/// <remarks>Values the hasher declines (<see langword="null"/> strings, NaN) are not counted. Add never allocates.</remarks>
public readonly struct DistinctCountAggregator<TInput, TValue, THasher> : IAggregator<TInput, HyperLogLogSketch, long>, IPersistentAggregator<HyperLogLogSketch>
    where THasher : struct, ISketchHasher<TValue>
{
    /// <inheritdoc />
    public IStateCodec<HyperLogLogSketch>? AccumulatorCodec => SketchCodecs.HyperLogLog;

    private readonly Func<TInput, TValue> _selector;
    private readonly int _precision;

    /// <summary>Initializes the aggregator.</summary>
    /// <param name="selector">Selects the counted value.</param>
    /// <param name="precision">The HyperLogLog precision (4 to 18).</param>
    /// <exception cref="ArgumentNullException">The selector is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The precision is out of range.</exception>
    public DistinctCountAggregator(Func<TInput, TValue> selector, int precision)
    {
        ArgumentNullException.ThrowIfNull(selector);
        HyperLogLogSketch.ValidatePrecision(precision);
        _selector = selector;
        _precision = precision;
    }

    /// <inheritdoc />
    public HyperLogLogSketch CreateAccumulator() => new(_precision == 0 ? HyperLogLogSketch.DefaultPrecision : _precision);

    /// <inheritdoc />
    public void Add(ref HyperLogLogSketch accumulator, in TInput input)
    {
        if (default(THasher).TryHash(_selector(input), out ulong hash))
        {
            accumulator.AddHash(hash);
        }
    }

    /// <inheritdoc />
    public void Merge(ref HyperLogLogSketch accumulator, in HyperLogLogSketch other) => accumulator.Merge(other);

    /// <inheritdoc />
    public long GetResult(in HyperLogLogSketch accumulator) => accumulator.Estimate();
}

/// <summary>Like <see cref="DistinctCountAggregator{TInput, TValue, THasher}"/>, but the result is a copy of the sketch (to store and merge later).</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TValue">The type of the counted value.</typeparam>
/// <typeparam name="THasher">Hashes the value.</typeparam>
public readonly struct DistinctCountSketchAggregator<TInput, TValue, THasher> : IAggregator<TInput, HyperLogLogSketch, HyperLogLogSketch>, IPersistentAggregator<HyperLogLogSketch>
    where THasher : struct, ISketchHasher<TValue>
{
    /// <inheritdoc />
    public IStateCodec<HyperLogLogSketch>? AccumulatorCodec => SketchCodecs.HyperLogLog;

    private readonly DistinctCountAggregator<TInput, TValue, THasher> _inner;

    /// <summary>Initializes the aggregator.</summary>
    /// <param name="selector">Selects the counted value.</param>
    /// <param name="precision">The HyperLogLog precision (4 to 18).</param>
    public DistinctCountSketchAggregator(Func<TInput, TValue> selector, int precision) => _inner = new(selector, precision);

    /// <inheritdoc />
    public HyperLogLogSketch CreateAccumulator() => _inner.CreateAccumulator();

    /// <inheritdoc />
    public void Add(ref HyperLogLogSketch accumulator, in TInput input) => _inner.Add(ref accumulator, input);

    /// <inheritdoc />
    public void Merge(ref HyperLogLogSketch accumulator, in HyperLogLogSketch other) => accumulator.Merge(other);

    /// <inheritdoc />
    public HyperLogLogSketch GetResult(in HyperLogLogSketch accumulator) => accumulator.Clone();
}

/// <summary>Summarizes a value with a <see cref="QuantileSketch"/>: count, sum, min, max, p50, p90, p99, p99.9.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <remarks>NaN and infinities are ignored. Add never allocates (except once for the first negative value).</remarks>
public readonly struct QuantileAggregator<TInput> : IAggregator<TInput, QuantileSketch, QuantileSummary>, IPersistentAggregator<QuantileSketch>
{
    /// <inheritdoc />
    public IStateCodec<QuantileSketch>? AccumulatorCodec => SketchCodecs.Quantile;

    private readonly Func<TInput, double> _selector;
    private readonly double _relativeAccuracy;
    private readonly int _maxBins;

    /// <summary>Initializes the aggregator.</summary>
    /// <param name="selector">Selects the value.</param>
    /// <param name="relativeAccuracy">The relative accuracy (0 to 1, exclusive).</param>
    /// <param name="maxBins">The bucket count per sign (16 to 65536).</param>
    public QuantileAggregator(Func<TInput, double> selector, double relativeAccuracy, int maxBins)
    {
        ArgumentNullException.ThrowIfNull(selector);
        QuantileSketch.Validate(relativeAccuracy, maxBins);
        _selector = selector;
        _relativeAccuracy = relativeAccuracy;
        _maxBins = maxBins;
    }

    /// <inheritdoc />
    public QuantileSketch CreateAccumulator()
        => _maxBins == 0 ? new QuantileSketch() : new QuantileSketch(_relativeAccuracy, _maxBins);

    /// <inheritdoc />
    public void Add(ref QuantileSketch accumulator, in TInput input) => accumulator.Add(_selector(input));

    /// <inheritdoc />
    public void Merge(ref QuantileSketch accumulator, in QuantileSketch other) => accumulator.Merge(other);

    /// <inheritdoc />
    public QuantileSummary GetResult(in QuantileSketch accumulator) => accumulator.Summarize();
}

/// <summary>Like <see cref="QuantileAggregator{TInput}"/>, but the result is a copy of the sketch (any quantile, storage, later merges).</summary>
/// <typeparam name="TInput">The input type.</typeparam>
public readonly struct QuantileSketchAggregator<TInput> : IAggregator<TInput, QuantileSketch, QuantileSketch>, IPersistentAggregator<QuantileSketch>
{
    /// <inheritdoc />
    public IStateCodec<QuantileSketch>? AccumulatorCodec => SketchCodecs.Quantile;

    private readonly QuantileAggregator<TInput> _inner;

    /// <summary>Initializes the aggregator.</summary>
    /// <param name="selector">Selects the value.</param>
    /// <param name="relativeAccuracy">The relative accuracy (0 to 1, exclusive).</param>
    /// <param name="maxBins">The bucket count per sign (16 to 65536).</param>
    public QuantileSketchAggregator(Func<TInput, double> selector, double relativeAccuracy, int maxBins) => _inner = new(selector, relativeAccuracy, maxBins);

    /// <inheritdoc />
    public QuantileSketch CreateAccumulator() => _inner.CreateAccumulator();

    /// <inheritdoc />
    public void Add(ref QuantileSketch accumulator, in TInput input) => _inner.Add(ref accumulator, input);

    /// <inheritdoc />
    public void Merge(ref QuantileSketch accumulator, in QuantileSketch other) => accumulator.Merge(other);

    /// <inheritdoc />
    public QuantileSketch GetResult(in QuantileSketch accumulator) => accumulator.Clone();
}

/// <summary>Finds the most frequent items with a <see cref="TopKSketch{T}"/>.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TItem">The item type.</typeparam>
/// <remarks><see langword="null"/> items are ignored. Add never allocates.</remarks>
public readonly struct TopKAggregator<TInput, TItem> : IAggregator<TInput, TopKSketch<TItem>, TopKResult<TItem>>, IPersistentAggregator<TopKSketch<TItem>>
{
    /// <inheritdoc />
    /// <remarks>Items that are strings, 64-bit integers or GUIDs are saved; other item types are not (<see langword="null"/>).</remarks>
    public IStateCodec<TopKSketch<TItem>>? AccumulatorCodec => SketchCodecs.TopK<TItem>();

    private readonly Func<TInput, TItem> _selector;
    private readonly int _k;
    private readonly int _capacity;

    /// <summary>Initializes the aggregator.</summary>
    /// <param name="selector">Selects the item.</param>
    /// <param name="k">How many items the result lists (at least 1).</param>
    /// <param name="capacity">The number of counters (at least <paramref name="k"/>).</param>
    public TopKAggregator(Func<TInput, TItem> selector, int k, int capacity)
    {
        ArgumentNullException.ThrowIfNull(selector);
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k (the number of items reported) must be at least 1.");
        }

        TopKSketch.ValidateCapacity(capacity);
        if (capacity < k)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The top-K capacity must be at least k; about 10 k keeps counts accurate.");
        }

        _selector = selector;
        _k = k;
        _capacity = capacity;
    }

    /// <inheritdoc />
    public TopKSketch<TItem> CreateAccumulator() => new(_capacity == 0 ? TopKSketch.DefaultCapacity(10) : _capacity);

    /// <inheritdoc />
    public void Add(ref TopKSketch<TItem> accumulator, in TInput input) => accumulator.Add(_selector(input));

    /// <inheritdoc />
    public void Merge(ref TopKSketch<TItem> accumulator, in TopKSketch<TItem> other) => accumulator.Merge(other);

    /// <inheritdoc />
    public TopKResult<TItem> GetResult(in TopKSketch<TItem> accumulator)
        => new(accumulator.GetTop(_k == 0 ? 10 : _k), accumulator.TotalCount, accumulator.MaxError);
}

/// <summary>The result of a top-K aggregation.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="items">The items, highest count first.</param>
/// <param name="totalCount">The number of items counted (<c>N</c>).</param>
/// <param name="maxError">The bound on every count's over-estimate.</param>
public sealed class TopKResult<T>(IReadOnlyList<HeavyHitter<T>> items, long totalCount, long maxError)
{
    /// <summary>Gets the items, highest count first.</summary>
    public IReadOnlyList<HeavyHitter<T>> Items { get; } = items ?? throw new ArgumentNullException(nameof(items));

    /// <summary>Gets the number of items counted.</summary>
    public long TotalCount { get; } = totalCount;

    /// <summary>Gets the bound on every count's over-estimate (at most <c>TotalCount / capacity</c>).</summary>
    public long MaxError { get; } = maxError;
}

/// <summary>State codecs of the sketches: their versioned binary forms, length-prefixed.</summary>
internal static class SketchCodecs
{
    public static readonly IStateCodec<HyperLogLogSketch> HyperLogLog = new HyperLogLogCodec();

    public static readonly IStateCodec<QuantileSketch> Quantile = new Codec<QuantileSketch>(static s => s.Serialize(), static b => QuantileSketch.Deserialize(b));

    public static IStateCodec<TopKSketch<TItem>>? TopK<TItem>() => TopKCodec<TItem>.Instance;

    private static class TopKCodec<TItem>
    {
        public static readonly IStateCodec<TopKSketch<TItem>>? Instance = Create();

        private static Codec<TopKSketch<TItem>>? Create()
        {
            var items = (typeof(TItem) == typeof(string) ? SketchItemCodecs.Utf8Strings
                : typeof(TItem) == typeof(long) ? SketchItemCodecs.Integers
                : typeof(TItem) == typeof(Guid) ? (object)SketchItemCodecs.Guids
                : null) as ISketchItemCodec<TItem>;
            return items is null ? null : new Codec<TopKSketch<TItem>>(s => s.Serialize(items), b => TopKSketch.Deserialize(b, items));
        }
    }

    private delegate T Reader<T>(ReadOnlySpan<byte> bytes);

    private sealed class HyperLogLogCodec : IStateCodec<HyperLogLogSketch>
    {
        public void Write(System.Buffers.IBufferWriter<byte> destination, HyperLogLogSketch value) => value.WriteState(destination);

        public HyperLogLogSketch Read(ref ReadOnlySpan<byte> source) => HyperLogLogSketch.ReadState(ref source);
    }

    private sealed class Codec<T>(Func<T, byte[]> write, Reader<T> read) : IStateCodec<T>
    {
        public void Write(System.Buffers.IBufferWriter<byte> destination, T value) => StateCodec.WriteBytes(destination, write(value));

        public T Read(ref ReadOnlySpan<byte> source) => read(StateCodec.ReadBytes(ref source));
    }
}
