namespace Analytics.Streaming;

/// <summary>
/// The synchronous engine of a pipeline: the operators in front of the windows, event time and watermarks, key,
/// window, aggregate (and any windows fed by windows), and the checkpoints that let it resume. One instance keeps the
/// state of one pipeline run; it is not thread-safe (one caller at a time). Pipelines drive it from their processing
/// stage; Lambda handlers and tests call it directly.
/// </summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TKey">The key type of the results.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <remarks>
/// <para>
/// The watermark advances between batches, never inside one: a record is late when every window it belongs to was
/// purged before its batch started (window end plus allowed lateness at or before the watermark).
/// </para>
/// <para>
/// <b>Driving it yourself.</b> Call <see cref="Process"/> per batch and deliver what it hands to the output. To get
/// the guarantee <c>RunAsync</c> gives, call <see cref="CreateCheckpoint()"/> between batches, make everything the
/// output received so far durable, and only then persist the checkpoint; after a restart, create the engine from
/// that checkpoint (<c>pipeline.CreateProcessor(checkpoint)</c>) and feed it the records after each partition's
/// <see cref="PartitionCheckpoint.ResumeAfter"/>. Records read again up to the checkpoint are recognised as replays.
/// </para>
/// </remarks>
public abstract class WindowProcessor<TSource, TKey, TResult>
{
    private protected WindowProcessor()
    {
    }

    /// <summary>Gets the current watermark; <see cref="DateTimeOffset.MinValue"/> before any event.</summary>
    public DateTimeOffset Watermark => TimeMath.ToTime(WatermarkTicks);

    /// <summary>Gets the number of keyed window states (slices or sessions) held in memory, over every window stage.</summary>
    public abstract long OpenWindowCount { get; }

    /// <summary>Gets a value indicating whether checkpoints include the open windows (otherwise a restore rebuilds them from replayed records).</summary>
    public abstract bool SnapshotsWindowState { get; }

    /// <summary>Gets the id of the last checkpoint created or restored; 0 before any.</summary>
    public abstract long LastCheckpointId { get; }

    internal abstract long WatermarkTicks { get; }

    /// <summary>Gets a value indicating whether the window state can be saved (codecs for the keys and the accumulators of every stage).</summary>
    internal abstract bool CanSnapshotState { get; }

    /// <summary>Gets the <see cref="ProfileSlots">profile slot</see> this processor's per-record code runs in; 0 when it has none of its own.</summary>
    internal virtual int ProfileSlot => 0;

    /// <summary>
    /// Gets the number of dead letters made of window results since this processor was created (results whose key or
    /// filter failed in a stage fed by windows or that its aggregator threw on before, whose <c>Where</c> after the last
    /// stage threw, or whose value the aggregator could not compute). They are not source records, so no receipt
    /// counts them.
    /// </summary>
    internal virtual long ResultDeadLetters => 0;

    /// <summary>
    /// Hands the processor what its pipeline has set aside, for a window stage fed by windows to send the results its
    /// aggregator threw on to the dead letters; a processor with no such stage ignores it.
    /// </summary>
    /// <param name="setAside">The pipeline's records and results set aside.</param>
    /// <returns>The number of window stages fed by windows in this processor (each numbers its results' ids with its place).</returns>
    internal virtual int UseSetAside(SetAsideRecords setAside) => 0;

    /// <summary>
    /// Gets the position through which a restored partition's records are replays (covered by the restored checkpoint),
    /// or <see langword="null"/> when the partition has none to come.
    /// </summary>
    /// <param name="partitionId">The partition.</param>
    /// <returns>The last replayed position.</returns>
    internal abstract StreamPosition? ReplayThrough(string partitionId);

    /// <summary>Processes one batch: runs the operators, assigns the records to windows, then advances the watermark and emits.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="output">Receives results, late records and dead letters.</param>
    /// <returns>What happened to the batch's records and how many results were emitted.</returns>
    public abstract BatchReceipt Process(RecordBatch<TSource> batch, IWindowOutput<TSource, TKey, TResult> output);

    /// <summary>
    /// Lets processing time pass: re-evaluates idle partitions (event time) or moves the watermark to now
    /// (processing time), closing the windows that ended.
    /// </summary>
    /// <param name="output">Receives the results.</param>
    /// <returns>The number of results emitted.</returns>
    public abstract int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output);

    /// <summary>Moves the watermark forward to <paramref name="watermark"/> (never back) and closes the windows that ended.</summary>
    /// <param name="watermark">The new watermark.</param>
    /// <param name="output">Receives the results.</param>
    /// <returns>The number of results emitted.</returns>
    public abstract int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output);

    /// <summary>Ends the input: closes and emits every open window (the watermark moves to the end of time).</summary>
    /// <param name="output">Receives the results.</param>
    /// <returns>The number of results emitted.</returns>
    public abstract int Complete(IWindowOutput<TSource, TKey, TResult> output);

    /// <summary>
    /// Registers partitions the source will read before they deliver: each holds the watermark back until it delivers
    /// or stays idle for the idle timeout. Known partitions are ignored.
    /// </summary>
    /// <param name="partitionIds">The partitions.</param>
    public abstract void AnnouncePartitions(IEnumerable<string> partitionIds);

    /// <summary>
    /// Takes a checkpoint of everything processed so far (call it between batches). Persist it only after every
    /// result, late record and dead letter the output received before the call is durable.
    /// </summary>
    /// <returns>The checkpoint; its id is one more than the previous one.</returns>
    public abstract PipelineCheckpoint CreateCheckpoint();

    /// <summary>Chooses whether checkpoints carry the window state; called once when the engine is created.</summary>
    internal abstract void UseStateSnapshots(bool enabled);

    /// <summary>Runs the partitions' idle time on the pipeline's reading time; called once, before the first batch.</summary>
    internal abstract void UseIdleClock(IdleClock clock);

    /// <summary>Continues from a checkpoint; called before the first batch.</summary>
    internal void Restore(PipelineCheckpoint checkpoint)
    {
        if (RestoreTail(checkpoint) is not null)
        {
            throw new InvalidOperationException(
                $"Checkpoint {checkpoint.Id} of pipeline '{checkpoint.PipelineName}' holds windows fed by windows that this pipeline does not have; give the changed pipeline a new name (or delete its checkpoint) to start over.");
        }
    }

    /// <summary>Takes a checkpoint whose downstream part is <paramref name="tail"/> (the checkpoint of the stages fed by this processor's results).</summary>
    internal abstract PipelineCheckpoint CreateCheckpoint(byte[]? tail);

    /// <summary>Restores this processor's stages and returns the checkpoint bytes of the stages after them (<see langword="null"/> when there are none).</summary>
    internal abstract byte[]? RestoreTail(PipelineCheckpoint checkpoint);
}
