namespace Analytics.Streaming;

/// <summary>Keeps the latest <see cref="PipelineCheckpoint"/> of each pipeline, so that a restarted pipeline resumes from it.</summary>
/// <remarks>
/// <para>
/// The pipeline owns its store: it loads the checkpoint when <c>RunAsync</c> starts, hands the positions to its
/// source, and saves a new checkpoint only after its sinks flushed everything the checkpoint covers.
/// </para>
/// <para>
/// Implementations keep one checkpoint per pipeline name, write it atomically (a reader sees the previous checkpoint
/// or the new one, never a mix or a torn copy) and ignore a save whose <see cref="PipelineCheckpoint.Id"/> is not
/// newer than the stored one, so a stale writer never moves a pipeline backwards. They are thread-safe.
/// </para>
/// </remarks>
public interface ICheckpointStore
{
    /// <summary>Loads the latest checkpoint of a pipeline.</summary>
    /// <param name="pipelineName">The pipeline name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The checkpoint, or <see langword="null"/> when the pipeline has none.</returns>
    /// <exception cref="InvalidDataException">The stored checkpoint is damaged; nothing is guessed.</exception>
    ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken);

    /// <summary>Saves a checkpoint, replacing the pipeline's previous one unless that one is newer.</summary>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the checkpoint is durable.</returns>
    ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>
    /// Gets the fencing token with which this store's last <see cref="LoadAsync"/> claimed the pipeline's checkpoint,
    /// or 0 when its loads claim nothing (the default, and every store shared by several pipelines).
    /// </summary>
    /// <remarks>
    /// A lease worker's store of one shard claims the checkpoint with its lease's token (see
    /// <see cref="IFencedCheckpointStore"/>). The pipeline hands the token to its <see cref="ICheckpointListener"/>
    /// sinks, so that a sink can tell what an earlier owner wrote after losing the pipeline from the current owner's
    /// writes, even when both resumed from the same checkpoint.
    /// </remarks>
    long ClaimedFence => 0;
}

/// <summary>A checkpoint store in process memory: for tests, samples and pipelines that replay from the start anyway.</summary>
/// <remarks>It keeps the binary form, so every save and load goes through the same format checks as a durable store, and fences stale writers like one.</remarks>
public sealed class InMemoryCheckpointStore : IFencedCheckpointStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Stored> _checkpoints = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipelineName);
        byte[]? bytes;
        lock (_gate)
        {
            bytes = _checkpoints.TryGetValue(pipelineName, out var stored) ? stored.Bytes : null;
        }

        return ValueTask.FromResult(bytes is null ? null : PipelineCheckpoint.Parse(bytes));
    }

    /// <inheritdoc />
    public ValueTask<PipelineCheckpoint?> ClaimAsync(string pipelineName, long fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipelineName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fence);
        byte[]? bytes;
        lock (_gate)
        {
            var stored = Fenced(pipelineName, fence);
            _checkpoints[pipelineName] = stored with { Fence = fence };
            bytes = stored.Bytes;
        }

        return ValueTask.FromResult(bytes is null ? null : PipelineCheckpoint.Parse(bytes));
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => SaveAsync(checkpoint, 0, cancellationToken);

    /// <inheritdoc />
    public ValueTask SaveAsync(PipelineCheckpoint checkpoint, long fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(fence);
        byte[] bytes = checkpoint.ToBytes();
        lock (_gate)
        {
            var stored = Fenced(checkpoint.PipelineName, fence);
            if (stored.Fence < fence || stored.Bytes is null || stored.Id < checkpoint.Id)
            {
                _checkpoints[checkpoint.PipelineName] = new Stored(checkpoint.Id, bytes, fence);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Gets a pipeline's entry (under the lock), refusing a token lower than the one that claimed it.</summary>
    private Stored Fenced(string pipelineName, long fence)
    {
        var stored = _checkpoints.GetValueOrDefault(pipelineName);
        return stored.Fence > fence ? throw new CheckpointFencedException(pipelineName, fence, stored.Fence) : stored;
    }

    /// <summary>A pipeline's entry: its checkpoint (none after a claim of a new pipeline) and the highest fencing token that claimed it.</summary>
    private readonly record struct Stored(long Id, byte[]? Bytes, long Fence);
}
