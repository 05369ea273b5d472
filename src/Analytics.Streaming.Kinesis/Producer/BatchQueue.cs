namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The batching stage of the producer: Kinesis records waiting to be sent, cut into PutRecords batches by count and
/// bytes, and the linger clock that says when a batch that is not full goes anyway.
/// </summary>
/// <remarks>
/// The linger clock starts when a record arrives while nothing was pending, and starts again after a batch is taken
/// while records still wait in open aggregates. Not thread-safe: owned by the producer's pump.
/// </remarks>
internal sealed class BatchQueue(int maxBatchRecords, long maxBatchBytes, TimeSpan linger, TimeProvider time)
{
    private readonly Queue<OutgoingRecord> _ready = new();
    private long _pendingSince = -1;
    private long _bytes;

    public int Count => _ready.Count;

    /// <summary>Gets how many user records wait here.</summary>
    public int UserRecordCount { get; private set; }

    /// <summary>Gets when the oldest pending record's linger ends; <see langword="null"/> when nothing is pending.</summary>
    public TimeSpan? LingerRemaining => _pendingSince < 0 ? null : linger - time.GetElapsedTime(_pendingSince);

    public bool LingerExpired => LingerRemaining is { } remaining && remaining <= TimeSpan.Zero;

    /// <summary>Notes that a record arrived (into the queue or into an open aggregate): starts the linger clock if it is not running.</summary>
    public void NoteArrival()
    {
        if (_pendingSince < 0)
        {
            _pendingSince = time.GetTimestamp();
        }
    }

    public void Add(OutgoingRecord record)
    {
        NoteArrival();
        _ready.Enqueue(record);
        UserRecordCount += record.UserRecordCount;
        _bytes += record.Size;
    }

    public void AddRange(List<OutgoingRecord> records)
    {
        foreach (var record in records)
        {
            Add(record);
        }

        records.Clear();
    }

    /// <summary>Returns whether a full batch waits (by count, or by bytes).</summary>
    public bool HasFullBatch() => _ready.Count >= maxBatchRecords || _bytes > maxBatchBytes;

    /// <summary>Takes the next batch: records in arrival order up to the count and byte limits (at least one).</summary>
    /// <param name="openAggregateRecords">How many user records wait in open aggregates (they keep the linger clock running).</param>
    public List<OutgoingRecord> TakeBatch(int openAggregateRecords)
    {
        var batch = new List<OutgoingRecord>(Math.Min(_ready.Count, maxBatchRecords));
        long bytes = 0;
        while (_ready.Count > 0 && batch.Count < maxBatchRecords)
        {
            var next = _ready.Peek();
            if (batch.Count > 0 && bytes + next.Size > maxBatchBytes)
            {
                break;
            }

            _ready.Dequeue();
            UserRecordCount -= next.UserRecordCount;
            _bytes -= next.Size;
            bytes += next.Size;
            batch.Add(next);
        }

        if (_ready.Count == 0)
        {
            _pendingSince = openAggregateRecords > 0 ? time.GetTimestamp() : -1;
        }

        return batch;
    }

    /// <summary>Stops the linger clock when nothing is pending any more.</summary>
    public void ResetIfIdle(int openAggregateRecords)
    {
        if (_ready.Count == 0 && openAggregateRecords == 0)
        {
            _pendingSince = -1;
        }
    }
}
