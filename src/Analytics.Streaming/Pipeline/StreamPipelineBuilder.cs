namespace Analytics.Streaming;

/// <summary>Entry point of the pipeline builder.</summary>
/// <example>
/// <code>
/// var pipeline = StreamPipeline.Create&lt;ClickEvent&gt;(new() { Name = "page-views" })
///     .WithEventTime(e =&gt; e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(5))
///     .Where(e =&gt; !e.IsBot)
///     .KeyBy(e =&gt; e.PageId)
///     .Window(WindowSpec.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)))
///     .Aggregate(a =&gt; a.Count())
///     .To(sink)
///     .Build();
/// await pipeline.RunAsync(source, cancellationToken);
/// </code>
/// </example>
public static partial class StreamPipeline
{
    /// <summary>Starts describing a pipeline over records of type <typeparamref name="TSource"/>.</summary>
    /// <typeparam name="TSource">The type the source delivers.</typeparam>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static StreamPipelineBuilder<TSource, TSource> Create<TSource>(StreamPipelineOptions? options = null)
        => new(options ?? new StreamPipelineOptions(), new ChainBuilder<TSource, TSource, IdentityChain<TSource>>(default), TimeSetting.None);
}

/// <summary>The time the windows of a pipeline run on, as chosen on its builder.</summary>
internal readonly record struct TimeSetting(bool Chosen, bool IsProcessingTime, TimeSpan MaxOutOfOrderness, TimeSpan IdleTimeout)
{
    public static TimeSetting None => new(false, false, TimeSpan.Zero, StreamPipelineOptions.DefaultIdleTimeout);

    /// <summary>Gets the idle timeout as the engines take it: zero (never idle) for <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public TimeSpan EngineIdleTimeout => IdleTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : IdleTimeout;
}

/// <summary>
/// First steps of a pipeline description: the time, and operators that run on every record before the windows:
/// filters (<see cref="Where"/>), maps (<see cref="Select{TOut}"/>) and lookups (<c>Enrich</c>). The operators are fused
/// with the window stage into one loop, so a filter or map costs a call, not a stage.
/// </summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TEvent">The type after the operators so far.</typeparam>
/// <remarks>
/// Records a filter leaves out are counted (<see cref="BatchReceipt.Filtered"/>, <see cref="PipelineStatistics.RecordsFiltered"/>)
/// and are neither dead letters nor late. An operator or selector that throws for a record sends that record to the dead
/// letters (<see cref="DeadLetterReason.SelectorFailed"/>, with the exception's type and message) and the stream goes on.
/// </remarks>
public sealed class StreamPipelineBuilder<TSource, TEvent>
{
    internal StreamPipelineBuilder(StreamPipelineOptions options, ChainBuilder<TSource, TEvent> chain, TimeSetting time)
    {
        Options = options;
        Chain = chain;
        Time = time;
    }

    internal StreamPipelineOptions Options { get; }

    internal ChainBuilder<TSource, TEvent> Chain { get; }

    internal TimeSetting Time { get; }

    /// <summary>Uses the event's own time for windows, with watermarks that tolerate out-of-order events.</summary>
    /// <param name="timestamp">Reads the event time; an exception makes the record a dead letter.</param>
    /// <param name="maxOutOfOrderness">How far behind the newest event of its partition an event may arrive and still be on time. Default zero.</param>
    /// <param name="idleTimeout">
    /// How long a partition may go without records before it stops holding the watermark back; default 30 seconds;
    /// <see cref="TimeSpan.Zero"/> or <see cref="Timeout.InfiniteTimeSpan"/> never treats a partition as idle.
    /// </param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The time was already chosen.</exception>
    public StreamPipelineBuilder<TSource, TEvent> WithEventTime(Func<TEvent, DateTimeOffset> timestamp, TimeSpan maxOutOfOrderness = default, TimeSpan? idleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(timestamp);
        EnsureTimeNotChosen();
        return new(Options, Chain.WithTime(timestamp), new TimeSetting(true, false, maxOutOfOrderness, idleTimeout ?? StreamPipelineOptions.DefaultIdleTimeout));
    }

    /// <summary>
    /// Uses the event's own time given as Unix milliseconds (the usual <c>"ts": 1767225600000</c> of JSON events),
    /// with watermarks that tolerate out-of-order events. Same semantics as the <see cref="DateTimeOffset"/> overload.
    /// </summary>
    /// <param name="unixTimeMilliseconds">Reads the event time in milliseconds since 1970-01-01T00:00:00Z; an exception makes the record a dead letter.</param>
    /// <param name="maxOutOfOrderness">How far behind the newest event of its partition an event may arrive and still be on time. Default zero.</param>
    /// <param name="idleTimeout">How long a partition may go without records before it stops holding the watermark back; default 30 seconds.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The time was already chosen.</exception>
    public StreamPipelineBuilder<TSource, TEvent> WithEventTime(Func<TEvent, long> unixTimeMilliseconds, TimeSpan maxOutOfOrderness = default, TimeSpan? idleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(unixTimeMilliseconds);
        EnsureTimeNotChosen();
        return new(Options, Chain.WithUnixMilliseconds(unixTimeMilliseconds), new TimeSetting(true, false, maxOutOfOrderness, idleTimeout ?? StreamPipelineOptions.DefaultIdleTimeout));
    }

    /// <summary>Uses the time a batch is processed (from <see cref="StreamPipelineOptions.TimeProvider"/>) as the event time; no record is ever late.</summary>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The time was already chosen.</exception>
    public StreamPipelineBuilder<TSource, TEvent> WithProcessingTime()
    {
        EnsureTimeNotChosen();
        return new(Options, Chain, new TimeSetting(true, true, TimeSpan.Zero, TimeSpan.Zero));
    }

    /// <summary>Keeps only the events <paramref name="predicate"/> accepts; the others are counted as filtered.</summary>
    /// <param name="predicate">Decides; an exception makes the record a dead letter.</param>
    /// <returns>The builder.</returns>
    public StreamPipelineBuilder<TSource, TEvent> Where(Func<TEvent, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new(Options, Chain.Where(predicate), Time);
    }

    /// <summary>
    /// Ends the pipeline without windows: every event the operators keep becomes a result of its own, emitted with its
    /// batch (a filter, a map or an enrichment on its own, such as Nexmark Q1 and Q2). Add sinks with <c>To</c> as for
    /// window results.
    /// </summary>
    /// <returns>The builder of the outputs.</returns>
    /// <remarks>
    /// <para>
    /// A result's <see cref="WindowResult{TKey, TValue}.Key"/> is the record's source position, its window the one
    /// tick of its event time (of its processing without <c>WithEventTime</c>), its value the event, and its
    /// <see cref="WindowResult{TKey, TValue}.RecordCount"/> 1. Its <see cref="WindowResult{TKey, TValue}.Id"/> is
    /// therefore deterministic: after a restart the records since the last checkpoint are processed again and
    /// produce the same identities, so a sink that writes by identity holds each event once.
    /// </para>
    /// <para>
    /// Without windows nothing is late and nothing waits for the watermark. Checkpoints hold only positions
    /// (<see cref="StreamPipelineOptions.WindowState"/> does not apply). The results cannot feed windows: window the
    /// events themselves with <c>KeyBy</c> or <c>Window</c>.
    /// </para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The operators contain a <c>SelectMany</c>.</exception>
    public AggregatedPipelineBuilder<TSource, StreamPosition, TEvent> PerEvent()
    {
        if (Chain.Expands)
        {
            throw new InvalidOperationException(
                "PerEvent() cannot follow SelectMany: the items of one record share its source position, which is a per-event result's identity, so a sink writing by identity would keep one item per record. Window the items instead (KeyBy(...).Window(...)).");
        }

        var options = Options;
        var chain = Chain;
        var time = Time.Chosen ? Time : new TimeSetting(true, true, TimeSpan.Zero, TimeSpan.Zero);
        var idle = time.EngineIdleTimeout;
        var window = WindowSpec.Tumbling(TimeSpan.FromTicks(1));
        int slot = ProfileSlots.Next();
        return new AggregatedPipelineBuilder<TSource, StreamPosition, TEvent>(
            new PipelineDefinition(options, time, window, TimeSpan.Zero, EmitMode.OnClose, IsDownstream: false, time.IsProcessingTime) { IsPerEvent = true },
            (timeProvider, partition) => chain.CreatePerEventEngine(new ProcessorSettings<TSource, StreamPosition>(
                options.Name,
                time.IsProcessingTime,
                time.MaxOutOfOrderness.Ticks,
                idle.Ticks,
                options.MaxEventTimeAhead?.Ticks ?? 0,
                KeyCodec: null,
                window,
                AllowedLatenessTicks: 0,
                EmitMode.OnClose,
                timeProvider,
                partition,
                slot)));
    }

    /// <summary>Turns every event into another (a projection, a parse of a field, a derived value).</summary>
    /// <typeparam name="TOut">The new event type.</typeparam>
    /// <param name="map">Turns an event into the new one; an exception makes the record a dead letter.</param>
    /// <returns>The builder of the new event type.</returns>
    /// <remarks>Choose the time before or after: a time chosen before is carried through the map.</remarks>
    public StreamPipelineBuilder<TSource, TOut> Select<TOut>(Func<TEvent, TOut> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new(Options, Chain.Select(map), Time);
    }

    /// <summary>
    /// Turns every event into zero or more events (flat-map): the line items of an order, the products of a basket, the
    /// tags of a page view. The operators after it, and the windows, see each item as an event of its own.
    /// </summary>
    /// <typeparam name="TOut">The item type.</typeparam>
    /// <param name="expand">Lists an event's items (an array or a <see cref="List{T}"/> is read without an enumerator); an exception makes the record a dead letter. <see langword="null"/> counts as no item.</param>
    /// <returns>The builder of the item type.</returns>
    /// <remarks>
    /// <para>
    /// Choose the time before or after: items take the event time their record got before the expansion, or read their
    /// own with <c>WithEventTime</c> after it. Every item keeps its record's source position, so a restart replays or
    /// skips the items of a record together and each window counts them once.
    /// </para>
    /// <para>
    /// After a <c>SelectMany</c> the counts (<see cref="BatchReceipt"/>, <see cref="PipelineStatistics"/>) are of items;
    /// a record that yields no item counts as filtered. A late item reaches the late output as its source record, once
    /// per record. <see cref="PerEvent"/> cannot follow it: the items of a record share its position, which is a
    /// per-event result's identity.
    /// </para>
    /// </remarks>
    public StreamPipelineBuilder<TSource, TOut> SelectMany<TOut>(Func<TEvent, IEnumerable<TOut>?> expand)
    {
        ArgumentNullException.ThrowIfNull(expand);
        return new(Options, Chain.SelectMany(expand, inheritTime: Time.Chosen && !Time.IsProcessingTime), Time);
    }

    /// <summary>
    /// Joins every event with its row of a lookup table (an inner join: events whose key has no row are left out and
    /// counted as filtered). The table can be refreshed while the pipeline runs (<see cref="LookupTable{TKey, TRow}.Replace"/>).
    /// </summary>
    /// <typeparam name="TLookupKey">The table's key type.</typeparam>
    /// <typeparam name="TRow">The table's row type.</typeparam>
    /// <typeparam name="TOut">The joined event type.</typeparam>
    /// <param name="table">The table.</param>
    /// <param name="key">Reads the event's key into the table; an exception makes the record a dead letter.</param>
    /// <param name="combine">Builds the joined event; an exception makes the record a dead letter.</param>
    /// <returns>The builder of the joined type.</returns>
    public StreamPipelineBuilder<TSource, TOut> Enrich<TLookupKey, TRow, TOut>(LookupTable<TLookupKey, TRow> table, Func<TEvent, TLookupKey> key, Func<TEvent, TRow, TOut> combine)
        where TLookupKey : notnull
        => Enrich(table, key, combine, keepMisses: false, default!);

    /// <summary>
    /// Joins every event with its row of a lookup table, using <paramref name="missing"/> for events whose key has no row
    /// (a left join: no event is left out).
    /// </summary>
    /// <typeparam name="TLookupKey">The table's key type.</typeparam>
    /// <typeparam name="TRow">The table's row type.</typeparam>
    /// <typeparam name="TOut">The joined event type.</typeparam>
    /// <param name="table">The table.</param>
    /// <param name="key">Reads the event's key into the table; an exception makes the record a dead letter.</param>
    /// <param name="combine">Builds the joined event; an exception makes the record a dead letter.</param>
    /// <param name="missing">The row used when the table has none for the key.</param>
    /// <returns>The builder of the joined type.</returns>
    public StreamPipelineBuilder<TSource, TOut> Enrich<TLookupKey, TRow, TOut>(LookupTable<TLookupKey, TRow> table, Func<TEvent, TLookupKey> key, Func<TEvent, TRow, TOut> combine, TRow missing)
        where TLookupKey : notnull
        => Enrich(table, key, combine, keepMisses: true, missing);

    /// <summary>Groups events by key; each key has its own windows.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="keySelector">Reads the key; a <see langword="null"/> key or an exception sends the record to the dead letters.</param>
    /// <param name="keyCodec">
    /// Saves keys in checkpoints with window state; <see langword="null"/> takes the built-in codec of strings,
    /// numbers, GUIDs and instants (<see cref="StateCodec.Default{T}"/>). Give one for other key types, for example
    /// <c>StateCodec.Pair(StateCodec.String, StateCodec.Int32)</c> or <c>StateCodec.Json(MyContext.Default.MyKey)</c>.
    /// </param>
    /// <returns>The keyed builder.</returns>
    public KeyedPipelineBuilder<TSource, TEvent, TKey> KeyBy<TKey>(Func<TEvent, TKey?> keySelector, IStateCodec<TKey>? keyCodec = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(keySelector);
        return Keyed(new KeyPlan<TEvent, TKey, DelegateKeyReader<TEvent, TKey>>(new(keySelector)), keyCodec);
    }

    /// <summary>
    /// Groups events by a key that a static selector reads: no delegate call per event, the same speed with or
    /// without dynamic PGO and under Native AOT (<c>KeyBy&lt;ByAuction, long&gt;()</c>).
    /// </summary>
    /// <typeparam name="TSelector">The selector type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="keyCodec">Saves keys in checkpoints; the built-in codec when <see langword="null"/>.</param>
    /// <returns>The keyed builder.</returns>
    public KeyedPipelineBuilder<TSource, TEvent, TKey> KeyBy<TSelector, TKey>(IStateCodec<TKey>? keyCodec = null)
        where TSelector : IKeySelector<TEvent, TKey>
        where TKey : notnull
        => Keyed(new KeyPlan<TEvent, TKey, StaticKeyReader<TEvent, TKey, TSelector>>(default), keyCodec);

    /// <summary>Windows over all events together (one key, <see cref="GlobalKey"/>; nothing is read per event to find it).</summary>
    /// <param name="window">The windows.</param>
    /// <returns>The windowed builder.</returns>
    public WindowedPipelineBuilder<TSource, TEvent, GlobalKey> Window(WindowSpec window)
        => Keyed(new KeyPlan<TEvent, GlobalKey, GlobalKeyReader<TEvent>>(default), StateCodec.GlobalKey).Window(window);

    /// <summary>Uses the event's own time in Unix milliseconds, read by a static selector (no delegate call per event).</summary>
    /// <typeparam name="TSelector">The selector type.</typeparam>
    /// <param name="maxOutOfOrderness">How far behind the newest event of its partition an event may arrive and still be on time. Default zero.</param>
    /// <param name="idleTimeout">How long a partition may go without records before it stops holding the watermark back; default 30 seconds.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">The time was already chosen.</exception>
    public StreamPipelineBuilder<TSource, TEvent> WithEventTime<TSelector>(TimeSpan maxOutOfOrderness = default, TimeSpan? idleTimeout = null)
        where TSelector : IUnixTimeSelector<TEvent>
    {
        EnsureTimeNotChosen();
        return new(Options, Chain.WithUnixMilliseconds<TSelector>(), new TimeSetting(true, false, maxOutOfOrderness, idleTimeout ?? StreamPipelineOptions.DefaultIdleTimeout));
    }

    /// <summary>Keeps only the events a static filter accepts (no delegate call per event).</summary>
    /// <typeparam name="TFilter">The filter type.</typeparam>
    /// <returns>The builder.</returns>
    public StreamPipelineBuilder<TSource, TEvent> Where<TFilter>()
        where TFilter : IEventFilter<TEvent>
        => new(Options, Chain.Where<TFilter>(), Time);

    /// <summary>Turns every event into another with a static map (no delegate call per event).</summary>
    /// <typeparam name="TMap">The map type.</typeparam>
    /// <typeparam name="TOut">The new event type.</typeparam>
    /// <returns>The builder of the new event type.</returns>
    public StreamPipelineBuilder<TSource, TOut> Select<TMap, TOut>()
        where TMap : IEventMap<TEvent, TOut>
        => new(Options, Chain.Select<TMap, TOut>(), Time);

    private KeyedPipelineBuilder<TSource, TEvent, TKey> Keyed<TKey>(KeyPlan<TEvent, TKey> key, IStateCodec<TKey>? keyCodec)
        where TKey : notnull
        => new(Options, Time, new SourcePlan<TSource, TEvent>(Chain, Time.IsProcessingTime), key, keyCodec ?? StateCodec.Default<TKey>());

    private StreamPipelineBuilder<TSource, TOut> Enrich<TLookupKey, TRow, TOut>(LookupTable<TLookupKey, TRow> table, Func<TEvent, TLookupKey> key, Func<TEvent, TRow, TOut> combine, bool keepMisses, TRow missing)
        where TLookupKey : notnull
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(combine);
        return new(Options, Chain.Enrich(table, key, combine, keepMisses, missing), Time);
    }

    private void EnsureTimeNotChosen()
    {
        if (Time.Chosen)
        {
            throw new InvalidOperationException("The time of the windows is already chosen: call WithEventTime(...) or WithProcessingTime() once.");
        }
    }
}

/// <summary>Pipeline description step after <c>KeyBy</c>.</summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TEvent">The type the windows aggregate.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class KeyedPipelineBuilder<TSource, TEvent, TKey>
    where TKey : notnull
{
    internal KeyedPipelineBuilder(StreamPipelineOptions options, TimeSetting time, StagePlan<TSource, TEvent> plan, KeyPlan<TEvent, TKey> key, IStateCodec<TKey>? keyCodec)
    {
        Options = options;
        Time = time;
        Plan = plan;
        Key = key;
        KeyCodec = keyCodec;
    }

    internal StreamPipelineOptions Options { get; }

    internal TimeSetting Time { get; }

    internal StagePlan<TSource, TEvent> Plan { get; }

    internal KeyPlan<TEvent, TKey> Key { get; }

    internal IStateCodec<TKey>? KeyCodec { get; }

    /// <summary>Assigns each key's events to windows.</summary>
    /// <param name="window">The windows, from <see cref="WindowSpec"/>.</param>
    /// <returns>The windowed builder.</returns>
    public WindowedPipelineBuilder<TSource, TEvent, TKey> Window(WindowSpec window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new WindowedPipelineBuilder<TSource, TEvent, TKey>(this, window);
    }
}

/// <summary>Pipeline description step after <c>Window</c>: lateness, emission, aggregate.</summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TEvent">The type the windows aggregate.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class WindowedPipelineBuilder<TSource, TEvent, TKey>
    where TKey : notnull
{
    internal WindowedPipelineBuilder(KeyedPipelineBuilder<TSource, TEvent, TKey> keyed, WindowSpec window)
    {
        Keyed = keyed;
        Window = window;
    }

    internal KeyedPipelineBuilder<TSource, TEvent, TKey> Keyed { get; }

    internal WindowSpec Window { get; }

    internal TimeSpan Lateness { get; private set; }

    internal EmitMode Mode { get; private set; }

    /// <summary>
    /// Keeps windows open for late records this long after the watermark passes their end; a late record inside
    /// that time updates and re-emits its windows (<see cref="EmitReason.LateUpdate"/>). Default zero: windows are
    /// purged when they close and later records go to the late output.
    /// </summary>
    /// <param name="lateness">The allowed lateness; zero or more, at most 366 days.</param>
    /// <returns>This builder.</returns>
    public WindowedPipelineBuilder<TSource, TEvent, TKey> AllowedLateness(TimeSpan lateness)
    {
        Lateness = lateness;
        return this;
    }

    /// <summary>Chooses when results are emitted; default <see cref="EmitMode.OnClose"/>.</summary>
    /// <param name="mode">The emission mode.</param>
    /// <returns>This builder.</returns>
    public WindowedPipelineBuilder<TSource, TEvent, TKey> Emit(EmitMode mode)
    {
        Mode = mode;
        return this;
    }

    /// <summary>Aggregates each key's events per window.</summary>
    /// <typeparam name="TAggregator">The aggregator struct.</typeparam>
    /// <typeparam name="TAccumulator">Its accumulator.</typeparam>
    /// <typeparam name="TResult">Its result.</typeparam>
    /// <param name="aggregation">The aggregation, such as <c>Aggregates.For&lt;ClickEvent&gt;().Count()</c>.</param>
    /// <returns>The aggregated builder.</returns>
    public AggregatedPipelineBuilder<TSource, TKey, TResult> Aggregate<TAggregator, TAccumulator, TResult>(Aggregation<TEvent, TAggregator, TAccumulator, TResult> aggregation)
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
    {
        var keyed = Keyed;
        var time = keyed.Time;
        var idle = time.EngineIdleTimeout;
        var stage = new StageSettings<TKey>(
            keyed.Options.Name,
            time.MaxOutOfOrderness.Ticks,
            idle.Ticks,
            keyed.Options.MaxEventTimeAhead?.Ticks ?? 0,
            keyed.KeyCodec,
            Window,
            Lateness.Ticks,
            Mode,
            ProfileSlots.Next());
        var aggregator = aggregation.Aggregator;
        var plan = keyed.Plan;
        var key = keyed.Key;
        return new AggregatedPipelineBuilder<TSource, TKey, TResult>(
            new PipelineDefinition(keyed.Options, time, Window, Lateness, Mode, plan.IsDownstream, plan.IsProcessingTime)
            {
                Upstream = plan.UpstreamDefinition is { } upstream ? [.. upstream.Upstream, upstream] : [],
            },
            (timeProvider, partition) => plan.Create<TKey, TAggregator, TAccumulator, TResult>(stage, key, aggregator, timeProvider, partition));
    }

    /// <summary>Aggregates each key's events per window, choosing the aggregation from a factory: <c>.Aggregate(a =&gt; a.Count().And(a.Sum(e =&gt; e.Amount)))</c>.</summary>
    /// <typeparam name="TAggregator">The aggregator struct.</typeparam>
    /// <typeparam name="TAccumulator">Its accumulator.</typeparam>
    /// <typeparam name="TResult">Its result.</typeparam>
    /// <param name="define">Builds the aggregation from the factory.</param>
    /// <returns>The aggregated builder.</returns>
    public AggregatedPipelineBuilder<TSource, TKey, TResult> Aggregate<TAggregator, TAccumulator, TResult>(Func<AggregateFactory<TEvent>, Aggregation<TEvent, TAggregator, TAccumulator, TResult>> define)
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
    {
        ArgumentNullException.ThrowIfNull(define);
        return Aggregate(define(default));
    }
}

/// <summary>What a pipeline's last window stage (and the stages before it) were described with, for validation at build time.</summary>
internal sealed record PipelineDefinition(StreamPipelineOptions Options, TimeSetting Time, WindowSpec Window, TimeSpan Lateness, EmitMode Mode, bool IsDownstream, bool IsProcessingTime)
{
    /// <summary>Gets the definitions of the window stages before this one, first first.</summary>
    public IReadOnlyList<PipelineDefinition> Upstream { get; init; } = [];

    /// <summary>Gets a value indicating whether the pipeline has no windows (<c>PerEvent()</c>).</summary>
    public bool IsPerEvent { get; init; }
}

/// <summary>
/// Last pipeline description step: outputs, then <see cref="Build"/>. Or more windows over these results:
/// <see cref="KeyBy{TNextKey}"/> / <see cref="Window"/> start a window stage fed by this one's windows.
/// </summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
public sealed class AggregatedPipelineBuilder<TSource, TKey, TResult>
    where TKey : notnull
{
    private readonly PipelineDefinition _definition;
    private readonly Func<TimeProvider, string?, WindowProcessor<TSource, TKey, TResult>> _factory;
    private readonly List<ISink<WindowResult<TKey, TResult>>> _sinks = [];
    private ChainBuilder<WindowResult<TKey, TResult>, WindowResult<TKey, TResult>> _resultChain = new ChainBuilder<WindowResult<TKey, TResult>, WindowResult<TKey, TResult>, ResultTimeChain<TKey, TResult>>(default);
    private Func<WindowResult<TKey, TResult>, bool>? _resultFilter;
    private ISink<LateRecord<TSource>>? _lateSink;
    private ISink<DeadLetter>? _deadLetterSink;

    internal AggregatedPipelineBuilder(PipelineDefinition definition, Func<TimeProvider, string?, WindowProcessor<TSource, TKey, TResult>> factory)
    {
        _definition = definition;
        _factory = factory;
    }

    /// <summary>
    /// Keeps only the results <paramref name="predicate"/> accepts, for the sinks or for the windows that follow
    /// (<c>Where(r =&gt; r.Value &gt; 100)</c>: only busy pages go on).
    /// </summary>
    /// <param name="predicate">
    /// Decides. An exception makes the result a dead letter (<see cref="DeadLetterReason.SelectorFailed"/>; after the last
    /// stage with the result's id as its payload), counted in <see cref="PipelineStatistics.ResultDeadLetters"/>, and the
    /// stream goes on.
    /// </param>
    /// <returns>This builder.</returns>
    public AggregatedPipelineBuilder<TSource, TKey, TResult> Where(Func<WindowResult<TKey, TResult>, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        _resultChain = _resultChain.Where(predicate);
        var previous = _resultFilter;
        _resultFilter = previous is null ? predicate : r => previous(r) && predicate(r);
        return this;
    }

    /// <summary>
    /// Starts a window stage over these results, grouped by a new key (windows fed by windows: the top pages per
    /// minute, the hottest auction per slide). Each result arrives once, when its window closes, with the last instant
    /// of its window as its event time.
    /// </summary>
    /// <typeparam name="TNextKey">The new key type.</typeparam>
    /// <param name="keySelector">Reads the new key from a result; an exception makes the result a dead letter of the next stage.</param>
    /// <param name="keyCodec">Saves keys in checkpoints; the built-in codec when <see langword="null"/>.</param>
    /// <returns>The keyed builder of the next stage.</returns>
    /// <remarks>This stage must emit each window once: no allowed lateness and <see cref="EmitMode.OnClose"/> (checked when built).</remarks>
    public KeyedPipelineBuilder<TSource, WindowResult<TKey, TResult>, TNextKey> KeyBy<TNextKey>(Func<WindowResult<TKey, TResult>, TNextKey?> keySelector, IStateCodec<TNextKey>? keyCodec = null)
        where TNextKey : notnull
    {
        ArgumentNullException.ThrowIfNull(keySelector);
        return Next(new KeyPlan<WindowResult<TKey, TResult>, TNextKey, DelegateKeyReader<WindowResult<TKey, TResult>, TNextKey>>(new(keySelector)), keyCodec);
    }

    /// <summary>Starts a window stage over all these results together (one key): the maximum per window, the top N of the window's keys.</summary>
    /// <param name="window">The windows of the next stage.</param>
    /// <returns>The windowed builder of the next stage.</returns>
    public WindowedPipelineBuilder<TSource, WindowResult<TKey, TResult>, GlobalKey> Window(WindowSpec window)
        => Next(new KeyPlan<WindowResult<TKey, TResult>, GlobalKey, GlobalKeyReader<WindowResult<TKey, TResult>>>(default), StateCodec.GlobalKey).Window(window);

    private KeyedPipelineBuilder<TSource, WindowResult<TKey, TResult>, TNextKey> Next<TNextKey>(KeyPlan<WindowResult<TKey, TResult>, TNextKey> key, IStateCodec<TNextKey>? keyCodec)
        where TNextKey : notnull
    {
        if (_sinks.Count > 0 || _lateSink is not null || _deadLetterSink is not null)
        {
            throw new InvalidOperationException("Add the sinks after the last window stage: only its results reach them.");
        }

        if (_definition.IsPerEvent)
        {
            throw new InvalidOperationException("The results of PerEvent() cannot feed windows, because they are not in watermark order: window the events themselves with KeyBy(...) or Window(...) instead of PerEvent().");
        }

        var plan = new ResultPlan<TSource, TKey, TResult>(_factory, _resultChain);
        return new KeyedPipelineBuilder<TSource, WindowResult<TKey, TResult>, TNextKey>(
            _definition.Options,
            _definition.Time with { MaxOutOfOrderness = TimeSpan.Zero, IdleTimeout = TimeSpan.Zero },
            new UpstreamPlan<TSource, TKey, TResult>(plan, _definition),
            key,
            keyCodec ?? StateCodec.Default<TNextKey>());
    }

    /// <summary>Adds a destination for window results; several may be added, each receives every result.</summary>
    /// <param name="sink">The sink.</param>
    /// <returns>This builder.</returns>
    public AggregatedPipelineBuilder<TSource, TKey, TResult> To(ISink<WindowResult<TKey, TResult>> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sinks.Add(sink);
        return this;
    }

    /// <summary>Sets the destination of late records. Without one, late records are only counted (statistics and metrics).</summary>
    /// <param name="sink">The sink.</param>
    /// <returns>This builder.</returns>
    public AggregatedPipelineBuilder<TSource, TKey, TResult> LateTo(ISink<LateRecord<TSource>> sink)
    {
        _lateSink = sink ?? throw new ArgumentNullException(nameof(sink));
        return this;
    }

    /// <summary>Sets the destination of dead letters. Without one, dead letters are only counted (statistics and metrics).</summary>
    /// <param name="sink">The sink.</param>
    /// <returns>This builder.</returns>
    public AggregatedPipelineBuilder<TSource, TKey, TResult> DeadLettersTo(ISink<DeadLetter> sink)
    {
        _deadLetterSink = sink ?? throw new ArgumentNullException(nameof(sink));
        return this;
    }

    /// <summary>Validates the description and builds the pipeline.</summary>
    /// <returns>The pipeline.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and what to change.</exception>
    /// <exception cref="InvalidOperationException">A required step is missing (time, or a results sink).</exception>
    public StreamPipeline<TSource, TKey, TResult> Build()
    {
        var options = _definition.Options;
        options.Validate();
        if (!_definition.Time.Chosen)
        {
            throw new InvalidOperationException("Choose the time of the windows: call WithEventTime(...) or WithProcessingTime() before KeyBy/Window.");
        }

        if (_sinks.Count == 0)
        {
            throw new InvalidOperationException("The pipeline has no results sink: add one with To(sink).");
        }

        foreach (var stage in _definition.Upstream.Append(_definition))
        {
            stage.Window.Validate();
            CheckDuration(stage.Lateness, "AllowedLateness");
            if (!Enum.IsDefined(stage.Mode))
            {
                throw new ArgumentOutOfRangeException(nameof(EmitMode), stage.Mode, "Emit(mode) takes EmitMode.OnClose or EmitMode.OnUpdate.");
            }
        }

        foreach (var upstream in _definition.Upstream)
        {
            if (upstream.Lateness != TimeSpan.Zero || upstream.Mode != EmitMode.OnClose)
            {
                throw new ArgumentException(
                    "A window stage that feeds further windows must emit each window once: no AllowedLateness and Emit(EmitMode.OnClose). Put lateness and live updates on the last stage.",
                    nameof(options));
            }
        }

        var first = _definition.Upstream.Count > 0 ? _definition.Upstream[0] : _definition;
        CheckDuration(first.Time.MaxOutOfOrderness, "maxOutOfOrderness (WithEventTime)");
        var idle = first.Time.EngineIdleTimeout;
        CheckDuration(idle, "idleTimeout (WithEventTime)");

        var time = options.TimeProvider;
        var probe = _factory(time, null);
        bool snapshotState = _definition.IsPerEvent || ChooseWindowState(options, first, probe.CanSnapshotState, chained: _definition.Upstream.Count > 0);
        var factory = _factory;
        var filter = _resultFilter;
        Func<TimeProvider, string?, WindowProcessor<TSource, TKey, TResult>> create = filter is null ? factory : (t, partition) => new FilteringProcessor<TSource, TKey, TResult>(factory(t, partition), filter);
        return new StreamPipeline<TSource, TKey, TResult>(options, create, snapshotState, [.. _sinks], _lateSink, _deadLetterSink);
    }

    private static bool ChooseWindowState(StreamPipelineOptions options, PipelineDefinition first, bool canSave, bool chained)
    {
        bool isSession = first.Window.Kind == WindowKind.Session;
        string missing = $"every window stage needs a key codec (KeyBy(selector, keyCodec)) and an aggregator that saves its accumulators (IPersistentAggregator<TAccumulator>; every built-in one does)";
        bool mustSave = isSession || first.IsProcessingTime || chained;
        string why = options.WindowState == WindowStateMode.Always ? "WindowState = Always"
            : isSession ? "session windows"
            : first.IsProcessingTime ? "processing time"
            : "windows fed by windows";
        switch (options.WindowState)
        {
            case WindowStateMode.Never when isSession || first.IsProcessingTime:
                throw new ArgumentException(
                    $"WindowState = Never works only for tumbling and sliding windows on event time: {(isSession ? "session windows" : "processing-time windows")} cannot be rebuilt from replayed records. Use Auto or Always.",
                    nameof(options));
            case WindowStateMode.Never when chained && !canSave:
                throw new ArgumentException($"Pipeline '{options.Name}' chains windows, whose later stages always save their windows in checkpoints, but it cannot: {missing}.", nameof(options));
            case WindowStateMode.Never:
                return false;
            case WindowStateMode.Always or WindowStateMode.Auto when !canSave && (mustSave || options.WindowState == WindowStateMode.Always):
                throw new ArgumentException($"Pipeline '{options.Name}' must save its open windows in checkpoints ({why}), but it cannot: {missing}.", nameof(options));
            case WindowStateMode.Always:
                return true;
            default:
                return canSave && (mustSave || first.Window.Size.Ticks + first.Lateness.Ticks >= options.CheckpointInterval.Ticks);
        }
    }

    private static void CheckDuration(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero || value > WindowSpec.MaxLength)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be zero or more and at most {WindowSpec.MaxLength.TotalDays} days; got {value}.");
        }
    }
}

/// <summary>A further window stage's plan, remembering the definitions of the stages before it (for validation).</summary>
internal sealed class UpstreamPlan<TSource, TUpKey, TUpResult>(ResultPlan<TSource, TUpKey, TUpResult> plan, PipelineDefinition upstream)
    : StagePlan<TSource, WindowResult<TUpKey, TUpResult>>
{
    public override PipelineDefinition? UpstreamDefinition => upstream;

    public override bool IsProcessingTime => plan.IsProcessingTime;

    public override bool IsDownstream => true;

    public override WindowProcessor<TSource, TKey, TResult> Create<TKey, TAggregator, TAccumulator, TResult>(StageSettings<TKey> settings, KeyPlan<WindowResult<TUpKey, TUpResult>, TKey> key, TAggregator aggregator, TimeProvider time, string? partition)
        => plan.Create<TKey, TAggregator, TAccumulator, TResult>(settings, key, aggregator, time, partition);
}
