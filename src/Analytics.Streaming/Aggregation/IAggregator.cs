namespace Analytics.Streaming;

/// <summary>
/// An incremental, mergeable aggregate function: the contract every aggregator (count, sum, sketches, your own)
/// implements so that windows, slices, shards and workers combine the same way.
/// </summary>
/// <typeparam name="TInput">The input, usually the event.</typeparam>
/// <typeparam name="TAccumulator">The intermediate state; a struct keeps the hot path free of allocations.</typeparam>
/// <typeparam name="TResult">The result.</typeparam>
/// <remarks>
/// <para>
/// Implement it on a <see langword="struct"/>: the engine is generic over the aggregator type
/// (<c>where TAggregator : struct, IAggregator&lt;...&gt;</c>), so the JIT specializes and inlines every call and
/// nothing is boxed or allocated per event. The aggregator holds configuration only (a selector, a precision);
/// all state lives in the accumulator.
/// </para>
/// <para>
/// <see cref="Merge"/> must be associative and commutative with <see cref="CreateAccumulator"/> as identity, so
/// that aggregating slices and merging them equals aggregating everything at once. Calls on one accumulator are
/// never concurrent. Methods must not throw for any input value: bad values follow the aggregator's documented policy.
/// </para>
/// </remarks>
public interface IAggregator<TInput, TAccumulator, TResult>
{
    /// <summary>Creates an empty accumulator (the identity of <see cref="Merge"/>).</summary>
    /// <returns>The empty accumulator.</returns>
    TAccumulator CreateAccumulator();

    /// <summary>Adds one input to an accumulator.</summary>
    /// <param name="accumulator">The accumulator to update in place.</param>
    /// <param name="input">The input.</param>
    void Add(ref TAccumulator accumulator, in TInput input);

    /// <summary>Merges another accumulator into <paramref name="accumulator"/>.</summary>
    /// <param name="accumulator">The accumulator to update in place.</param>
    /// <param name="other">The accumulator to merge in; not modified.</param>
    void Merge(ref TAccumulator accumulator, in TAccumulator other);

    /// <summary>Computes the result of an accumulator.</summary>
    /// <param name="accumulator">The accumulator; not modified.</param>
    /// <returns>The result.</returns>
    TResult GetResult(in TAccumulator accumulator);
}

/// <summary>
/// An aggregator together with its type arguments, so that pipeline builders infer them:
/// <c>.Aggregate(a =&gt; a.Count())</c> needs no explicit type arguments.
/// </summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TAggregator">The aggregator struct.</typeparam>
/// <typeparam name="TAccumulator">The accumulator.</typeparam>
/// <typeparam name="TResult">The result.</typeparam>
/// <param name="aggregator">The aggregator.</param>
public readonly struct Aggregation<TInput, TAggregator, TAccumulator, TResult>(TAggregator aggregator)
    where TAggregator : struct, IAggregator<TInput, TAccumulator, TResult>
{
    /// <summary>Gets the aggregator.</summary>
    public TAggregator Aggregator { get; } = aggregator;
}
