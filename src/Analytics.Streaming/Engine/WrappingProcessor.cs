namespace Analytics.Streaming;

/// <summary>
/// A processor in front of another that holds the windows: watermarks, open windows and checkpoints are the inner
/// processor's; a derived class changes only what goes in (<see cref="WindowProcessor{TSource, TKey, TResult}.Process"/>)
/// and what comes out.
/// </summary>
/// <typeparam name="TSource">The type this processor receives.</typeparam>
/// <typeparam name="TInner">The type the inner processor receives.</typeparam>
/// <typeparam name="TKey">The key type of the results.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
internal abstract class WrappingProcessor<TSource, TInner, TKey, TResult>(WindowProcessor<TInner, TKey, TResult> inner) : WindowProcessor<TSource, TKey, TResult>
{
    public sealed override long OpenWindowCount => Inner.OpenWindowCount;

    public sealed override bool SnapshotsWindowState => Inner.SnapshotsWindowState;

    public sealed override long LastCheckpointId => Inner.LastCheckpointId;

    internal sealed override long WatermarkTicks => Inner.WatermarkTicks;

    internal sealed override bool CanSnapshotState => Inner.CanSnapshotState;

    internal sealed override int ProfileSlot => Inner.ProfileSlot;

    internal override long ResultDeadLetters => Inner.ResultDeadLetters;

    internal sealed override int UseSetAside(SetAsideRecords setAside) => Inner.UseSetAside(setAside);

    internal sealed override StreamPosition? ReplayThrough(string partitionId) => Inner.ReplayThrough(partitionId);

    /// <summary>Gets the processor that holds the windows.</summary>
    private protected WindowProcessor<TInner, TKey, TResult> Inner { get; } = inner;

    public sealed override void AnnouncePartitions(IEnumerable<string> partitionIds) => Inner.AnnouncePartitions(partitionIds);

    public sealed override PipelineCheckpoint CreateCheckpoint() => Inner.CreateCheckpoint();

    internal sealed override PipelineCheckpoint CreateCheckpoint(byte[]? tail) => Inner.CreateCheckpoint(tail);

    internal sealed override byte[]? RestoreTail(PipelineCheckpoint checkpoint) => Inner.RestoreTail(checkpoint);

    internal sealed override void UseStateSnapshots(bool enabled) => Inner.UseStateSnapshots(enabled);

    internal sealed override void UseIdleClock(IdleClock clock) => Inner.UseIdleClock(clock);
}
