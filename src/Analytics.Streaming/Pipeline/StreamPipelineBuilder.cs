namespace Analytics.Streaming;

/// <summary>Entry point of the pipeline builder.</summary>
/// <example>
/// <code>
/// var pipeline = StreamPipeline.Create&lt;ClickEvent&gt;(new() { Name = "page-views" })
///     .WithEventTime(e =&gt; e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(5))
///     .KeyBy(e =&gt; e.PageId)
///     .Window(Windows.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)))
///     .Aggregate(a =&gt; a.Count())
///     .To(sink)
///     .Build();
/// await pipeline.RunAsync(source, cancellationToken);
/// </code>
/// </example>
public static class StreamPipeline
{
    /// <summary>Starts describing a pipeline over events of type <typeparamref name="TEvent"/>.</summary>
    /// <typeparam name="TEvent">The event type.</typeparam>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static StreamPipelineBuilder<TEvent> Create<TEvent>(StreamPipelineOptions? options = null) => new(options ?? new StreamPipelineOptions());
}

/// <summary>First step of a pipeline description: options and time.</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
public sealed class StreamPipelineBuilder<TEvent>
{
    internal StreamPipelineBuilder(StreamPipelineOptions options) => Options = options;

    /// <summary>The default idle timeout of a partition: 30 seconds.</summary>
    public static TimeSpan DefaultIdleTimeout { get; } = TimeSpan.FromSeconds(30);

    internal StreamPipelineOptions Options { get; }

    internal Func<TEvent, DateTimeOffset>? EventTime { get; private set; }

    internal Func<TEvent, long>? EventTimeUnixMilliseconds { get; private set; }

    internal bool TimeChosen { get; private set; }

    internal TimeSpan MaxOutOfOrderness { get; private set; }

    internal TimeSpan IdleTimeout { get; private set; } = DefaultIdleTimeout;

    /// <summary>Uses the event's own time for windows, with watermarks that tolerate out-of-order events.</summary>
    /// <param name="timestamp">Reads the event time; must not throw.</param>
    /// <param name="maxOutOfOrderness">How far behind the newest event of its partition an event may arrive and still be on time. Default zero.</param>
    /// <param name="idleTimeout">
    /// How long a partition may go without records before it stops holding the watermark back; default 30 seconds;
    /// <see cref="TimeSpan.Zero"/> or <see cref="Timeout.InfiniteTimeSpan"/> never treats a partition as idle.
    /// </param>
    /// <returns>This builder.</returns>
    public StreamPipelineBuilder<TEvent> WithEventTime(Func<TEvent, DateTimeOffset> timestamp, TimeSpan maxOutOfOrderness = default, TimeSpan? idleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(timestamp);
        EventTime = timestamp;
        EventTimeUnixMilliseconds = null;
        MaxOutOfOrderness = maxOutOfOrderness;
        IdleTimeout = idleTimeout ?? DefaultIdleTimeout;
        TimeChosen = true;
        return this;
    }

    /// <summary>
    /// Uses the event's own time given as Unix milliseconds (the usual <c>"ts": 1767225600000</c> of JSON events),
    /// with watermarks that tolerate out-of-order events. Same semantics as the <see cref="DateTimeOffset"/> overload.
    /// </summary>
    /// <param name="unixTimeMilliseconds">Reads the event time in milliseconds since 1970-01-01T00:00:00Z; must not throw.</param>
    /// <param name="maxOutOfOrderness">How far behind the newest event of its partition an event may arrive and still be on time. Default zero.</param>
    /// <param name="idleTimeout">How long a partition may go without records before it stops holding the watermark back; default 30 seconds.</param>
    /// <returns>This builder.</returns>
    public StreamPipelineBuilder<TEvent> WithEventTime(Func<TEvent, long> unixTimeMilliseconds, TimeSpan maxOutOfOrderness = default, TimeSpan? idleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(unixTimeMilliseconds);
        EventTime = null;
        EventTimeUnixMilliseconds = unixTimeMilliseconds;
        MaxOutOfOrderness = maxOutOfOrderness;
        IdleTimeout = idleTimeout ?? DefaultIdleTimeout;
        TimeChosen = true;
        return this;
    }

    /// <summary>Uses the time a batch is processed (from <see cref="StreamPipelineOptions.TimeProvider"/>) as the event time; no record is ever late.</summary>
    /// <returns>This builder.</returns>
    public StreamPipelineBuilder<TEvent> WithProcessingTime()
    {
        EventTime = null;
        EventTimeUnixMilliseconds = null;
        TimeChosen = true;
        return this;
    }

    /// <summary>Groups events by key; each key has its own windows.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="keySelector">Reads the key; a <see langword="null"/> key sends the record to the dead letters. Must not throw.</param>
    /// <param name="keyCodec">
    /// Saves keys in checkpoints with window state; <see langword="null"/> takes the built-in codec of strings,
    /// numbers, GUIDs and instants (<see cref="StateCodec.Default{T}"/>). Give one for other key types, for example
    /// <c>StateCodec.Pair(StateCodec.String, StateCodec.Int32)</c> or <c>StateCodec.Json(MyContext.Default.MyKey)</c>.
    /// </param>
    /// <returns>The keyed builder.</returns>
    public KeyedPipelineBuilder<TEvent, TKey> KeyBy<TKey>(Func<TEvent, TKey?> keySelector, IStateCodec<TKey>? keyCodec = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(keySelector);
        return new KeyedPipelineBuilder<TEvent, TKey>(this, keySelector, keyCodec ?? StateCodec.Default<TKey>());
    }

    /// <summary>Windows over all events together (one key, <see cref="GlobalKey"/>).</summary>
    /// <param name="window">The windows.</param>
    /// <returns>The windowed builder.</returns>
    public WindowedPipelineBuilder<TEvent, GlobalKey> Window(WindowSpec window) => KeyBy(static _ => GlobalKey.Value, StateCodec.GlobalKey).Window(window);
}

/// <summary>Pipeline description step after <c>KeyBy</c>.</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class KeyedPipelineBuilder<TEvent, TKey>
    where TKey : notnull
{
    internal KeyedPipelineBuilder(StreamPipelineBuilder<TEvent> source, Func<TEvent, TKey?> keySelector, IStateCodec<TKey>? keyCodec)
    {
        Source = source;
        KeySelector = keySelector;
        KeyCodec = keyCodec;
    }

    internal StreamPipelineBuilder<TEvent> Source { get; }

    internal Func<TEvent, TKey?> KeySelector { get; }

    internal IStateCodec<TKey>? KeyCodec { get; }

    /// <summary>Assigns each key's events to windows.</summary>
    /// <param name="window">The windows, from <see cref="Windows"/>.</param>
    /// <returns>The windowed builder.</returns>
    public WindowedPipelineBuilder<TEvent, TKey> Window(WindowSpec window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new WindowedPipelineBuilder<TEvent, TKey>(this, window);
    }
}

/// <summary>Pipeline description step after <c>Window</c>: lateness, emission, aggregate.</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class WindowedPipelineBuilder<TEvent, TKey>
    where TKey : notnull
{
    internal WindowedPipelineBuilder(KeyedPipelineBuilder<TEvent, TKey> keyed, WindowSpec window)
    {
        Keyed = keyed;
        Window = window;
    }

    internal KeyedPipelineBuilder<TEvent, TKey> Keyed { get; }

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
    public WindowedPipelineBuilder<TEvent, TKey> AllowedLateness(TimeSpan lateness)
    {
        Lateness = lateness;
        return this;
    }

    /// <summary>Chooses when results are emitted; default <see cref="EmitMode.OnClose"/>.</summary>
    /// <param name="mode">The emission mode.</param>
    /// <returns>This builder.</returns>
    public WindowedPipelineBuilder<TEvent, TKey> Emit(EmitMode mode)
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
    public AggregatedPipelineBuilder<TEvent, TKey, TResult> Aggregate<TAggregator, TAccumulator, TResult>(Aggregation<TEvent, TAggregator, TAccumulator, TResult> aggregation)
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
    {
        var aggregator = aggregation.Aggregator;
        return new AggregatedPipelineBuilder<TEvent, TKey, TResult>(this, settings => settings.Window.Kind == WindowKind.Session
            ? new SessionWindowProcessor<TEvent, TKey, TAggregator, TAccumulator, TResult>(settings, aggregator)
            : new SlicingWindowProcessor<TEvent, TKey, TAggregator, TAccumulator, TResult>(settings, aggregator));
    }

    /// <summary>Aggregates each key's events per window, choosing the aggregation from a factory: <c>.Aggregate(a =&gt; a.Count().And(a.Sum(e =&gt; e.Amount)))</c>.</summary>
    /// <typeparam name="TAggregator">The aggregator struct.</typeparam>
    /// <typeparam name="TAccumulator">Its accumulator.</typeparam>
    /// <typeparam name="TResult">Its result.</typeparam>
    /// <param name="define">Builds the aggregation from the factory.</param>
    /// <returns>The aggregated builder.</returns>
    public AggregatedPipelineBuilder<TEvent, TKey, TResult> Aggregate<TAggregator, TAccumulator, TResult>(Func<AggregateFactory<TEvent>, Aggregation<TEvent, TAggregator, TAccumulator, TResult>> define)
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
    {
        ArgumentNullException.ThrowIfNull(define);
        return Aggregate(define(default));
    }
}

/// <summary>Last pipeline description step: outputs, then <see cref="Build"/>.</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
public sealed class AggregatedPipelineBuilder<TEvent, TKey, TResult>
    where TKey : notnull
{
    private readonly WindowedPipelineBuilder<TEvent, TKey> _windowed;
    private readonly Func<ProcessorSettings<TEvent, TKey>, WindowProcessor<TEvent, TKey, TResult>> _factory;
    private readonly List<ISink<WindowResult<TKey, TResult>>> _sinks = [];
    private ISink<LateRecord<TEvent>>? _lateSink;
    private ISink<DeadLetter>? _deadLetterSink;

    internal AggregatedPipelineBuilder(WindowedPipelineBuilder<TEvent, TKey> windowed, Func<ProcessorSettings<TEvent, TKey>, WindowProcessor<TEvent, TKey, TResult>> factory)
    {
        _windowed = windowed;
        _factory = factory;
    }

    /// <summary>Adds a destination for window results; several may be added, each receives every result.</summary>
    /// <param name="sink">The sink.</param>
    /// <returns>This builder.</returns>
    public AggregatedPipelineBuilder<TEvent, TKey, TResult> To(ISink<WindowResult<TKey, TResult>> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sinks.Add(sink);
        return this;
    }

    /// <summary>Sets the destination of late records. Without one, late records are only counted (statistics and metrics).</summary>
    /// <param name="sink">The sink.</param>
    /// <returns>This builder.</returns>
    public AggregatedPipelineBuilder<TEvent, TKey, TResult> LateTo(ISink<LateRecord<TEvent>> sink)
    {
        _lateSink = sink ?? throw new ArgumentNullException(nameof(sink));
        return this;
    }

    /// <summary>Sets the destination of dead letters. Without one, dead letters are only counted (statistics and metrics).</summary>
    /// <param name="sink">The sink.</param>
    /// <returns>This builder.</returns>
    public AggregatedPipelineBuilder<TEvent, TKey, TResult> DeadLettersTo(ISink<DeadLetter> sink)
    {
        _deadLetterSink = sink ?? throw new ArgumentNullException(nameof(sink));
        return this;
    }

    /// <summary>Validates the description and builds the pipeline.</summary>
    /// <returns>The pipeline.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and what to change.</exception>
    /// <exception cref="InvalidOperationException">A required step is missing (time, or a results sink).</exception>
    public StreamPipeline<TEvent, TKey, TResult> Build()
    {
        var keyed = _windowed.Keyed;
        var source = keyed.Source;
        var options = source.Options;
        options.Validate();
        if (!source.TimeChosen)
        {
            throw new InvalidOperationException("Choose the time of the windows: call WithEventTime(...) or WithProcessingTime() before KeyBy/Window.");
        }

        if (_sinks.Count == 0)
        {
            throw new InvalidOperationException("The pipeline has no results sink: add one with To(sink).");
        }

        _windowed.Window.Validate();
        CheckDuration(source.MaxOutOfOrderness, "maxOutOfOrderness (WithEventTime)");
        CheckDuration(_windowed.Lateness, "AllowedLateness");
        var idle = source.IdleTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : source.IdleTimeout;
        CheckDuration(idle, "idleTimeout (WithEventTime)");
        if (!Enum.IsDefined(_windowed.Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(EmitMode), _windowed.Mode, "Emit(mode) takes EmitMode.OnClose or EmitMode.OnUpdate.");
        }

        var settings = new ProcessorSettings<TEvent, TKey>(
            options.Name,
            source.EventTime,
            source.EventTimeUnixMilliseconds,
            source.MaxOutOfOrderness.Ticks,
            idle.Ticks,
            options.MaxEventTimeAhead?.Ticks ?? 0,
            keyed.KeySelector,
            keyed.KeyCodec,
            _windowed.Window,
            _windowed.Lateness.Ticks,
            _windowed.Mode,
            options.TimeProvider);
        bool snapshotState = ChooseWindowState(options, settings, _factory(settings).CanSnapshotState);
        return new StreamPipeline<TEvent, TKey, TResult>(options, settings, _factory, snapshotState, [.. _sinks], _lateSink, _deadLetterSink);
    }

    private static bool ChooseWindowState(StreamPipelineOptions options, ProcessorSettings<TEvent, TKey> settings, bool canSave)
    {
        bool isSession = settings.Window.Kind == WindowKind.Session;
        string missing = $"keys of type {typeof(TKey).Name} need a codec (KeyBy(selector, keyCodec)) and the aggregator must save its accumulators (IPersistentAggregator<TAccumulator>; every built-in one does)";
        bool mustSave = isSession || settings.IsProcessingTime;
        switch (options.WindowState)
        {
            case WindowStateMode.Never when mustSave:
                throw new ArgumentException(
                    $"WindowState = Never works only for tumbling and sliding windows on event time: {(isSession ? "session windows" : "processing-time windows")} cannot be rebuilt from replayed records. Use Auto or Always.",
                    nameof(options));
            case WindowStateMode.Never:
                return false;
            case WindowStateMode.Always or WindowStateMode.Auto when !canSave && (mustSave || options.WindowState == WindowStateMode.Always):
                throw new ArgumentException(
                    $"Pipeline '{options.Name}' must save its open windows in checkpoints ({(options.WindowState == WindowStateMode.Always ? "WindowState = Always" : isSession ? "session windows" : "processing time")}), but it cannot: {missing}.",
                    nameof(options));
            case WindowStateMode.Always:
                return true;
            default:
                return canSave && (mustSave || settings.Window.Size.Ticks + settings.AllowedLatenessTicks >= options.CheckpointInterval.Ticks);
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
