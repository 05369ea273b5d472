namespace Analytics.Streaming;

/// <summary>How often window results are emitted.</summary>
public enum EmitMode
{
    /// <summary>Once when the watermark passes the end of a window, and again if a record within the allowed lateness changes it (default).</summary>
    OnClose,

    /// <summary>
    /// Also after every batch that changes a window, before it closes (<see cref="EmitReason.Update"/>), coalesced per
    /// batch: live dashboards. Every change still ends with the result emitted on close.
    /// </summary>
    OnUpdate,
}

/// <summary>The validated settings a processor is built from.</summary>
internal sealed record ProcessorSettings<TEvent, TKey>(
    string PipelineName,
    Func<TEvent, DateTimeOffset>? EventTime,
    Func<TEvent, long>? EventTimeUnixMilliseconds,
    long OutOfOrdernessTicks,
    long IdleTimeoutTicks,
    long MaxAheadTicks,
    Func<TEvent, TKey?> KeySelector,
    WindowSpec Window,
    long AllowedLatenessTicks,
    EmitMode EmitMode,
    TimeProvider TimeProvider)
{
    /// <summary>Gets a value indicating whether windows run on processing time.</summary>
    public bool IsProcessingTime => EventTime is null && EventTimeUnixMilliseconds is null;
}
