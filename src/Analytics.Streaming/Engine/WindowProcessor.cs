namespace Analytics.Streaming;

/// <summary>
/// The synchronous windowing engine of a pipeline: event time and watermarks, key, window, aggregate. One instance
/// keeps the state of one pipeline run; it is not thread-safe (one caller at a time). Pipelines drive it from their
/// processing stage; Lambda handlers and the test driver call it directly.
/// </summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <remarks>
/// The watermark advances between batches, never inside one: a record is late when every window it belongs to was
/// purged before its batch started (window end plus allowed lateness at or before the watermark).
/// </remarks>
public abstract class WindowProcessor<TEvent, TKey, TResult>
{
    private readonly WatermarkTracker _watermarks;

    private protected WindowProcessor(ProcessorSettings<TEvent, TKey> settings)
    {
        Settings = settings;
        _watermarks = new WatermarkTracker(settings.OutOfOrdernessTicks, settings.IdleTimeoutTicks);
    }

    /// <summary>Gets the current watermark; <see cref="DateTimeOffset.MinValue"/> before any event.</summary>
    public DateTimeOffset Watermark => TimeMath.ToTime(WatermarkTicks);

    /// <summary>Gets the number of keyed window states (slices or sessions) held in memory.</summary>
    public abstract long OpenWindowCount { get; }

    internal ProcessorSettings<TEvent, TKey> Settings { get; }

    internal long WatermarkTicks => _watermarks.Current;

    /// <summary>Gets the receipt of the last processed batch.</summary>
    internal BatchReceipt LastReceipt { get; private protected set; }

    /// <summary>
    /// Gets the event-time frontier: every accepted event earlier than this has contributed only to windows that are
    /// emitted and purged (final). Source positions whose batches hold only such events are safe to checkpoint once
    /// the sinks have flushed.
    /// </summary>
    internal abstract long DoneBeforeTicks { get; }

    /// <summary>Processes one batch: assigns its records to windows, then advances the watermark and emits.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="output">Receives results, late records and dead letters.</param>
    public void Process(RecordBatch<TEvent> batch, IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var deadLetter in batch.DeadLetters)
        {
            output.OnDeadLetter(deadLetter);
        }

        long now = Settings.TimeProvider.GetUtcNow().UtcTicks;
        var counts = Settings.EventTimeUnixMilliseconds is { } unixMilliseconds ? Assign(batch, new UnixMillisecondsTimeReader<TEvent>(unixMilliseconds), now, output)
            : Settings.EventTime is { } offset ? Assign(batch, new OffsetTimeReader<TEvent>(offset), now, output)
            : Assign(batch, new ProcessingTimeReader<TEvent>(now), now, output);
        LastReceipt = new BatchReceipt(batch.PartitionId, batch.EndPosition, counts.MaxEventTicks, batch.IsEndOfPartition, counts.Accepted, counts.Late, batch.DeadLetters.Count + counts.DeadLetters);
        EmitDirty(output);
        if (Settings.IsProcessingTime)
        {
            AdvanceTo(now, output);
        }
        else
        {
            long before = _watermarks.Current;
            _watermarks.OnBatch(batch.PartitionId, counts.MaxEventTicks, now, batch.IsEndOfPartition);
            OnWatermark(before, _watermarks.Current, output);
        }
    }

    /// <summary>
    /// Lets processing time pass: re-evaluates idle partitions (event time) or moves the watermark to now
    /// (processing time), closing the windows that ended.
    /// </summary>
    /// <param name="output">Receives the results.</param>
    public void AdvanceTime(IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
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
    }

    /// <summary>Moves the watermark forward to <paramref name="watermark"/> (never back) and closes the windows that ended.</summary>
    /// <param name="watermark">The new watermark.</param>
    /// <param name="output">Receives the results.</param>
    public void AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        AdvanceTo(watermark.UtcTicks, output);
    }

    /// <summary>Ends the input: closes and emits every open window (the watermark moves to the end of time).</summary>
    /// <param name="output">Receives the results.</param>
    public void Complete(IWindowOutput<TEvent, TKey, TResult> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        AdvanceTo(long.MaxValue, output);
    }

    private protected abstract AssignCounts Assign<TTimeReader>(RecordBatch<TEvent> batch, TTimeReader time, long nowTicks, IWindowOutput<TEvent, TKey, TResult> output)
        where TTimeReader : struct, ITimeReader<TEvent>;

    private protected abstract void EmitDirty(IWindowOutput<TEvent, TKey, TResult> output);

    private protected abstract void OnWatermark(long before, long after, IWindowOutput<TEvent, TKey, TResult> output);

    /// <summary>Whether an event time is inside the supported range and not too far ahead of the clock.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private protected bool IsValidTime(long eventTicks, long nowTicks)
        => (ulong)(eventTicks - TimeMath.MinEventTicks) < (ulong)(TimeMath.MaxEventTicks - TimeMath.MinEventTicks)
           && (Settings.MaxAheadTicks == 0 || eventTicks - nowTicks <= Settings.MaxAheadTicks);

    private protected void RejectTime(RecordBatch<TEvent> batch, in StreamRecord<TEvent> record, long eventTicks, long nowTicks, IWindowOutput<TEvent, TKey, TResult> output)
    {
        var position = new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence);
        string message = eventTicks < TimeMath.MinEventTicks || eventTicks >= TimeMath.MaxEventTicks
            ? $"Event time {TimeMath.ToTime(eventTicks):O} is outside the supported range [{TimeMath.ToTime(TimeMath.MinEventTicks):O}, {TimeMath.ToTime(TimeMath.MaxEventTicks):O})."
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

    private void AdvanceTo(long watermark, IWindowOutput<TEvent, TKey, TResult> output)
    {
        long before = _watermarks.Current;
        _watermarks.AdvanceTo(watermark);
        OnWatermark(before, _watermarks.Current, output);
    }

    private protected readonly record struct AssignCounts(int Accepted, int Late, int DeadLetters, long MaxEventTicks);
}

/// <summary>What the processor did with one batch: the input to checkpoint tracking.</summary>
/// <param name="PartitionId">The batch's partition.</param>
/// <param name="EndPosition">The batch's end position.</param>
/// <param name="MaxEventTicks">The largest event time accepted into a window, <see cref="long.MinValue"/> when none.</param>
/// <param name="IsEndOfPartition">Whether the partition ended with the batch.</param>
/// <param name="Accepted">Records added to windows.</param>
/// <param name="Late">Records sent to the late output.</param>
/// <param name="DeadLetters">Records sent to the dead letters (including those the batch carried).</param>
internal readonly record struct BatchReceipt(string PartitionId, StreamPosition? EndPosition, long MaxEventTicks, bool IsEndOfPartition, int Accepted, int Late, int DeadLetters);
