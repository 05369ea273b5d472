namespace Analytics.Streaming;

/// <summary>Live counters of a pipeline run: what came in and where every record went. Thread-safe to read at any time.</summary>
/// <remarks>
/// Every record read is accounted for once its batch has been processed:
/// <c>RecordsIn = RecordsAccepted + LateRecords + DeadLetters + RecordsReplayed + RecordsFiltered</c>. The same figures are exported as
/// metrics of the <c>Analytics.Streaming</c> meter, whose <c>analytics.streaming.dead_letters</c> counts
/// <see cref="DeadLetters"/> and <see cref="ResultDeadLetters"/> together: every dead letter the pipeline wrote.
/// </remarks>
public sealed class PipelineStatistics
{
    private long _recordsIn;
    private long _recordsAccepted;
    private long _lateRecords;
    private long _deadLetters;
    private long _recordsReplayed;
    private long _recordsFiltered;
    private long _resultDeadLetters;
    private long _resultsOut;
    private long _watermarkTicks = long.MinValue;
    private long _openWindows;
    private PipelineCheckpoint? _restoredFrom;
    private PipelineCheckpoint? _lastCheckpoint;

    /// <summary>Gets the number of records read from the source, including dead letters it delivered.</summary>
    public long RecordsIn => Interlocked.Read(ref _recordsIn);

    /// <summary>Gets the number of records added to windows.</summary>
    public long RecordsAccepted => Interlocked.Read(ref _recordsAccepted);

    /// <summary>Gets the number of records sent to the late output.</summary>
    public long LateRecords => Interlocked.Read(ref _lateRecords);

    /// <summary>Gets the number of records sent to the dead letters.</summary>
    public long DeadLetters => Interlocked.Read(ref _deadLetters);

    /// <summary>Gets the number of records read again after a restart that the restored checkpoint already covered (delivered before it; not emitted again).</summary>
    public long RecordsReplayed => Interlocked.Read(ref _recordsReplayed);

    /// <summary>Gets the number of records a filter in front of the windows left out (<c>Where</c>, an inner <c>Enrich</c> without a row): neither errors nor late.</summary>
    public long RecordsFiltered => Interlocked.Read(ref _recordsFiltered);

    /// <summary>
    /// Gets the number of window results sent to the dead letters: by a window stage fed by windows (its key or its
    /// <c>Where</c> threw, or the key was <see langword="null"/>, or its aggregator threw on the result before), by a
    /// <c>Where</c> after the last stage that threw, or because the aggregator could not compute a window's value (its
    /// <c>GetResult</c> or projection threw). They are results, not records read, so they are not in the balance of
    /// <see cref="RecordsIn"/>.
    /// </summary>
    public long ResultDeadLetters => Interlocked.Read(ref _resultDeadLetters);

    /// <summary>Gets the number of window results written to the sinks.</summary>
    public long ResultsOut => Interlocked.Read(ref _resultsOut);

    /// <summary>Gets the current watermark; <see cref="DateTimeOffset.MinValue"/> before the first event.</summary>
    public DateTimeOffset Watermark => TimeMath.ToTime(Interlocked.Read(ref _watermarkTicks));

    /// <summary>Gets the number of keyed window states held in memory.</summary>
    public long OpenWindows => Interlocked.Read(ref _openWindows);

    /// <summary>Gets the checkpoint the run resumed from; <see langword="null"/> when it started afresh.</summary>
    public PipelineCheckpoint? RestoredFrom => Volatile.Read(ref _restoredFrom);

    /// <summary>Gets the last checkpoint saved (after every sink flushed what it covers); <see langword="null"/> before the first.</summary>
    public PipelineCheckpoint? LastCheckpoint => Volatile.Read(ref _lastCheckpoint);

    internal void OnRestored(PipelineCheckpoint? checkpoint)
    {
        Volatile.Write(ref _restoredFrom, checkpoint);
        if (checkpoint is not null)
        {
            Interlocked.Exchange(ref _watermarkTicks, checkpoint.WatermarkTicks);
        }
    }

    internal void OnBatch(in BatchReceipt receipt, long watermarkTicks, long openWindows)
    {
        Interlocked.Add(ref _recordsIn, receipt.Records);
        Interlocked.Add(ref _recordsAccepted, receipt.Accepted);
        Interlocked.Add(ref _lateRecords, receipt.Late);
        Interlocked.Add(ref _deadLetters, receipt.DeadLetters);
        Interlocked.Add(ref _recordsReplayed, receipt.Replayed);
        Interlocked.Add(ref _recordsFiltered, receipt.Filtered);
        Interlocked.Exchange(ref _watermarkTicks, watermarkTicks);
        Interlocked.Exchange(ref _openWindows, openWindows);
    }

    /// <summary>Takes the processor's watermark, open windows and result dead letters (a running total).</summary>
    /// <returns>The result dead letters since the last call.</returns>
    internal long OnProgress(long watermarkTicks, long openWindows, long resultDeadLetters)
    {
        Interlocked.Exchange(ref _watermarkTicks, watermarkTicks);
        Interlocked.Exchange(ref _openWindows, openWindows);
        return resultDeadLetters - Interlocked.Exchange(ref _resultDeadLetters, resultDeadLetters);
    }

    internal void OnResults(int count) => Interlocked.Add(ref _resultsOut, count);

    internal void OnCheckpoint(PipelineCheckpoint checkpoint) => Volatile.Write(ref _lastCheckpoint, checkpoint);
}
