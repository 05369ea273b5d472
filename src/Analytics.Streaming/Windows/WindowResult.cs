using System.Globalization;

namespace Analytics.Streaming;

/// <summary>Why a window result was emitted.</summary>
public enum EmitReason
{
    /// <summary>The watermark passed the end of the window.</summary>
    Closed,

    /// <summary>A record within the allowed lateness changed a window that had already been emitted.</summary>
    LateUpdate,

    /// <summary>An early result of a window that is still open (emission on every update).</summary>
    Update,
}

/// <summary>The aggregate of one key in one window.</summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The aggregate result type.</typeparam>
/// <param name="Pipeline">The name of the pipeline that produced it (part of the identity).</param>
/// <param name="Key">The key; for global windows, <see cref="GlobalKey.Value"/>.</param>
/// <param name="Window">The window.</param>
/// <param name="Value">The aggregate.</param>
/// <param name="Reason">Why the result was emitted.</param>
/// <param name="Replaces">
/// For session windows only: the extents under which this session (or the sessions merged into it) was emitted
/// before a record extended or merged it; <see langword="null"/> otherwise. Sinks that keep results by identity
/// delete those older identities.
/// </param>
/// <remarks>
/// A result's identity is (pipeline, key, window start, window end): a window emitted again (a late update, a
/// replay after a crash) carries the same identity and the newer value, so sinks overwrite instead of adding.
/// </remarks>
public readonly record struct WindowResult<TKey, TValue>(
    string Pipeline,
    TKey Key,
    TimeWindow Window,
    TValue Value,
    EmitReason Reason = EmitReason.Closed,
    IReadOnlyList<TimeWindow>? Replaces = null)
{
    /// <summary>
    /// Gets the number of records aggregated into the result. It grows with every change of the window, so sinks
    /// use it as the result's version: a write never replaces a result built from more records (a replay after a
    /// restart re-emits earlier, smaller versions before it catches up).
    /// </summary>
    public long RecordCount { get; init; }

    /// <summary>
    /// Gets the source partition (a shard id) whose records alone make up this result, when results are computed per
    /// partition (a Lambda function handling each shard, workers sharing a stream's shards); <see langword="null"/> when
    /// the result covers every partition. Partial results of the same key and window then carry different identities,
    /// and a sink or reader merges them (sums, sketch merges).
    /// </summary>
    public string? Partition { get; init; }

    /// <summary>
    /// Gets the deterministic identity of the result: <c>pipeline|key|startUnixMs|endUnixMs</c>, or
    /// <c>pipeline|partition|key|startUnixMs|endUnixMs</c> for a partition's result; stable across replays and
    /// processes. Sinks use it as the item key of an idempotent write.
    /// </summary>
    public string Id => Partition is null ? FormatId(Pipeline, Key, Window) : FormatId(Pipeline, Partition, Key, Window);

    /// <summary>Formats the identity of a result of <paramref name="pipeline"/> for a key and window.</summary>
    /// <param name="pipeline">The pipeline name.</param>
    /// <param name="key">The key.</param>
    /// <param name="window">The window.</param>
    /// <returns>The identity.</returns>
    public static string FormatId(string pipeline, TKey key, TimeWindow window)
        => string.Create(
            CultureInfo.InvariantCulture,
            $"{pipeline}|{key}|{window.Start.ToUnixTimeMilliseconds()}|{window.End.ToUnixTimeMilliseconds()}");

    /// <summary>Formats the identity of a partition's result.</summary>
    /// <param name="pipeline">The pipeline name.</param>
    /// <param name="partition">The source partition.</param>
    /// <param name="key">The key.</param>
    /// <param name="window">The window.</param>
    /// <returns>The identity.</returns>
    public static string FormatId(string pipeline, string partition, TKey key, TimeWindow window)
        => string.Create(
            CultureInfo.InvariantCulture,
            $"{pipeline}|{partition}|{key}|{window.Start.ToUnixTimeMilliseconds()}|{window.End.ToUnixTimeMilliseconds()}");
}

/// <summary>The single key of a pipeline that aggregates without <c>KeyBy</c> (global windows).</summary>
public readonly record struct GlobalKey
{
    /// <summary>Gets the only value.</summary>
    public static GlobalKey Value => default;

    /// <summary>Returns <c>*</c>.</summary>
    public override string ToString() => "*";
}

/// <summary>A record that arrived after every window it belongs to was closed and purged.</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <param name="Event">The event.</param>
/// <param name="Position">Where it sits in its source.</param>
/// <param name="EventTime">Its event time.</param>
/// <param name="Watermark">The watermark when it arrived.</param>
public readonly record struct LateRecord<TEvent>(TEvent Event, StreamPosition Position, DateTimeOffset EventTime, DateTimeOffset Watermark);
