namespace Analytics.Streaming;

/// <summary>Live counters of a pipeline: what came in and where every record went. Thread-safe to read at any time.</summary>
/// <remarks>
/// Every record read is accounted for: <c>RecordsIn = RecordsAccepted + LateRecords + DeadLetters</c> once its batch
/// has been processed. The same figures are exported as metrics of the <c>Analytics.Streaming</c> meter.
/// </remarks>
public sealed class PipelineStatistics
{
    private long _recordsIn;
    private long _recordsAccepted;
    private long _lateRecords;
    private long _deadLetters;
    private long _resultsOut;
    private long _watermarkTicks = long.MinValue;
    private long _openWindows;
    private IReadOnlyDictionary<string, Checkpoint> _safeCheckpoints = new Dictionary<string, Checkpoint>();

    /// <summary>Gets the number of records read from the source, including dead letters it delivered.</summary>
    public long RecordsIn => Interlocked.Read(ref _recordsIn);

    /// <summary>Gets the number of records added to windows.</summary>
    public long RecordsAccepted => Interlocked.Read(ref _recordsAccepted);

    /// <summary>Gets the number of records sent to the late output.</summary>
    public long LateRecords => Interlocked.Read(ref _lateRecords);

    /// <summary>Gets the number of records sent to the dead letters.</summary>
    public long DeadLetters => Interlocked.Read(ref _deadLetters);

    /// <summary>Gets the number of window results written to the sinks.</summary>
    public long ResultsOut => Interlocked.Read(ref _resultsOut);

    /// <summary>Gets the current watermark; <see cref="DateTimeOffset.MinValue"/> before the first event.</summary>
    public DateTimeOffset Watermark => TimeMath.ToTime(Interlocked.Read(ref _watermarkTicks));

    /// <summary>Gets the number of keyed window states held in memory.</summary>
    public long OpenWindows => Interlocked.Read(ref _openWindows);

    /// <summary>Gets the last safe position of each partition: everything up to it is processed, delivered and flushed.</summary>
    public IReadOnlyDictionary<string, Checkpoint> SafeCheckpoints => Volatile.Read(ref _safeCheckpoints);

    internal void OnBatch(in BatchReceipt receipt, long watermarkTicks, long openWindows)
    {
        Interlocked.Add(ref _recordsIn, receipt.Accepted + receipt.Late + receipt.DeadLetters);
        Interlocked.Add(ref _recordsAccepted, receipt.Accepted);
        Interlocked.Add(ref _lateRecords, receipt.Late);
        Interlocked.Add(ref _deadLetters, receipt.DeadLetters);
        OnProgress(watermarkTicks, openWindows);
    }

    internal void OnProgress(long watermarkTicks, long openWindows)
    {
        Interlocked.Exchange(ref _watermarkTicks, watermarkTicks);
        Interlocked.Exchange(ref _openWindows, openWindows);
    }

    internal void OnResults(int count) => Interlocked.Add(ref _resultsOut, count);

    internal void OnCheckpoints(IReadOnlyList<Checkpoint> checkpoints)
    {
        if (checkpoints.Count == 0)
        {
            return;
        }

        var updated = new Dictionary<string, Checkpoint>(SafeCheckpoints, StringComparer.Ordinal);
        foreach (var checkpoint in checkpoints)
        {
            updated[checkpoint.Position.PartitionId] = checkpoint;
        }

        Volatile.Write(ref _safeCheckpoints, updated);
    }
}
