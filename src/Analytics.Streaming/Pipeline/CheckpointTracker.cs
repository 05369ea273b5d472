namespace Analytics.Streaming;

/// <summary>
/// Turns batch receipts into safe checkpoints: a batch is done when every event it added to a window is earlier
/// than the engine's frontier (its windows are emitted and purged) and the sinks have flushed what was emitted. Per
/// partition, the checkpoint is the end of the longest run of done batches.
/// </summary>
internal sealed class CheckpointTracker
{
    private readonly Dictionary<string, Queue<BatchReceipt>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamPosition> _lastKnown = new(StringComparer.Ordinal);

    public void Add(in BatchReceipt receipt)
    {
        if (receipt.EndPosition is null && !receipt.IsEndOfPartition)
        {
            return;
        }

        if (!_pending.TryGetValue(receipt.PartitionId, out var queue))
        {
            queue = new Queue<BatchReceipt>();
            _pending.Add(receipt.PartitionId, queue);
        }

        queue.Enqueue(receipt);
    }

    /// <summary>Takes the checkpoints that became safe given the frontier of the flushed output.</summary>
    public List<Checkpoint> TakeSafe(long doneBeforeTicks)
    {
        var safe = new List<Checkpoint>();
        foreach (var (partition, queue) in _pending)
        {
            Checkpoint? checkpoint = null;
            while (queue.Count > 0 && (queue.Peek().MaxEventTicks == long.MinValue || queue.Peek().MaxEventTicks < doneBeforeTicks))
            {
                var receipt = queue.Dequeue();
                var position = receipt.EndPosition
                    ?? (_lastKnown.TryGetValue(partition, out var known) ? known : new StreamPosition(partition, SequenceNumber.Zero));
                _lastKnown[partition] = position;
                checkpoint = new Checkpoint(position, receipt.IsEndOfPartition);
            }

            if (checkpoint is not null)
            {
                safe.Add(checkpoint.Value);
            }
        }

        return safe;
    }
}
