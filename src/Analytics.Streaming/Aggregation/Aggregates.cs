namespace Analytics.Streaming;

/// <summary>Entry point to the built-in aggregators.</summary>
public static class Aggregates
{
    /// <summary>Gets the aggregator factory for inputs of type <typeparamref name="TInput"/>.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <returns>The factory.</returns>
    public static AggregateFactory<TInput> For<TInput>() => default;

    /// <summary>Wraps a custom aggregator so that builders infer its types.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TAggregator">The aggregator struct.</typeparam>
    /// <typeparam name="TAccumulator">The accumulator.</typeparam>
    /// <typeparam name="TResult">The result.</typeparam>
    /// <param name="aggregator">The aggregator.</param>
    /// <returns>The aggregation.</returns>
    public static Aggregation<TInput, TAggregator, TAccumulator, TResult> Custom<TInput, TAggregator, TAccumulator, TResult>(TAggregator aggregator)
        where TAggregator : struct, IAggregator<TInput, TAccumulator, TResult>
        => new(aggregator);

    /// <summary>Combines two aggregations over the same input into one whose result is the pair of results.</summary>
    /// <returns>The combined aggregation; its accumulator holds both accumulators.</returns>
    /// <example><c>a.Count().And(a.Sum(e =&gt; e.Amount))</c> gives <c>(long Count, double Sum)</c> per window.</example>
    public static Aggregation<TInput, PairAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2>, (TAccumulator1, TAccumulator2), (TResult1, TResult2)>
        And<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2>(
            this Aggregation<TInput, TAggregator1, TAccumulator1, TResult1> first,
            Aggregation<TInput, TAggregator2, TAccumulator2, TResult2> second)
        where TAggregator1 : struct, IAggregator<TInput, TAccumulator1, TResult1>
        where TAggregator2 : struct, IAggregator<TInput, TAccumulator2, TResult2>
        => new(new PairAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2>(first.Aggregator, second.Aggregator));

    /// <summary>Adds a third aggregation to a pair: the result is a flat triple, not a nested pair.</summary>
    /// <returns>The combined aggregation.</returns>
    /// <example><c>a.Count().And(a.Sum(e =&gt; e.Amount)).And(a.Max(e =&gt; e.Amount))</c> gives <c>(long, double, double)</c>.</example>
    public static Aggregation<TInput, TripleAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2, TAggregator3, TAccumulator3, TResult3>, (TAccumulator1, TAccumulator2, TAccumulator3), (TResult1, TResult2, TResult3)>
        And<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2, TAggregator3, TAccumulator3, TResult3>(
            this Aggregation<TInput, PairAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2>, (TAccumulator1, TAccumulator2), (TResult1, TResult2)> first,
            Aggregation<TInput, TAggregator3, TAccumulator3, TResult3> third)
        where TAggregator1 : struct, IAggregator<TInput, TAccumulator1, TResult1>
        where TAggregator2 : struct, IAggregator<TInput, TAccumulator2, TResult2>
        where TAggregator3 : struct, IAggregator<TInput, TAccumulator3, TResult3>
        => new(new(first.Aggregator.First, first.Aggregator.Second, third.Aggregator));

    /// <summary>Adds a fourth aggregation to a triple: the result is a flat four-tuple. More than four nest as pairs.</summary>
    /// <returns>The combined aggregation.</returns>
    public static Aggregation<TInput, QuadAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2, TAggregator3, TAccumulator3, TResult3, TAggregator4, TAccumulator4, TResult4>, (TAccumulator1, TAccumulator2, TAccumulator3, TAccumulator4), (TResult1, TResult2, TResult3, TResult4)>
        And<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2, TAggregator3, TAccumulator3, TResult3, TAggregator4, TAccumulator4, TResult4>(
            this Aggregation<TInput, TripleAggregator<TInput, TAggregator1, TAccumulator1, TResult1, TAggregator2, TAccumulator2, TResult2, TAggregator3, TAccumulator3, TResult3>, (TAccumulator1, TAccumulator2, TAccumulator3), (TResult1, TResult2, TResult3)> first,
            Aggregation<TInput, TAggregator4, TAccumulator4, TResult4> fourth)
        where TAggregator1 : struct, IAggregator<TInput, TAccumulator1, TResult1>
        where TAggregator2 : struct, IAggregator<TInput, TAccumulator2, TResult2>
        where TAggregator3 : struct, IAggregator<TInput, TAccumulator3, TResult3>
        where TAggregator4 : struct, IAggregator<TInput, TAccumulator4, TResult4>
        => new(new(first.Aggregator.First, first.Aggregator.Second, first.Aggregator.Third, fourth.Aggregator));

    /// <summary>
    /// Turns an aggregation's result into your own type when a window is emitted (the accumulators are unchanged), so
    /// results carry names: <c>a.Count().And(a.Average(e =&gt; e.LatencyMs)).Select(r =&gt; new PageStats(r.Item1, r.Item2))</c>.
    /// </summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="TAggregator">The aggregator.</typeparam>
    /// <typeparam name="TAccumulator">Its accumulator.</typeparam>
    /// <typeparam name="TResult">Its result.</typeparam>
    /// <typeparam name="TProjected">The type results are turned into.</typeparam>
    /// <param name="aggregation">The aggregation.</param>
    /// <param name="projection">
    /// Builds the emitted value from the result. When it throws, the window is not emitted: it becomes a dead letter
    /// (<see cref="DeadLetterReason.AggregatorFailed"/>, with the result's id as its payload) and the stream goes on.
    /// </param>
    /// <returns>The aggregation with projected results.</returns>
    public static Aggregation<TInput, ProjectedAggregator<TInput, TAggregator, TAccumulator, TResult, TProjected>, TAccumulator, TProjected>
        Select<TInput, TAggregator, TAccumulator, TResult, TProjected>(this Aggregation<TInput, TAggregator, TAccumulator, TResult> aggregation, Func<TResult, TProjected> projection)
        where TAggregator : struct, IAggregator<TInput, TAccumulator, TResult>
    {
        ArgumentNullException.ThrowIfNull(projection);
        return new(new(aggregation.Aggregator, projection));
    }
}

/// <summary>
/// Creates the built-in aggregations for inputs of type <typeparamref name="TInput"/>. Pipeline builders hand
/// one to the <c>Aggregate</c> lambda; other packages add aggregators as extension methods on this type.
/// </summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <remarks>
/// The value selectors run inside the window's update. When one throws for a record (on an empty accumulator as well),
/// the batch cannot go on, because the aggregators before it in an <c>.And(...)</c> already counted the record: the
/// engine throws <see cref="AggregationFailedException"/>, and the pipeline starts again from its last checkpoint with
/// the record as a dead letter (<see cref="DeadLetterReason.AggregatorFailed"/>); see the exception for when it does so
/// by itself. A value that can fail is cheaper to compute in a <c>Select</c> in front of the window, where an exception
/// makes the record a dead letter at once.
/// </remarks>
public readonly struct AggregateFactory<TInput>
{
    /// <summary>Counts inputs.</summary>
    /// <returns>The count aggregation; its result is the number of inputs.</returns>
    public Aggregation<TInput, CountAggregator<TInput>, long, long> Count() => default;

    /// <summary>Sums a floating-point value of each input.</summary>
    /// <param name="selector">Selects the value. NaN and infinities propagate into the sum.</param>
    /// <returns>The sum aggregation.</returns>
    public Aggregation<TInput, SumAggregator<TInput>, double, double> Sum(Func<TInput, double> selector) => new(new(selector));

    /// <summary>Sums an integer value of each input (wrapping on overflow of 64 bits, as C# unchecked arithmetic).</summary>
    /// <param name="selector">Selects the value.</param>
    /// <returns>The sum aggregation.</returns>
    public Aggregation<TInput, Int64SumAggregator<TInput>, long, long> Sum(Func<TInput, long> selector) => new(new(selector));

    /// <summary>Takes the smallest value.</summary>
    /// <param name="selector">Selects the value. NaN values are ignored.</param>
    /// <returns>The minimum aggregation; positive infinity for an empty accumulator.</returns>
    public Aggregation<TInput, MinAggregator<TInput>, double, double> Min(Func<TInput, double> selector) => new(new(selector));

    /// <summary>Takes the largest value.</summary>
    /// <param name="selector">Selects the value. NaN values are ignored.</param>
    /// <returns>The maximum aggregation; negative infinity for an empty accumulator.</returns>
    public Aggregation<TInput, MaxAggregator<TInput>, double, double> Max(Func<TInput, double> selector) => new(new(selector));

    /// <summary>Takes the largest 64-bit integer exactly (Nexmark's highest bid); integer selectors pick this overload.</summary>
    /// <param name="selector">Selects the value.</param>
    /// <returns>The maximum aggregation; <see cref="long.MinValue"/> for an empty accumulator.</returns>
    public Aggregation<TInput, Int64ExtremumAggregator<TInput>, long, long> Max(Func<TInput, long> selector) => new(new(selector, largest: true));

    /// <summary>Takes the smallest 64-bit integer exactly.</summary>
    /// <param name="selector">Selects the value.</param>
    /// <returns>The minimum aggregation; <see cref="long.MaxValue"/> for an empty accumulator.</returns>
    public Aggregation<TInput, Int64ExtremumAggregator<TInput>, long, long> Min(Func<TInput, long> selector) => new(new(selector, largest: false));

    /// <summary>Takes the largest decimal exactly (prices, amounts).</summary>
    /// <param name="selector">Selects the value.</param>
    /// <returns>The maximum aggregation; <see cref="decimal.MinValue"/> for an empty accumulator.</returns>
    public Aggregation<TInput, DecimalExtremumAggregator<TInput>, decimal, decimal> Max(Func<TInput, decimal> selector) => new(new(selector, largest: true));

    /// <summary>Takes the smallest decimal exactly.</summary>
    /// <param name="selector">Selects the value.</param>
    /// <returns>The minimum aggregation; <see cref="decimal.MaxValue"/> for an empty accumulator.</returns>
    public Aggregation<TInput, DecimalExtremumAggregator<TInput>, decimal, decimal> Min(Func<TInput, decimal> selector) => new(new(selector, largest: false));

    /// <summary>Keeps what <paramref name="keep"/> selects of the input with the largest <paramref name="by"/> (arg-max: the auction of the highest bid, the page with most views).</summary>
    /// <typeparam name="TBy">The compared value.</typeparam>
    /// <typeparam name="TItem">What is kept.</typeparam>
    /// <param name="by">Selects the compared value.</param>
    /// <param name="keep">Selects what to keep of the winning input.</param>
    /// <returns>The aggregation; ties go to the smaller kept item when items have an order (numbers, strings ordinally), else to the input held first. Saved in checkpoints when both types have built-in codecs.</returns>
    public Aggregation<TInput, ExtremeAggregator<TInput, TBy, TItem>, Extreme<TBy, TItem>, Extreme<TBy, TItem>> MaxBy<TBy, TItem>(Func<TInput, TBy> by, Func<TInput, TItem> keep)
        => new(new(by, keep, largest: true));

    /// <summary>Keeps what <paramref name="keep"/> selects of the input with the smallest <paramref name="by"/> (arg-min).</summary>
    /// <typeparam name="TBy">The compared value.</typeparam>
    /// <typeparam name="TItem">What is kept.</typeparam>
    /// <param name="by">Selects the compared value.</param>
    /// <param name="keep">Selects what to keep of the winning input.</param>
    /// <returns>The aggregation; ties go to the smaller kept item when items have an order (numbers, strings ordinally), else to the input held first.</returns>
    public Aggregation<TInput, ExtremeAggregator<TInput, TBy, TItem>, Extreme<TBy, TItem>, Extreme<TBy, TItem>> MinBy<TBy, TItem>(Func<TInput, TBy> by, Func<TInput, TItem> keep)
        => new(new(by, keep, largest: false));

    /// <summary>Keeps what <paramref name="keep"/> selects of the earliest input by event time (the opening price of a window).</summary>
    /// <typeparam name="TItem">What is kept.</typeparam>
    /// <param name="time">Reads the input's event time.</param>
    /// <param name="keep">Selects what to keep.</param>
    /// <returns>The aggregation; <see cref="Extreme{TBy, TItem}.Value"/> is the time. Among inputs of the same time, the smaller kept item when items have an order, else the input held first.</returns>
    public Aggregation<TInput, ExtremeAggregator<TInput, DateTimeOffset, TItem>, Extreme<DateTimeOffset, TItem>, Extreme<DateTimeOffset, TItem>> First<TItem>(Func<TInput, DateTimeOffset> time, Func<TInput, TItem> keep)
        => new(new(time, keep, largest: false));

    /// <summary>Keeps what <paramref name="keep"/> selects of the latest input by event time (the closing price, the last status).</summary>
    /// <typeparam name="TItem">What is kept.</typeparam>
    /// <param name="time">Reads the input's event time.</param>
    /// <param name="keep">Selects what to keep.</param>
    /// <returns>The aggregation; among inputs of the same time, the smaller kept item when items have an order, else the input held first.</returns>
    public Aggregation<TInput, ExtremeAggregator<TInput, DateTimeOffset, TItem>, Extreme<DateTimeOffset, TItem>, Extreme<DateTimeOffset, TItem>> Last<TItem>(Func<TInput, DateTimeOffset> time, Func<TInput, TItem> keep)
        => new(new(time, keep, largest: true));

    /// <summary>
    /// Keeps the <paramref name="count"/> inputs with the largest <paramref name="by"/>, largest first: the top pages of a
    /// minute over per-page counts (a window fed by windows), exact.
    /// </summary>
    /// <typeparam name="TBy">The compared value.</typeparam>
    /// <typeparam name="TItem">What is kept of each input.</typeparam>
    /// <param name="count">How many to keep.</param>
    /// <param name="by">Selects the compared value.</param>
    /// <param name="keep">Selects what to keep.</param>
    /// <returns>The aggregation; its result lists up to <paramref name="count"/> entries, and equal values by kept item when items have an order.</returns>
    public Aggregation<TInput, TopNAggregator<TInput, TBy, TItem>, TopN<TBy, TItem>, IReadOnlyList<Extreme<TBy, TItem>>> TopN<TBy, TItem>(int count, Func<TInput, TBy> by, Func<TInput, TItem> keep)
        => new(new(count, by, keep));

    /// <summary>Averages a value.</summary>
    /// <param name="selector">Selects the value. NaN values are ignored (neither summed nor counted).</param>
    /// <returns>The average aggregation; NaN for an empty accumulator.</returns>
    public Aggregation<TInput, AverageAggregator<TInput>, AverageAccumulator, double> Average(Func<TInput, double> selector) => new(new(selector));
}
