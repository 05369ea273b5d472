namespace Analytics.Streaming;

/// <summary>
/// A batch of records from one source partition, in partition order. Batches, not single records, move between
/// pipeline stages.
/// </summary>
/// <typeparam name="T">The record value type.</typeparam>
/// <remarks>
/// The batch owns its memory: a source must not reuse <see cref="Records"/> after yielding the batch. Records that
/// could not be turned into values (bad bytes, bad aggregates) travel in <see cref="DeadLetters"/> so that they keep
/// their place in the checkpoint order and reach the dead-letter output with their reason.
/// </remarks>
public sealed class RecordBatch<T>
{
    /// <summary>Creates a batch.</summary>
    /// <param name="partitionId">The source partition the records come from.</param>
    /// <param name="records">The records in partition order.</param>
    /// <param name="deadLetters">Records of this batch that were rejected before becoming values; may be <see langword="null"/>.</param>
    /// <param name="endPosition">
    /// The position the batch ends at (checkpointing it means the whole batch is done). When <see langword="null"/>,
    /// the largest position among the records and dead letters is used.
    /// </param>
    /// <param name="isEndOfPartition">Whether the partition has no records after this batch (a closed shard, the end of a file).</param>
    /// <param name="behindLatest">How far the reader is behind the newest record of the partition, when the source knows it.</param>
    public RecordBatch(
        string partitionId,
        ReadOnlyMemory<StreamRecord<T>> records,
        IReadOnlyList<DeadLetter>? deadLetters = null,
        StreamPosition? endPosition = null,
        bool isEndOfPartition = false,
        TimeSpan? behindLatest = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(partitionId);
        PartitionId = partitionId;
        Records = records;
        DeadLetters = deadLetters ?? [];
        IsEndOfPartition = isEndOfPartition;
        BehindLatest = behindLatest;
        EndPosition = endPosition ?? ComputeEnd(partitionId, records.Span, DeadLetters);
    }

    /// <summary>Gets the source partition the records come from.</summary>
    public string PartitionId { get; }

    /// <summary>Gets the records in partition order.</summary>
    public ReadOnlyMemory<StreamRecord<T>> Records { get; }

    /// <summary>Gets the records of this batch that were rejected before becoming values.</summary>
    public IReadOnlyList<DeadLetter> DeadLetters { get; }

    /// <summary>Gets the position the batch ends at; <see langword="null"/> for an empty batch with no known position.</summary>
    public StreamPosition? EndPosition { get; }

    /// <summary>Gets a value indicating whether the partition has no records after this batch.</summary>
    public bool IsEndOfPartition { get; }

    /// <summary>
    /// Gets how far the reader is behind the newest record of the partition, when known. A batch read further behind
    /// than the pipeline's idle timeout, even an empty one, keeps the partition from turning idle: its records may
    /// still be coming.
    /// </summary>
    public TimeSpan? BehindLatest { get; }

    private static StreamPosition? ComputeEnd(string partitionId, ReadOnlySpan<StreamRecord<T>> records, IReadOnlyList<DeadLetter> deadLetters)
    {
        StreamPosition? end = records.IsEmpty ? null : new StreamPosition(partitionId, records[^1].Sequence, records[^1].SubSequence);
        foreach (var deadLetter in deadLetters)
        {
            if (end is null || deadLetter.Position.CompareTo(end.Value) > 0)
            {
                end = deadLetter.Position;
            }
        }

        return end;
    }
}
