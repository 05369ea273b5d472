using System.Buffers;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>
/// The synchronous windowing engine of a pipeline: event time and watermarks, key, window, aggregate, and the
/// checkpoints that let it resume. One instance keeps the state of one pipeline run; it is not thread-safe (one
/// caller at a time). Pipelines drive it from their processing stage; Lambda handlers and tests call it directly.
/// </summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <remarks>
/// <para>
/// The watermark advances between batches, never inside one: a record is late when every window it belongs to was
/// purged before its batch started (window end plus allowed lateness at or before the watermark).
/// </para>
/// <para>
/// <b>Driving it yourself.</b> Call <see cref="Process"/> per batch and deliver what it hands to the output. To get
/// the guarantee <c>RunAsync</c> gives, call <see cref="CreateCheckpoint"/> between batches, make everything the
/// output received so far durable, and only then persist the checkpoint; after a restart, create the engine from
/// that checkpoint (<c>pipeline.CreateProcessor(checkpoint)</c>) and feed it the records after each partition's
/// <see cref="PartitionCheckpoint.ResumeAfter"/>. Records read again up to the checkpoint are recognised as replays.
/// </para>
/// </remarks>
public abstract class WindowProcessor<TEvent, TKey, TResult>
{
    private readonly WatermarkTracker _watermarks;
    private readonly Dictionary<string, PartitionProgress> _progress = new(StringComparer.Ordinal);
    private long _checkpointId;
    private bool _rebuildFromReplays;
    private int _resultsEmitted;

    private protected WindowProcessor(ProcessorSettings<TEvent, TKey> settings)
    {
        Settings = settings;
        _watermarks = new WatermarkTracker(settings.OutOfOrdernessTicks, settings.IdleTimeoutTicks);
    }

    /// <summary>Gets the current watermark; <see cref="DateTimeOffset.MinValue"/> before any event.</summary>
    public DateTimeOffset Watermark => TimeMath.ToTime(WatermarkTicks);

    /// <summary>Gets the number of keyed window states (slices or sessions) held in memory.</summary>
    public abstract long OpenWindowCount { get; }

    /// <summary>Gets a value indicating whether checkpoints include the open windows (otherwise a restore rebuilds them from replayed records).</summary>
    public bool SnapshotsWindowState { get; private set; }

    /// <summary>Gets the id of the last checkpoint created or restored; 0 before any.</summary>
    public long LastCheckpointId => _checkpointId;

    internal ProcessorSettings<TEvent, TKey> Settings { get; }

    internal long WatermarkTicks => _watermarks.Current;

    /// <summary>Gets the clock reading of the restored checkpoint: replayed records are checked against it, as they were before it.</summary>
    private protected long ReplayClockTicks { get; private set; }

    /// <summary>Gets a value indicating whether the window state can be saved (codecs for the key and the accumulators).</summary>
    internal abstract bool CanSnapshotState { get; }

    /// <summary>Gets what saved state depends on: a checkpoint taken with another value is refused.</summary>
    private protected abstract string StateFingerprint { get; }

    /// <summary>
    /// Gets the event-time frontier: every accepted event earlier than this has contributed only to windows that are
    /// emitted and purged (final).
    /// </summary>
    private protected abstract long DoneBeforeTicks { get; }

    /// <summary>Processes one batch: assigns its records to windows, then advances the watermark and emits.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="output">Receives results, late records and dead letters.</param>
    /// <returns>What happened to the batch's records and how many results were emitted.</returns>
    public BatchReceipt Process(RecordBatch<TEvent> batch, IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        _resultsEmitted = 0;
        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        var progress = GetProgress(batch.PartitionId);
        int replays = CountReplays(batch, progress, out int replayedDeadLetters);
        int newDeadLetters = 0;
        foreach (var deadLetter in batch.DeadLetters)
        {
            if (replayedDeadLetters > 0 && deadLetter.Position.CompareTo(progress.ReplayThrough!.Value) <= 0)
            {
                continue;
            }

            output.OnDeadLetter(deadLetter);
            newDeadLetters++;
        }

        long rebuiltMax = long.MinValue;
        if (replays > 0 && _rebuildFromReplays)
        {
            rebuiltMax = Settings.EventTimeUnixMilliseconds is { } ms ? Rebuild(batch, new UnixMillisecondsTimeReader<TEvent>(ms), replays)
                : Rebuild(batch, new OffsetTimeReader<TEvent>(Settings.EventTime!), replays);
        }

        var counts = Settings.EventTimeUnixMilliseconds is { } unixMilliseconds ? Assign(batch, new UnixMillisecondsTimeReader<TEvent>(unixMilliseconds), now, output, replays)
            : Settings.EventTime is { } offset ? Assign(batch, new OffsetTimeReader<TEvent>(offset), now, output, replays)
            : Assign(batch, new ProcessingTimeReader<TEvent>(now), now, output, replays);
        Track(batch, progress, Math.Max(counts.MaxEventTicks, rebuiltMax));
        EmitDirty(output);
        bool hasNew = batch.Records.Length > replays || newDeadLetters > 0;
        if (Settings.IsProcessingTime)
        {
            AdvanceTo(now, output);
        }
        else if (hasNew || replays + replayedDeadLetters == 0)
        {
            // A batch of replays only leaves the partition's restored progress alone; any other batch (even an empty
            // one) registers the partition, and new records make it active again, late or dead letters included.
            long before = _watermarks.Current;
            _watermarks.OnBatch(batch.PartitionId, counts.MaxEventTicks, hasNew, now, batch.IsEndOfPartition);
            OnWatermark(before, _watermarks.Current, output);
        }

        return new BatchReceipt(
            batch.PartitionId,
            batch.EndPosition,
            counts.Accepted,
            counts.Late,
            newDeadLetters + counts.DeadLetters,
            replays + replayedDeadLetters,
            _resultsEmitted);
    }

    /// <summary>
    /// Lets processing time pass: re-evaluates idle partitions (event time) or moves the watermark to now
    /// (processing time), closing the windows that ended.
    /// </summary>
    /// <param name="output">Receives the results.</param>
    /// <returns>The number of results emitted.</returns>
    public int AdvanceTime(IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _resultsEmitted = 0;
        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        if (Settings.IsProcessingTime)
        {
            AdvanceTo(now, output);
        }
        else
        {
            long before = _watermarks.Current;
            _watermarks.OnTick(now);
            OnWatermark(before, _watermarks.Current, output);
        }

        return _resultsEmitted;
    }

    /// <summary>Moves the watermark forward to <paramref name="watermark"/> (never back) and closes the windows that ended.</summary>
    /// <param name="watermark">The new watermark.</param>
    /// <param name="output">Receives the results.</param>
    /// <returns>The number of results emitted.</returns>
    public int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _resultsEmitted = 0;
        AdvanceTo(watermark.UtcTicks, output);
        return _resultsEmitted;
    }

    /// <summary>Ends the input: closes and emits every open window (the watermark moves to the end of time).</summary>
    /// <param name="output">Receives the results.</param>
    /// <returns>The number of results emitted.</returns>
    public int Complete(IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _resultsEmitted = 0;
        AdvanceTo(long.MaxValue, output);
        return _resultsEmitted;
    }

    /// <summary>
    /// Registers partitions the source will read before they deliver: each holds the watermark back until it delivers
    /// or stays idle for the idle timeout. Known partitions are ignored.
    /// </summary>
    /// <param name="partitionIds">The partitions.</param>
    public void AnnouncePartitions(IEnumerable<string> partitionIds)
    {
        ArgumentNullException.ThrowIfNull(partitionIds);
        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        foreach (string id in partitionIds)
        {
            ArgumentException.ThrowIfNullOrEmpty(id, nameof(partitionIds));
            _watermarks.Announce(id, now);
        }
    }

    /// <summary>
    /// Takes a checkpoint of everything processed so far (call it between batches). Persist it only after every
    /// result, late record and dead letter the output received before the call is durable.
    /// </summary>
    /// <returns>The checkpoint; its id is one more than the previous one.</returns>
    public PipelineCheckpoint CreateCheckpoint()
    {
        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        long frontier = SnapshotsWindowState ? long.MaxValue : DoneBeforeTicks;
        var partitions = new List<PartitionCheckpoint>(_watermarks.Partitions.Count);
        foreach (var (id, clock) in _watermarks.Partitions)
        {
            _progress.TryGetValue(id, out var progress);
            bool ended = progress?.Ended ?? clock.Ended;
            StreamPosition? resumeAfter;
            bool finished;
            if (progress is null)
            {
                resumeAfter = null;
                finished = false;
            }
            else if (SnapshotsWindowState)
            {
                resumeAfter = progress.ProcessedThrough;
                finished = ended;
            }
            else
            {
                progress.TakeSafe(frontier);
                resumeAfter = progress.ResumeAfter;
                finished = progress.Finished;
            }

            partitions.Add(new PartitionCheckpoint(id, resumeAfter, progress?.ProcessedThrough, ended, finished, clock.MaxEventTicks, WatermarkTracker.IdleFor(clock, now)));
        }

        partitions.Sort(static (a, b) => string.CompareOrdinal(a.PartitionId, b.PartitionId));
        byte[]? state = null;
        if (SnapshotsWindowState)
        {
            using var buffer = new ChunkedBufferWriter();
            WriteState(buffer);
            state = buffer.ToArray();
        }

        return new PipelineCheckpoint(Settings.PipelineName, ++_checkpointId, TimeMath.ToTime(now), WatermarkTicks, StateFingerprint, partitions, state);
    }

    /// <summary>Chooses whether checkpoints carry the window state; called once when the engine is created.</summary>
    internal void UseStateSnapshots(bool enabled) => SnapshotsWindowState = enabled;

    /// <summary>Continues from a checkpoint; called before the first batch.</summary>
    internal void Restore(PipelineCheckpoint checkpoint)
    {
        if (!string.Equals(checkpoint.PipelineName, Settings.PipelineName, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Checkpoint {checkpoint.Id} belongs to pipeline '{checkpoint.PipelineName}', not '{Settings.PipelineName}'.", nameof(checkpoint));
        }

        if (!string.Equals(checkpoint.Fingerprint, StateFingerprint, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"Checkpoint {checkpoint.Id} of pipeline '{Settings.PipelineName}' was taken with different windows ({checkpoint.Fingerprint}); this pipeline has {StateFingerprint}. " +
                "Restoring it would mix windows of both definitions: keep the old definition until its windows are final, or give the changed pipeline a new name (or delete its checkpoint) to start over.");
        }

        if (!checkpoint.HasWindowState && Settings.IsProcessingTime && checkpoint.WatermarkTicks != long.MaxValue)
        {
            throw new InvalidOperationException($"Checkpoint {checkpoint.Id} has no window state, which a processing-time pipeline cannot rebuild (replayed records get new times).");
        }

        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        _checkpointId = checkpoint.Id;
        ReplayClockTicks = checkpoint.CreatedAt.UtcTicks;
        _watermarks.RestoreWatermark(checkpoint.WatermarkTicks);
        foreach (var partition in checkpoint.Partitions)
        {
            _watermarks.Restore(partition.PartitionId, partition.MaxEventTicks, partition.IsEnded, partition.IdleTicks, now);
            _progress[partition.PartitionId] = new PartitionProgress
            {
                ProcessedThrough = partition.ProcessedThrough,
                ReplayThrough = partition.ProcessedThrough,
                ResumeAfter = partition.ResumeAfter,
                Ended = partition.IsEnded,
                Finished = partition.IsFinished,
            };
        }

        if (checkpoint.HasWindowState)
        {
            var state = checkpoint.WindowState;
            try
            {
                ReadState(ref state);
                if (!state.IsEmpty)
                {
                    throw new FormatException($"{state.Length} bytes follow the last window.");
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                throw new InvalidDataException($"The window state of checkpoint {checkpoint.Id} cannot be read: {ex.Message}", ex);
            }
        }
        else
        {
            _rebuildFromReplays = true;
        }
    }

    private protected abstract AssignCounts Assign<TTimeReader>(RecordBatch<TEvent> batch, TTimeReader time, long nowTicks, IWindowOutput<TEvent, TKey, TResult> output, int firstNew)
        where TTimeReader : struct, ITimeReader<TEvent>;

    /// <summary>Adds the replayed records <c>[0, count)</c> of a batch that belong to windows that are not final, without emitting; returns their largest event time.</summary>
    private protected abstract long Rebuild<TTimeReader>(RecordBatch<TEvent> batch, TTimeReader time, int count)
        where TTimeReader : struct, ITimeReader<TEvent>;

    private protected abstract void EmitDirty(IWindowOutput<TEvent, TKey, TResult> output);

    private protected abstract void OnWatermark(long before, long after, IWindowOutput<TEvent, TKey, TResult> output);

    private protected abstract void WriteState(IBufferWriter<byte> destination);

    private protected abstract void ReadState(ref ReadOnlySpan<byte> source);

    /// <summary>Hands a result to the output and counts it for the receipt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void Emit(IWindowOutput<TEvent, TKey, TResult> output, in WindowResult<TKey, TResult> result)
    {
        _resultsEmitted++;
        output.OnResult(result);
    }

    /// <summary>Whether an event time is inside the supported range and not too far ahead of the clock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected bool IsValidTime(long eventTicks, long nowTicks)
        => (ulong)(eventTicks - TimeMath.MinEventTicks) < (ulong)(TimeMath.MaxEventTicks - TimeMath.MinEventTicks)
           && (Settings.MaxAheadTicks == 0 || eventTicks - nowTicks <= Settings.MaxAheadTicks);

    private protected void RejectTime(RecordBatch<TEvent> batch, in StreamRecord<TEvent> record, long eventTicks, long nowTicks, IWindowOutput<TEvent, TKey, TResult> output)
    {
        var position = new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence);
        string message = eventTicks == TimeMath.UnixEpochTicks
            ? "Event time is exactly the Unix epoch (1970-01-01T00:00:00Z), which almost always means the time field is missing or zero."
            : eventTicks < TimeMath.MinEventTicks || eventTicks >= TimeMath.MaxEventTicks
            ? $"Event time {TimeMath.ToTime(eventTicks):O} is outside the supported range (1970-01-01T00:00:00Z, {TimeMath.ToTime(TimeMath.MaxEventTicks):O})."
            : $"Event time {TimeMath.ToTime(eventTicks):O} is more than {TimeSpan.FromTicks(Settings.MaxAheadTicks)} ahead of the clock ({TimeMath.ToTime(nowTicks):O}); raise MaxEventTimeAhead if such events are expected.";
        output.OnDeadLetter(new DeadLetter(position, DeadLetterReason.InvalidEventTime, message));
    }

    private protected static void RejectKey(RecordBatch<TEvent> batch, in StreamRecord<TEvent> record, IWindowOutput<TEvent, TKey, TResult> output)
        => output.OnDeadLetter(new DeadLetter(
            new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence),
            DeadLetterReason.NullKey,
            "The key selector returned null for this record."));

    private protected void EmitLate(RecordBatch<TEvent> batch, in StreamRecord<TEvent> record, long eventTicks, IWindowOutput<TEvent, TKey, TResult> output)
        => output.OnLateRecord(new LateRecord<TEvent>(
            record.Value,
            new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence),
            TimeMath.ToTime(eventTicks),
            TimeMath.ToTime(_watermarks.Current)));

    /// <summary>How many leading records of the batch (and how many of its dead letters) are at or before the partition's restored cut.</summary>
    private static int CountReplays(RecordBatch<TEvent> batch, PartitionProgress progress, out int deadLetters)
    {
        deadLetters = 0;
        if (progress.ReplayThrough is not { } cut)
        {
            return 0;
        }

        foreach (var deadLetter in batch.DeadLetters)
        {
            if (deadLetter.Position.CompareTo(cut) <= 0)
            {
                deadLetters++;
            }
        }

        var records = batch.Records.Span;
        if (batch.EndPosition is { } end && end.CompareTo(cut) <= 0)
        {
            return records.Length;
        }

        int replays = 0;
        while (replays < records.Length && new StreamPosition(batch.PartitionId, records[replays].Sequence, records[replays].SubSequence).CompareTo(cut) <= 0)
        {
            replays++;
        }

        // Positions only grow within a partition: once a batch goes past the cut, no later batch can hold a replay.
        if (batch.EndPosition is not null)
        {
            progress.ReplayThrough = null;
        }

        return replays;
    }

    private PartitionProgress GetProgress(string partitionId)
    {
        if (!_progress.TryGetValue(partitionId, out var progress))
        {
            progress = new PartitionProgress();
            _progress.Add(partitionId, progress);
        }

        return progress;
    }

    private void Track(RecordBatch<TEvent> batch, PartitionProgress progress, long maxEventTicks)
    {
        if (batch.EndPosition is { } end && (progress.ProcessedThrough is not { } processed || end.CompareTo(processed) > 0))
        {
            progress.ProcessedThrough = end;
        }

        progress.Ended |= batch.IsEndOfPartition;
        if (!SnapshotsWindowState && !progress.Finished)
        {
            (progress.Pending ??= new()).Enqueue(new PendingBatch(batch.EndPosition, maxEventTicks, batch.IsEndOfPartition));
        }
    }

    private void AdvanceTo(long watermark, IWindowOutput<TEvent, TKey, TResult> output)
    {
        long before = _watermarks.Current;
        _watermarks.AdvanceTo(watermark);
        OnWatermark(before, _watermarks.Current, output);
    }

    private protected readonly record struct AssignCounts(int Accepted, int Late, int DeadLetters, long MaxEventTicks);

    private readonly record struct PendingBatch(StreamPosition? EndPosition, long MaxEventTicks, bool IsEnd);

    /// <summary>Where a partition stands: what was processed, what a restore must treat as replays, and (without window state) the safe position to resume after.</summary>
    private sealed class PartitionProgress
    {
        public StreamPosition? ProcessedThrough;
        public StreamPosition? ReplayThrough;
        public StreamPosition? ResumeAfter;
        public bool Ended;
        public bool Finished;
        public Queue<PendingBatch>? Pending;

        /// <summary>Moves the resume position past every batch whose windows are all final (its events are earlier than the frontier).</summary>
        public void TakeSafe(long frontier)
        {
            while (Pending is { Count: > 0 } && (Pending.Peek().MaxEventTicks == long.MinValue || Pending.Peek().MaxEventTicks < frontier))
            {
                var batch = Pending.Dequeue();
                if (batch.EndPosition is { } end && (ResumeAfter is not { } resume || end.CompareTo(resume) > 0))
                {
                    ResumeAfter = end;
                }

                Finished |= batch.IsEnd;
            }
        }
    }
}

/// <summary>What a <see cref="WindowProcessor{TEvent, TKey, TResult}"/> did with one batch.</summary>
/// <param name="PartitionId">The batch's partition.</param>
/// <param name="EndPosition">The batch's end position.</param>
/// <param name="Accepted">Records added to windows.</param>
/// <param name="Late">Records sent to the late output.</param>
/// <param name="DeadLetters">Records sent to the dead letters (including those the batch carried).</param>
/// <param name="Replayed">
/// Records read again after a restore that the restored checkpoint already covers: their results, late records and
/// dead letters were delivered before it, so they are not emitted again (without window state they rebuild the open windows).
/// </param>
/// <param name="ResultsEmitted">Window results emitted while processing the batch (including windows its watermark closed).</param>
/// <remarks>Every record is counted once: <c>Accepted + Late + DeadLetters + Replayed</c> is the batch's size.</remarks>
public readonly record struct BatchReceipt(string PartitionId, StreamPosition? EndPosition, int Accepted, int Late, int DeadLetters, int Replayed, int ResultsEmitted)
{
    /// <summary>Gets the number of records in the batch (dead letters included).</summary>
    public int Records => Accepted + Late + DeadLetters + Replayed;
}
