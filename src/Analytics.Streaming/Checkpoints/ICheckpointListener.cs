namespace Analytics.Streaming;

/// <summary>
/// Implemented by sinks whose writes become visible before the pipeline's checkpoint covers them (objects, files)
/// and that can undo them: after a crash, what they wrote for a checkpoint that was never saved is removed, so the
/// replay that follows leaves exactly one copy.
/// </summary>
/// <remarks>
/// The pipeline calls <see cref="RestoreAsync"/> once before its first write, and
/// <see cref="CheckpointCompletedAsync"/> after each checkpoint is saved. Everything written between the restore (or
/// a completed checkpoint <c>n</c>) and the next completion belongs to checkpoint <c>n + 1</c>: the sink keeps
/// enough to undo it until that checkpoint completes. Sinks that write by result identity (DynamoDB, OpenSearch)
/// overwrite on replay and need not implement this.
/// </remarks>
public interface ICheckpointListener
{
    /// <summary>Undoes what was written for checkpoints after <paramref name="checkpointId"/>; called before the first write of a run.</summary>
    /// <param name="pipelineName">The pipeline (with the sink's own settings, it scopes what the sink undoes).</param>
    /// <param name="checkpointId">The checkpoint the pipeline resumes from; 0 when it starts without one.</param>
    /// <param name="cancellationToken">Cancels the recovery.</param>
    /// <returns>A task that completes when the recovery is done.</returns>
    ValueTask RestoreAsync(string pipelineName, long checkpointId, CancellationToken cancellationToken);

    /// <summary>Learns that a checkpoint is saved: what was written for it is final.</summary>
    /// <param name="checkpointId">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the sink has taken note.</returns>
    ValueTask CheckpointCompletedAsync(long checkpointId, CancellationToken cancellationToken);
}
