using System.Buffers;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>
/// One window stage: operators (the <typeparamref name="TSource"/> to event chain of the derived engine), event time
/// and watermarks per source partition, replay recognition, checkpoints; the derived engines (slicing, sessions) keep
/// the windows.
/// </summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
internal abstract class WindowEngine<TSource, TKey, TResult> : WindowProcessor<TSource, TKey, TResult>
{
    private readonly WatermarkTracker _watermarks;
    private readonly Dictionary<string, PartitionProgress> _progress = new(StringComparer.Ordinal);
    private long _checkpointId;
    private bool _snapshotState;
    private bool _rebuildFromReplays;
    private int _resultsEmitted;
    private long _resultDeadLetters;
    private AssignTally _tally;
    private IdleClock? _idleClock;

    private protected WindowEngine(ProcessorSettings<TSource, TKey> settings)
    {
        Settings = settings;
        _watermarks = new WatermarkTracker(settings.OutOfOrdernessTicks, settings.IdleTimeoutTicks);
    }

    public override bool SnapshotsWindowState => _snapshotState;

    public override long LastCheckpointId => _checkpointId;

    internal ProcessorSettings<TSource, TKey> Settings { get; }

    internal override int ProfileSlot => Settings.ProfileSlot;

    internal override long WatermarkTicks => _watermarks.Current;

    internal override long ResultDeadLetters => _resultDeadLetters;

    /// <summary>Gets what the running loop over a batch's records has done so far: the record it is on, and its counts (see <see cref="RejectFailure"/>).</summary>
    private protected ref AssignTally Tally => ref _tally;

    /// <summary>Gets the clock reading of the restored checkpoint: replayed records are checked against it, as they were before it.</summary>
    private protected long ReplayClockTicks { get; private set; }

    /// <summary>Gets what saved state depends on: a checkpoint taken with another value is refused.</summary>
    private protected abstract string StateFingerprint { get; }

    /// <summary>
    /// Gets the event-time frontier: every accepted event earlier than this has contributed only to windows that are
    /// emitted and purged (final).
    /// </summary>
    private protected abstract long DoneBeforeTicks { get; }

    public override BatchReceipt Process(RecordBatch<TSource> batch, IWindowOutput<TSource, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        _resultsEmitted = 0;
        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        var progress = GetProgress(batch.PartitionId);
        var cut = progress.ReplayThrough;
        int replays = CountReplays(batch, progress, out int replayedDeadLetters);
        int newDeadLetters = 0;
        foreach (var deadLetter in batch.DeadLetters)
        {
            // The cut as restored: counting the replays forgets it once the batch goes past it.
            if (replayedDeadLetters > 0 && deadLetter.Position.CompareTo(cut!.Value) <= 0)
            {
                continue;
            }

            output.OnDeadLetter(deadLetter);
            newDeadLetters++;
        }

        long rebuiltMax = replays > 0 && _rebuildFromReplays ? Rebuild(batch, replays) : long.MinValue;
        var counts = Assign(batch, now, output, replays);
        Track(batch, progress, Math.Max(counts.MaxEventTicks, rebuiltMax));
        EmitDirty(output);
        bool hasNew = batch.Records.Length > replays || newDeadLetters > 0;
        bool replayDone = cut is { } restored && (batch.IsEndOfPartition || batch.EndPosition?.CompareTo(restored) >= 0);
        if (replayDone)
        {
            // Every record the checkpoint covered is back: the partition's hold ends (recomputed below, by the batch or the tick).
            _watermarks.Release(batch.PartitionId);
        }

        if (Settings.IsProcessingTime)
        {
            AdvanceTo(now, output);
        }
        else if (hasNew || replays + replayedDeadLetters == 0)
        {
            // Any batch that is not only replays (even an empty one) registers the partition. New records make it
            // active again, late or dead letters included, and so does a batch read further behind the partition's
            // newest record than the idle timeout, even an empty one: its records may still be coming.
            long before = _watermarks.Current;
            bool active = hasNew || batch.BehindLatest?.Ticks > Settings.IdleTimeoutTicks;
            _watermarks.OnBatch(batch.PartitionId, counts.MaxEventTicks, active, IdleTime(now), batch.IsEndOfPartition);
            OnWatermark(before, _watermarks.Current, output);
        }
        else
        {
            // Only replays: the partition's restored progress stands, and the replay's duration is not idleness.
            long before = _watermarks.Current;
            _watermarks.OnReplay(batch.PartitionId, IdleTime(now));
            if (replayDone)
            {
                _watermarks.OnTick(IdleTime(now));
                OnWatermark(before, _watermarks.Current, output);
            }
        }

        return new BatchReceipt(
            batch.PartitionId,
            batch.EndPosition,
            batch.Records.Length - replays - counts.Late - counts.DeadLetters - counts.Filtered,
            counts.Late,
            newDeadLetters + counts.DeadLetters,
            replays + replayedDeadLetters,
            _resultsEmitted)
        {
            Filtered = counts.Filtered,
        };
    }

    public override int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output)
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
            _watermarks.OnTick(IdleTime(now));
            OnWatermark(before, _watermarks.Current, output);
        }

        return _resultsEmitted;
    }

    public override int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _resultsEmitted = 0;
        AdvanceTo(watermark.UtcTicks, output);
        return _resultsEmitted;
    }

    public override int Complete(IWindowOutput<TSource, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _resultsEmitted = 0;
        AdvanceTo(long.MaxValue, output);
        return _resultsEmitted;
    }

    public override void AnnouncePartitions(IEnumerable<string> partitionIds)
    {
        ArgumentNullException.ThrowIfNull(partitionIds);
        long idleNow = IdleTime(Settings.TimeProvider.GetUtcNow().UtcTicks);
        foreach (string id in partitionIds)
        {
            ArgumentException.ThrowIfNullOrEmpty(id, nameof(partitionIds));
            _watermarks.Announce(id, idleNow);
        }
    }

    public override PipelineCheckpoint CreateCheckpoint() => CreateCheckpoint(null);

    internal override PipelineCheckpoint CreateCheckpoint(byte[]? tail)
    {
        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        long idleNow = IdleTime(now);
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

            partitions.Add(new PartitionCheckpoint(id, resumeAfter, progress?.ProcessedThrough, ended, finished, clock.MaxEventTicks, WatermarkTracker.IdleFor(clock, idleNow)));
        }

        partitions.Sort(static (a, b) => string.CompareOrdinal(a.PartitionId, b.PartitionId));
        byte[]? state = null;
        if (SnapshotsWindowState)
        {
            using var buffer = new ChunkedBufferWriter();
            WriteState(buffer);
            state = buffer.ToArray();
        }

        return new PipelineCheckpoint(Settings.CheckpointName, ++_checkpointId, TimeMath.ToTime(now), WatermarkTicks, StateFingerprint, partitions, state, tail);
    }

    internal override void UseStateSnapshots(bool enabled) => _snapshotState = enabled;

    internal override void UseIdleClock(IdleClock clock) => _idleClock = clock;

    internal override byte[]? RestoreTail(PipelineCheckpoint checkpoint)
    {
        if (!string.Equals(checkpoint.PipelineName, Settings.CheckpointName, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Checkpoint {checkpoint.Id} belongs to '{checkpoint.PipelineName}', not '{Settings.CheckpointName}'.", nameof(checkpoint));
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
            _watermarks.Restore(partition.PartitionId, partition.MaxEventTicks, partition.IsEnded, partition.IdleTicks, IdleTime(now));
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
            // The open windows are rebuilt from the replays: each partition with records to replay holds the watermark
            // at the checkpoint's until its replay is done, or another partition's new records could close a window
            // before this one's replayed records are back in it.
            _rebuildFromReplays = true;
            foreach (var partition in checkpoint.Partitions)
            {
                if (partition.ProcessedThrough is { } processed && (partition.ResumeAfter is not { } resume || resume.CompareTo(processed) < 0))
                {
                    _watermarks.Hold(partition.PartitionId, checkpoint.WatermarkTicks, IdleTime(now));
                }
            }
        }

        return checkpoint.Downstream;
    }

    /// <summary>
    /// The time on the partitions' idle clocks: in a pipeline, the reading time of what is being processed (see
    /// <see cref="Analytics.Streaming.IdleClock"/>); the processing time for an engine driven directly, and for a
    /// pipeline's restore, before anything was read.
    /// </summary>
    private long IdleTime(long nowTicks) => _idleClock?.ReadTime ?? nowTicks;

    /// <summary>
    /// Runs <see cref="Assign{TSlot}"/> over the batch's new records, in the code of the stage's
    /// <see cref="ProfileSlots">profile slot</see>, and sends the records whose operators or selectors throw to the dead
    /// letters (see <see cref="RejectFailure"/>).
    /// </summary>
    private AssignTally Assign(RecordBatch<TSource> batch, long nowTicks, IWindowOutput<TSource, TKey, TResult> output, int firstNew)
    {
        _tally = new AssignTally { Cursor = -1, MaxEventTicks = long.MinValue };
        int start = firstNew;
        while (true)
        {
            try
            {
                AssignInSlot(batch, nowTicks, output, start);
                break;
            }
            catch (Exception ex)
            {
                // Not thrown by a record's operators when the loop had not reached a record since it was (re)started.
                int failed = _tally.Cursor;
                if (failed < start)
                {
                    throw;
                }

                if (!ThrowsOn(batch.Records.Span[failed], nowTicks))
                {
                    ThrowIfAggregatorFailed(batch, failed, nowTicks, ex);
                    throw;
                }

                Recount(batch, start, failed, nowTicks);
                RejectFailure(batch, batch.Records.Span[failed], ex, output);
                _tally.DeadLetters++;
                start = failed + 1;
            }
        }

        return _tally;
    }

    private void AssignInSlot(RecordBatch<TSource> batch, long nowTicks, IWindowOutput<TSource, TKey, TResult> output, int start)
    {
        // Without dynamic code every stage has slot 0: the other instantiations are left out of the native image.
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            Assign<ProfileSlots.Slot0>(batch, nowTicks, output, start);
            return;
        }

        switch (Settings.ProfileSlot)
        {
            case 1: Assign<ProfileSlots.Slot1>(batch, nowTicks, output, start); break;
            case 2: Assign<ProfileSlots.Slot2>(batch, nowTicks, output, start); break;
            case 3: Assign<ProfileSlots.Slot3>(batch, nowTicks, output, start); break;
            default: Assign<ProfileSlots.Slot0>(batch, nowTicks, output, start); break;
        }
    }

    /// <summary>
    /// Runs <see cref="Rebuild{TSlot}"/> in the code of the stage's profile slot; a replayed record whose operators or
    /// selectors throw was a dead letter before the checkpoint too, and is passed over.
    /// </summary>
    private long Rebuild(RecordBatch<TSource> batch, int count)
    {
        _tally = new AssignTally { Cursor = -1, MaxEventTicks = long.MinValue };
        int start = 0;
        while (true)
        {
            try
            {
                RebuildInSlot(batch, start, count);
                return _tally.MaxEventTicks;
            }
            catch (Exception ex)
            {
                int failed = _tally.Cursor;
                if (failed < start)
                {
                    throw;
                }

                if (!ThrowsOn(batch.Records.Span[failed], ReplayClockTicks))
                {
                    ThrowIfAggregatorFailed(batch, failed, ReplayClockTicks, ex);
                    throw;
                }

                start = failed + 1;
            }
        }
    }

    private void RebuildInSlot(RecordBatch<TSource> batch, int start, int count)
    {
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            Rebuild<ProfileSlots.Slot0>(batch, start, count);
            return;
        }

        switch (Settings.ProfileSlot)
        {
            case 1: Rebuild<ProfileSlots.Slot1>(batch, start, count); break;
            case 2: Rebuild<ProfileSlots.Slot2>(batch, start, count); break;
            case 3: Rebuild<ProfileSlots.Slot3>(batch, start, count); break;
            default: Rebuild<ProfileSlots.Slot0>(batch, start, count); break;
        }
    }

    /// <summary>
    /// Runs the operators on records <c>[start, end)</c> of the batch and adds the events to windows (late ones to the
    /// late output), counting in <see cref="Tally"/>: the index of each record before its operators run, and the late,
    /// dead-letter and filtered records and the largest accepted event time (these at the end, from locals, when
    /// <see cref="Recount"/> can count them again).
    /// </summary>
    /// <typeparam name="TSlot">The profile slot: the per-record code is compiled once per slot (<see cref="ProfileSlots"/>).</typeparam>
    private protected abstract void Assign<TSlot>(RecordBatch<TSource> batch, long nowTicks, IWindowOutput<TSource, TKey, TResult> output, int start);

    /// <summary>
    /// Adds the replayed records <c>[start, count)</c> of a batch that belong to windows that are not final, without
    /// emitting, setting <see cref="AssignTally.Cursor"/> and <see cref="AssignTally.MaxEventTicks"/> in <see cref="Tally"/>.
    /// </summary>
    /// <typeparam name="TSlot">The profile slot.</typeparam>
    private protected abstract void Rebuild<TSlot>(RecordBatch<TSource> batch, int start, int count);

    /// <summary>
    /// After <see cref="Assign{TSlot}"/> stopped at an exception at record <paramref name="failed"/>: adds to
    /// <see cref="Tally"/> what it had counted in locals over <c>[start, failed)</c> (an engine that counts there directly has nothing to add).
    /// </summary>
    private protected virtual void Recount(RecordBatch<TSource> batch, int start, int failed, long nowTicks)
    {
    }

    /// <summary>Whether the operators and selectors throw on a record (run again after the loop caught an exception at it).</summary>
    private protected abstract bool ThrowsOn(in StreamRecord<TSource> record, long clockTicks);

    /// <summary>
    /// Whether the aggregator throws when it adds the record's event to an empty accumulator (run after the loop caught an
    /// exception at a record whose operators and selectors do not throw); <see langword="false"/> for an engine without one.
    /// </summary>
    private protected virtual bool AggregatorThrowsOn(in StreamRecord<TSource> record, long clockTicks) => false;

    /// <summary>
    /// After the loop caught <paramref name="exception"/> at record <paramref name="failed"/>, whose operators and
    /// selectors do not throw: when the aggregator throws on that record alone, the record is to blame, and
    /// <see cref="AggregationFailedException"/> names it so that the pipeline sets it aside when it reads it again.
    /// The windows may hold part of it already (the count of a <c>Count().And(Sum(...))</c>), so the batch cannot go on.
    /// </summary>
    private void ThrowIfAggregatorFailed(RecordBatch<TSource> batch, int failed, long clockTicks, Exception exception)
    {
        ref readonly var record = ref batch.Records.Span[failed];
        if (AggregatorThrowsOn(record, clockTicks))
        {
            throw new AggregationFailedException(new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence), exception);
        }
    }

    /// <summary>Whether <paramref name="aggregator"/> throws when it adds <paramref name="value"/> to an empty accumulator.</summary>
    private protected static bool AddThrows<TEvent, TAggregator, TAccumulator>(in TAggregator aggregator, in TEvent value)
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
    {
        var accumulator = aggregator.CreateAccumulator();
        try
        {
            aggregator.Add(ref accumulator, value);
            return false;
        }
#pragma warning disable CA1031 // Any exception answers the question; the loop's own exception is the one that propagates.
        catch (Exception)
#pragma warning restore CA1031
        {
            return true;
        }
    }

    /// <summary>
    /// Computes a window's value with <paramref name="aggregator"/>. When that throws (a custom aggregator's
    /// <c>GetResult</c>, a projection such as <c>a.Count().Select(...)</c>), the window gets a dead letter instead
    /// (<see cref="DeadLetterReason.AggregatorFailed"/>, its result id as the payload, counted in
    /// <see cref="ResultDeadLetters"/>) and the stream goes on: the failure depends on the window's state alone, so
    /// stopping would only meet it again after a restart.
    /// </summary>
    /// <returns>Whether <paramref name="value"/> holds the window's value.</returns>
    private protected bool TryGetResult<TEvent, TAggregator, TAccumulator>(
        in TAggregator aggregator, in TAccumulator accumulator, TKey key, TimeWindow window, IWindowOutput<TSource, TKey, TResult> output, out TResult value)
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
    {
        try
        {
            value = aggregator.GetResult(accumulator);
            return true;
        }
#pragma warning disable CA1031 // The window becomes a dead letter that names the exception; the stream goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _resultDeadLetters++;
            string id = new WindowResult<TKey, TResult>(Settings.PipelineName, key, window, default!) { Partition = Settings.Partition }.Id;
            output.OnDeadLetter(DeadLetter.ResultFailed(id, ex));
            value = default!;
            return false;
        }
    }

    private protected abstract void EmitDirty(IWindowOutput<TSource, TKey, TResult> output);

    private protected abstract void OnWatermark(long before, long after, IWindowOutput<TSource, TKey, TResult> output);

    private protected abstract void WriteState(IBufferWriter<byte> destination);

    private protected abstract void ReadState(ref ReadOnlySpan<byte> source);

    /// <summary>Hands a result to the output and counts it for the receipt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected void Emit(IWindowOutput<TSource, TKey, TResult> output, in WindowResult<TKey, TResult> result)
    {
        _resultsEmitted++;
        output.OnResult(result);
    }

    /// <summary>Whether an event time is inside the supported range and not too far ahead of the clock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsValidTime(long eventTicks, long nowTicks)
        => (ulong)(eventTicks - TimeMath.MinEventTicks) < (ulong)(TimeMath.MaxEventTicks - TimeMath.MinEventTicks)
           && (Settings.MaxAheadTicks == 0 || eventTicks - nowTicks <= Settings.MaxAheadTicks);

    internal void RejectTime(RecordBatch<TSource> batch, in StreamRecord<TSource> record, long eventTicks, long nowTicks, IWindowOutput<TSource, TKey, TResult> output)
    {
        var position = new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence);
        string message = eventTicks == TimeMath.UnixEpochTicks
            ? "Event time is exactly the Unix epoch (1970-01-01T00:00:00Z), which almost always means the time field is missing or zero."
            : eventTicks < TimeMath.MinEventTicks || eventTicks >= TimeMath.MaxEventTicks
            ? $"Event time {TimeMath.ToTime(eventTicks):O} is outside the supported range (1970-01-01T00:00:00Z, {TimeMath.ToTime(TimeMath.MaxEventTicks):O})."
            : $"Event time {TimeMath.ToTime(eventTicks):O} is more than {TimeSpan.FromTicks(Settings.MaxAheadTicks)} ahead of the clock ({TimeMath.ToTime(nowTicks):O}); raise MaxEventTimeAhead if such events are expected.";
        output.OnDeadLetter(new DeadLetter(position, DeadLetterReason.InvalidEventTime, message));
    }

    internal static void RejectKey(RecordBatch<TSource> batch, in StreamRecord<TSource> record, IWindowOutput<TSource, TKey, TResult> output)
        => output.OnDeadLetter(new DeadLetter(
            new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence),
            DeadLetterReason.NullKey,
            "The key selector returned null for this record."));

    /// <summary>
    /// Sends a record whose operators or selectors threw to the dead letters. The loops over a batch's records have no
    /// <c>try</c> of their own (one in the loop would cost on every record, and one around it keeps the loop's state out
    /// of registers): they note the record they are on in <see cref="Tally"/>, in the engine, so that a <c>catch</c>
    /// around the call knows where the loop stopped; what the loop had counted is there too, or is counted again by
    /// <see cref="Recount"/>. The <c>catch</c> then runs the operators and selectors on that record once
    /// more: only when they throw again is the failure the record's, and nothing of it reached a window yet, so the loop
    /// goes on after it. Any other exception (an aggregator, the key's equality, the output) is rethrown and stops the
    /// pipeline, because a window may hold part of the record.
    /// </summary>
    internal static void RejectFailure(RecordBatch<TSource> batch, in StreamRecord<TSource> record, Exception exception, IWindowOutput<TSource, TKey, TResult> output)
        => output.OnDeadLetter(DeadLetter.SelectorFailed(new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence), exception));

    private protected void EmitLate(RecordBatch<TSource> batch, in StreamRecord<TSource> record, long eventTicks, IWindowOutput<TSource, TKey, TResult> output)
        => output.OnLateRecord(new LateRecord<TSource>(
            record.Value,
            new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence),
            TimeMath.ToTime(eventTicks),
            TimeMath.ToTime(_watermarks.Current)));

    /// <summary>How many leading records of the batch (and how many of its dead letters) are at or before the partition's restored cut.</summary>
    private static int CountReplays(RecordBatch<TSource> batch, PartitionProgress progress, out int deadLetters)
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

    internal sealed override StreamPosition? ReplayThrough(string partitionId)
        => _progress.TryGetValue(partitionId, out var progress) ? progress.ReplayThrough : null;

    private PartitionProgress GetProgress(string partitionId)
    {
        if (!_progress.TryGetValue(partitionId, out var progress))
        {
            progress = new PartitionProgress();
            _progress.Add(partitionId, progress);
        }

        return progress;
    }

    private void Track(RecordBatch<TSource> batch, PartitionProgress progress, long maxEventTicks)
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

    private void AdvanceTo(long watermark, IWindowOutput<TSource, TKey, TResult> output)
    {
        long before = _watermarks.Current;
        _watermarks.AdvanceTo(watermark);
        OnWatermark(before, _watermarks.Current, output);
    }

    /// <summary>
    /// What a loop over a batch's records has done so far (see <see cref="RejectFailure"/>); the records it accepted are
    /// the others.
    /// </summary>
    private protected struct AssignTally
    {
        /// <summary>The index of the record being processed.</summary>
        public int Cursor;

        public int Late;

        public int DeadLetters;

        public int Filtered;

        /// <summary>The largest event time of the accepted (or rebuilt) records.</summary>
        public long MaxEventTicks;
    }

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

