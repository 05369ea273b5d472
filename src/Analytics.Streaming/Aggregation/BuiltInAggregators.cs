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

/// <summary>Runs two aggregators side by side; see <see cref="Aggregates"/>' <c>And</c>.</summary>
/// <param name="first">The first aggregator.</param>
/// <param name="second">The second aggregator.</param>
public readonly struct PairAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2>(TAggregator1 first, TAggregator2 second)
    : IAggregator<TInput, (TAccumulator1, TAccumulator2), (TResult1, TResult2)>, IPersistentAggregator<(TAccumulator1, TAccumulator2)>
    where TAggregator1 : struct, IAggregator<TInput, TAccumulator1, TResult1>
    where TAggregator2 : struct, IAggregator<TInput, TAccumulator2, TResult2>
{
    private readonly TAggregator1 _first = first;
    private readonly TAggregator2 _second = second;

    /// <summary>Gets the first aggregator.</summary>
    public TAggregator1 First => _first;

    /// <summary>Gets the second aggregator.</summary>
    public TAggregator2 Second => _second;

    /// <inheritdoc />
    /// <remarks>A pair of both accumulators' codecs; <see langword="null"/> when either aggregator cannot save its accumulators.</remarks>
    public IStateCodec<(TAccumulator1, TAccumulator2)>? AccumulatorCodec
        => TupleCodecs.Of<TAccumulator1>(_first) is { } a && TupleCodecs.Of<TAccumulator2>(_second) is { } b
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

/// <summary>Runs three aggregators side by side; see <see cref="Aggregates"/>' <c>And</c>.</summary>
/// <param name="first">The first aggregator.</param>
/// <param name="second">The second aggregator.</param>
/// <param name="third">The third aggregator.</param>
public readonly struct TripleAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2, TAggregator3, TAccumulator3, TResult3>(TAggregator1 first, TAggregator2 second, TAggregator3 third)
    : IAggregator<TInput, (TAccumulator1, TAccumulator2, TAccumulator3), (TResult1, TResult2, TResult3)>, IPersistentAggregator<(TAccumulator1, TAccumulator2, TAccumulator3)>
    where TAggregator1 : struct, IAggregator<TInput, TAccumulator1, TResult1>
    where TAggregator2 : struct, IAggregator<TInput, TAccumulator2, TResult2>
    where TAggregator3 : struct, IAggregator<TInput, TAccumulator3, TResult3>
{
    private readonly TAggregator1 _first = first;
    private readonly TAggregator2 _second = second;
    private readonly TAggregator3 _third = third;

    /// <summary>Gets the first aggregator.</summary>
    public TAggregator1 First => _first;

    /// <summary>Gets the second aggregator.</summary>
    public TAggregator2 Second => _second;

    /// <summary>Gets the third aggregator.</summary>
    public TAggregator3 Third => _third;

    /// <inheritdoc />
    public IStateCodec<(TAccumulator1, TAccumulator2, TAccumulator3)>? AccumulatorCodec
        => TupleCodecs.Of<TAccumulator1>(_first) is { } a && TupleCodecs.Of<TAccumulator2>(_second) is { } b && TupleCodecs.Of<TAccumulator3>(_third) is { } c
            ? new TupleCodecs.Triple<TAccumulator1, TAccumulator2, TAccumulator3>(a, b, c)
            : null;

    /// <inheritdoc />
    public (TAccumulator1, TAccumulator2, TAccumulator3) CreateAccumulator() => (_first.CreateAccumulator(), _second.CreateAccumulator(), _third.CreateAccumulator());

    /// <inheritdoc />
    public void Add(ref (TAccumulator1, TAccumulator2, TAccumulator3) accumulator, in TInput input)
    {
        _first.Add(ref accumulator.Item1, input);
        _second.Add(ref accumulator.Item2, input);
        _third.Add(ref accumulator.Item3, input);
    }

    /// <inheritdoc />
    public void Merge(ref (TAccumulator1, TAccumulator2, TAccumulator3) accumulator, in (TAccumulator1, TAccumulator2, TAccumulator3) other)
    {
        _first.Merge(ref accumulator.Item1, other.Item1);
        _second.Merge(ref accumulator.Item2, other.Item2);
        _third.Merge(ref accumulator.Item3, other.Item3);
    }

    /// <inheritdoc />
    public (TResult1, TResult2, TResult3) GetResult(in (TAccumulator1, TAccumulator2, TAccumulator3) accumulator)
        => (_first.GetResult(accumulator.Item1), _second.GetResult(accumulator.Item2), _third.GetResult(accumulator.Item3));
}

/// <summary>Runs four aggregators side by side; see <see cref="Aggregates"/>' <c>And</c>.</summary>
/// <param name="first">The first aggregator.</param>
/// <param name="second">The second aggregator.</param>
/// <param name="third">The third aggregator.</param>
/// <param name="fourth">The fourth aggregator.</param>
public readonly struct QuadAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2, TAggregator3, TAccumulator3, TResult3, TAggregator4, TAccumulator4, TResult4>(TAggregator1 first, TAggregator2 second, TAggregator3 third, TAggregator4 fourth)
    : IAggregator<TInput, (TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4), (TResult1, TResult2, TResult3, TResult4)>, IPersistentAggregator<(TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4)>
    where TAggregator1 : struct, IAggregator<TInput, TAccumulator1, TResult1>
    where TAggregator2 : struct, IAggregator<TInput, TAccumulator2, TResult2>
    where TAggregator3 : struct, IAggregator<TInput, TAccumulator3, TResult3>
    where TAggregator4 : struct, IAggregator<TInput, TAccumulator4, TResult4>
{
    private readonly TAggregator1 _first = first;
    private readonly TAggregator2 _second = second;
    private readonly TAggregator3 _third = third;
    private readonly TAggregator4 _fourth = fourth;

    /// <inheritdoc />
    public IStateCodec<(TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4)>? AccumulatorCodec
        => TupleCodecs.Of<TAccumulator1>(_first) is { } a && TupleCodecs.Of<TAccumulator2>(_second) is { } b && TupleCodecs.Of<TAccumulator3>(_third) is { } c && TupleCodecs.Of<TAccumulator4>(_fourth) is { } d
            ? new TupleCodecs.Quad<TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4>(a, b, c, d)
            : null;

    /// <inheritdoc />
    public (TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4) CreateAccumulator()
        => (_first.CreateAccumulator(), _second.CreateAccumulator(), _third.CreateAccumulator(), _fourth.CreateAccumulator());

    /// <inheritdoc />
    public void Add(ref (TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4) accumulator, in TInput input)
    {
        _first.Add(ref accumulator.Item1, input);
        _second.Add(ref accumulator.Item2, input);
        _third.Add(ref accumulator.Item3, input);
        _fourth.Add(ref accumulator.Item4, input);
    }

    /// <inheritdoc />
    public void Merge(ref (TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4) accumulator, in (TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4) other)
    {
        _first.Merge(ref accumulator.Item1, other.Item1);
        _second.Merge(ref accumulator.Item2, other.Item2);
        _third.Merge(ref accumulator.Item3, other.Item3);
        _fourth.Merge(ref accumulator.Item4, other.Item4);
    }

    /// <inheritdoc />
    public (TResult1, TResult2, TResult3, TResult4) GetResult(in (TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4) accumulator)
        => (_first.GetResult(accumulator.Item1), _second.GetResult(accumulator.Item2), _third.GetResult(accumulator.Item3), _fourth.GetResult(accumulator.Item4));
}

/// <summary>An aggregator whose result goes through a projection; see <see cref="Aggregates.Select"/>.</summary>
/// <param name="inner">The aggregator.</param>
/// <param name="projection">Turns its result into the emitted value.</param>
public readonly struct ProjectedAggregator<TInput, TAggregator, TAccumulator, TResult, TProjected>(TAggregator inner, Func<TResult, TProjected> projection)
    : IAggregator<TInput, TAccumulator, TProjected>, IPersistentAggregator<TAccumulator>
    where TAggregator : struct, IAggregator<TInput, TAccumulator, TResult>
{
    private readonly TAggregator _inner = inner;
    private readonly Func<TResult, TProjected> _projection = projection ?? throw new ArgumentNullException(nameof(projection));

    /// <inheritdoc />
    public IStateCodec<TAccumulator>? AccumulatorCodec => TupleCodecs.Of<TAccumulator>(_inner);

    /// <inheritdoc />
    public TAccumulator CreateAccumulator() => _inner.CreateAccumulator();

    /// <inheritdoc />
    public void Add(ref TAccumulator accumulator, in TInput input) => _inner.Add(ref accumulator, input);

    /// <inheritdoc />
    public void Merge(ref TAccumulator accumulator, in TAccumulator other) => _inner.Merge(ref accumulator, other);

    /// <inheritdoc />
    public TProjected GetResult(in TAccumulator accumulator) => _projection(_inner.GetResult(accumulator));
}

/// <summary>Codecs of combined accumulators.</summary>
internal static class TupleCodecs
{
    public static IStateCodec<TAccumulator>? Of<TAccumulator>(object aggregator) => (aggregator as IPersistentAggregator<TAccumulator>)?.AccumulatorCodec;

    public sealed class Triple<T1, T2, T3>(IStateCodec<T1> first, IStateCodec<T2> second, IStateCodec<T3> third) : IStateCodec<(T1, T2, T3)>
    {
        public void Write(System.Buffers.IBufferWriter<byte> destination, (T1, T2, T3) value)
        {
            first.Write(destination, value.Item1);
            second.Write(destination, value.Item2);
            third.Write(destination, value.Item3);
        }

        public (T1, T2, T3) Read(ref ReadOnlySpan<byte> source)
        {
            var a = first.Read(ref source);
            var b = second.Read(ref source);
            return (a, b, third.Read(ref source));
        }
    }

    public sealed class Quad<T1, T2, T3, T4>(IStateCodec<T1> first, IStateCodec<T2> second, IStateCodec<T3> third, IStateCodec<T4> fourth) : IStateCodec<(T1, T2, T3, T4)>
    {
        public void Write(System.Buffers.IBufferWriter<byte> destination, (T1, T2, T3, T4) value)
        {
            first.Write(destination, value.Item1);
            second.Write(destination, value.Item2);
            third.Write(destination, value.Item3);
            fourth.Write(destination, value.Item4);
        }

        public (T1, T2, T3, T4) Read(ref ReadOnlySpan<byte> source)
        {
            var a = first.Read(ref source);
            var b = second.Read(ref source);
            var c = third.Read(ref source);
            return (a, b, c, fourth.Read(ref source));
        }
    }
}
