using System.Collections.Concurrent;

namespace Analytics.Streaming;

/// <summary>A checkpoint store in process memory: for tests, samples and pipelines that replay from the start anyway.</summary>
public sealed class InMemoryCheckpointStore : ICheckpointStore
{
    private readonly ConcurrentDictionary<string, Checkpoint> _checkpoints = new(StringComparer.Ordinal);

    /// <summary>Gets a snapshot of every stored checkpoint.</summary>
    public IReadOnlyDictionary<string, Checkpoint> Snapshot => new Dictionary<string, Checkpoint>(_checkpoints, StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<Checkpoint?> GetAsync(string partitionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(partitionId);
        return ValueTask.FromResult(_checkpoints.TryGetValue(partitionId, out var checkpoint) ? checkpoint : (Checkpoint?)null);
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(IReadOnlyList<Checkpoint> checkpoints, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoints);
        foreach (var checkpoint in checkpoints)
        {
            _checkpoints.AddOrUpdate(
                checkpoint.Position.PartitionId,
                static (_, added) => added,
                static (_, stored, candidate) => CheckpointOrder.Newer(stored, candidate),
                checkpoint);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Shared rule of checkpoint stores: checkpoints never move backwards.</summary>
internal static class CheckpointOrder
{
    public static Checkpoint Newer(Checkpoint stored, Checkpoint candidate)
    {
        if (stored.IsPartitionEnd)
        {
            return stored;
        }

        return candidate.IsPartitionEnd || candidate.Position.CompareTo(stored.Position) >= 0 ? candidate : stored;
    }
}
