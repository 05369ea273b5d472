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

/// <summary>The validated settings a window stage is built from (the operators and key selector are given to the engine itself).</summary>
internal sealed record ProcessorSettings<TSource, TKey>(
    string PipelineName,
    bool IsProcessingTime,
    long OutOfOrdernessTicks,
    long IdleTimeoutTicks,
    long MaxAheadTicks,
    IStateCodec<TKey>? KeyCodec,
    WindowSpec Window,
    long AllowedLatenessTicks,
    EmitMode EmitMode,
    TimeProvider TimeProvider,
    string? Partition = null,
    int ProfileSlot = 0)
{
    /// <summary>Gets the name the checkpoint is saved under: the pipeline's, or <c>{pipeline}/{partition}</c> for a partition's engine.</summary>
    public string CheckpointName => Partition is null ? PipelineName : $"{PipelineName}/{Partition}";

    /// <summary>The same settings for a stage whose records are of another type (the items of a <c>SelectMany</c>).</summary>
    public ProcessorSettings<TOther, TKey> For<TOther>()
        => new(PipelineName, IsProcessingTime, OutOfOrdernessTicks, IdleTimeoutTicks, MaxAheadTicks, KeyCodec, Window, AllowedLatenessTicks, EmitMode, TimeProvider, Partition, ProfileSlot);

    /// <summary>Describes what saved window state depends on; a checkpoint taken under another description is refused.</summary>
    public string Describe<TAccumulator>()
        => string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{Window}, offset {Window.Offset}, lateness {TimeSpan.FromTicks(AllowedLatenessTicks)}, {(IsProcessingTime ? "processing time" : "event time")}, key {typeof(TKey).FullName}, accumulator {typeof(TAccumulator).FullName}");
}
