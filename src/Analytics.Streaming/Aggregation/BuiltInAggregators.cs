namespace Analytics.Streaming;

/// <summary>Counts inputs.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
public readonly struct CountAggregator<TInput> : IAggregator<TInput, long, long>, IPersistentAggregator<long>
{
    /// <inheritdoc />
    public IStateCodec<long>? AccumulatorCodec => StateCodec.Int64;

    /// <inheritdoc />
    public long CreateAccumulator() => 0;

    /// <inheritdoc />
    public void Add(ref long accumulator, in TInput input) => accumulator++;

    /// <inheritdoc />
    public void Merge(ref long accumulator, in long other) => accumulator += other;

    /// <inheritdoc />
    public long GetResult(in long accumulator) => accumulator;
}

/// <summary>Sums a floating-point value; NaN and infinities propagate.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <param name="selector">Selects the value.</param>
public readonly struct SumAggregator<TInput>(Func<TInput, double> selector) : IAggregator<TInput, double, double>, IPersistentAggregator<double>
{
    /// <inheritdoc />
    public IStateCodec<double>? AccumulatorCodec => StateCodec.Double;

    private readonly Func<TInput, double> _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <inheritdoc />
    public double CreateAccumulator() => 0;

    /// <inheritdoc />
    public void Add(ref double accumulator, in TInput input) => accumulator += _selector(input);

    /// <inheritdoc />
    public void Merge(ref double accumulator, in double other) => accumulator += other;

    /// <inheritdoc />
    public double GetResult(in double accumulator) => accumulator;
}

/// <summary>Sums a 64-bit integer value with unchecked (wrapping) arithmetic.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <param name="selector">Selects the value.</param>
public readonly struct Int64SumAggregator<TInput>(Func<TInput, long> selector) : IAggregator<TInput, long, long>, IPersistentAggregator<long>
{
    /// <inheritdoc />
    public IStateCodec<long>? AccumulatorCodec => StateCodec.Int64;

    private readonly Func<TInput, long> _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <inheritdoc />
    public long CreateAccumulator() => 0;

    /// <inheritdoc />
    public void Add(ref long accumulator, in TInput input) => accumulator = unchecked(accumulator + _selector(input));

    /// <inheritdoc />
    public void Merge(ref long accumulator, in long other) => accumulator = unchecked(accumulator + other);

    /// <inheritdoc />
    public long GetResult(in long accumulator) => accumulator;
}

/// <summary>Takes the smallest value, ignoring NaN; positive infinity when empty.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <param name="selector">Selects the value.</param>
public readonly struct MinAggregator<TInput>(Func<TInput, double> selector) : IAggregator<TInput, double, double>, IPersistentAggregator<double>
{
    /// <inheritdoc />
    public IStateCodec<double>? AccumulatorCodec => StateCodec.Double;

    private readonly Func<TInput, double> _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <inheritdoc />
    public double CreateAccumulator() => double.PositiveInfinity;

    /// <inheritdoc />
    public void Add(ref double accumulator, in TInput input)
    {
        double value = _selector(input);
        if (value < accumulator)
        {
            accumulator = value;
        }
    }

    /// <inheritdoc />
    public void Merge(ref double accumulator, in double other)
    {
        if (other < accumulator)
        {
            accumulator = other;
        }
    }

    /// <inheritdoc />
    public double GetResult(in double accumulator) => accumulator;
}

/// <summary>Takes the largest value, ignoring NaN; negative infinity when empty.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <param name="selector">Selects the value.</param>
public readonly struct MaxAggregator<TInput>(Func<TInput, double> selector) : IAggregator<TInput, double, double>, IPersistentAggregator<double>
{
    /// <inheritdoc />
    public IStateCodec<double>? AccumulatorCodec => StateCodec.Double;

    private readonly Func<TInput, double> _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <inheritdoc />
    public double CreateAccumulator() => double.NegativeInfinity;

    /// <inheritdoc />
    public void Add(ref double accumulator, in TInput input)
    {
        double value = _selector(input);
        if (value > accumulator)
        {
            accumulator = value;
        }
    }

    /// <inheritdoc />
    public void Merge(ref double accumulator, in double other)
    {
        if (other > accumulator)
        {
            accumulator = other;
        }
    }

    /// <inheritdoc />
    public double GetResult(in double accumulator) => accumulator;
}

/// <summary>The state of an average: a sum and a count.</summary>
/// <param name="Sum">The sum of the values.</param>
/// <param name="Count">The number of values.</param>
public record struct AverageAccumulator(double Sum, long Count);

/// <summary>Averages a value, ignoring NaN; NaN when empty.</summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <param name="selector">Selects the value.</param>
public readonly struct AverageAggregator<TInput>(Func<TInput, double> selector) : IAggregator<TInput, AverageAccumulator, double>, IPersistentAggregator<AverageAccumulator>
{
    private static readonly IStateCodec<AverageAccumulator> Codec = new AverageCodec();

    /// <inheritdoc />
    public IStateCodec<AverageAccumulator>? AccumulatorCodec => Codec;

    private readonly Func<TInput, double> _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <inheritdoc />
    public AverageAccumulator CreateAccumulator() => default;

    /// <inheritdoc />
    public void Add(ref AverageAccumulator accumulator, in TInput input)
    {
        double value = _selector(input);
        if (!double.IsNaN(value))
        {
            accumulator.Sum += value;
            accumulator.Count++;
        }
    }

    /// <inheritdoc />
    public void Merge(ref AverageAccumulator accumulator, in AverageAccumulator other)
    {
        accumulator.Sum += other.Sum;
        accumulator.Count += other.Count;
    }

    /// <inheritdoc />
    public double GetResult(in AverageAccumulator accumulator) => accumulator.Count == 0 ? double.NaN : accumulator.Sum / accumulator.Count;
}

/// <summary>Runs two aggregators side by side; see <see cref="Aggregates.And"/>.</summary>
/// <param name="first">The first aggregator.</param>
/// <param name="second">The second aggregator.</param>
public readonly struct PairAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2>(TAggregator1 first, TAggregator2 second)
    : IAggregator<TInput, (TAccumulator1, TAccumulator2), (TResult1, TResult2)>, IPersistentAggregator<(TAccumulator1, TAccumulator2)>
    where TAggregator1 : struct, IAggregator<TInput, TAccumulator1, TResult1>
    where TAggregator2 : struct, IAggregator<TInput, TAccumulator2, TResult2>
{
    private readonly TAggregator1 _first = first;
    private readonly TAggregator2 _second = second;

    /// <inheritdoc />
    /// <remarks>A pair of both accumulators' codecs; <see langword="null"/> when either aggregator cannot save its accumulators.</remarks>
    public IStateCodec<(TAccumulator1, TAccumulator2)>? AccumulatorCodec
        => (_first as IPersistentAggregator<TAccumulator1>)?.AccumulatorCodec is { } a && (_second as IPersistentAggregator<TAccumulator2>)?.AccumulatorCodec is { } b
            ? StateCodec.Pair(a, b)
            : null;

    /// <inheritdoc />
    public (TAccumulator1, TAccumulator2) CreateAccumulator() => (_first.CreateAccumulator(), _second.CreateAccumulator());

    /// <inheritdoc />
    public void Add(ref (TAccumulator1, TAccumulator2) accumulator, in TInput input)
    {
        _first.Add(ref accumulator.Item1, input);
        _second.Add(ref accumulator.Item2, input);
    }

    /// <inheritdoc />
    public void Merge(ref (TAccumulator1, TAccumulator2) accumulator, in (TAccumulator1, TAccumulator2) other)
    {
        _first.Merge(ref accumulator.Item1, other.Item1);
        _second.Merge(ref accumulator.Item2, other.Item2);
    }

    /// <inheritdoc />
    public (TResult1, TResult2) GetResult(in (TAccumulator1, TAccumulator2) accumulator)
        => (_first.GetResult(accumulator.Item1), _second.GetResult(accumulator.Item2));
}

/// <summary>Saves an <see cref="AverageAccumulator"/>: the sum (bit exact) and the count.</summary>
internal sealed class AverageCodec : IStateCodec<AverageAccumulator>
{
    public void Write(System.Buffers.IBufferWriter<byte> destination, AverageAccumulator value)
    {
        StateCodec.Double.Write(destination, value.Sum);
        StateCodec.Int64.Write(destination, value.Count);
    }

    public AverageAccumulator Read(ref ReadOnlySpan<byte> source)
    {
        double sum = StateCodec.Double.Read(ref source);
        return new AverageAccumulator(sum, StateCodec.Int64.Read(ref source));
    }
}
