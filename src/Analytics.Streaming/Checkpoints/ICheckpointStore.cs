namespace Analytics.Streaming;

/// <summary>A saved position of one source partition.</summary>
/// <param name="Position">The last position whose records are fully processed and delivered.</param>
/// <param name="IsPartitionEnd">Whether the whole partition is done (a closed shard read to its end): its children may start.</param>
public readonly record struct Checkpoint(StreamPosition Position, bool IsPartitionEnd = false);

/// <summary>Stores the safe position of each source partition, so that a restarted reader resumes after it.</summary>
/// <remarks>
/// A store instance is scoped to one application and stream (for example a file per stream, or a lease table per
/// application). Saves are idempotent and monotonic per partition: saving an older position than the stored one
/// is ignored, so replays and concurrent saves never move a checkpoint backwards. Implementations are thread-safe.
/// </remarks>
public interface ICheckpointStore
{
    /// <summary>Gets the checkpoint of a partition.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The checkpoint, or <see langword="null"/> when the partition has none.</returns>
    ValueTask<Checkpoint?> GetAsync(string partitionId, CancellationToken cancellationToken);

    /// <summary>Saves checkpoints, each for its own partition.</summary>
    /// <param name="checkpoints">The checkpoints; at most one per partition.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the checkpoints are durable.</returns>
    ValueTask SaveAsync(IReadOnlyList<Checkpoint> checkpoints, CancellationToken cancellationToken);
}
