namespace Analytics.Streaming;

/// <summary>
/// Implemented by sinks whose writes become visible before the pipeline's checkpoint covers them (objects, files)
/// and that can undo them: after a crash, what they wrote for a checkpoint that was never saved is removed, so the
/// replay that follows leaves exactly one copy.
/// </summary>
/// <remarks>
/// The pipeline calls <see cref="RestoreAsync(string, long, long, CancellationToken)"/> before the first write of each run
/// (a run it starts again in the same process, after an aggregator threw on a record, comes after a flush of its sinks), and
/// <see cref="CheckpointCompletedAsync"/> after each checkpoint is saved, or <see cref="CheckpointRefusedAsync"/> when the
/// store refuses one because the pipeline was taken over. Everything written between the restore (or
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

    /// <summary>
    /// Undoes what was written for checkpoints after <paramref name="checkpointId"/>, knowing the fencing token the
    /// pipeline's checkpoint was claimed with; called before the first write of a run. The pipeline calls this overload;
    /// by default it calls <see cref="RestoreAsync(string, long, CancellationToken)"/>.
    /// </summary>
    /// <param name="pipelineName">The pipeline (with the sink's own settings, it scopes what the sink undoes).</param>
    /// <param name="checkpointId">The checkpoint the pipeline resumes from; 0 when it starts without one.</param>
    /// <param name="fence">
    /// The token of the claim (<see cref="ICheckpointStore.ClaimedFence"/>), 0 when the store does not fence. Of two runs
    /// of one pipeline that claimed it, the later owner has the higher token, and once a checkpoint of the later one is
    /// saved, the earlier one can save none: what it wrote after that owner's restore point is never committed.
    /// </param>
    /// <param name="cancellationToken">Cancels the recovery.</param>
    /// <returns>A task that completes when the recovery is done.</returns>
    ValueTask RestoreAsync(string pipelineName, long checkpointId, long fence, CancellationToken cancellationToken)
        => RestoreAsync(pipelineName, checkpointId, cancellationToken);

    /// <summary>Learns that a checkpoint is saved: what was written for it is final.</summary>
    /// <param name="checkpointId">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the sink has taken note.</returns>
    ValueTask CheckpointCompletedAsync(long checkpointId, CancellationToken cancellationToken);

    /// <summary>
    /// Learns that the store refused a checkpoint because another writer took the pipeline over
    /// (<see cref="CheckpointFencedException"/>): what was written for it will never be committed by this run, and the
    /// pipeline stops after this call. By default nothing is done.
    /// </summary>
    /// <param name="checkpointId">The refused checkpoint.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the sink has undone what it could.</returns>
    ValueTask CheckpointRefusedAsync(long checkpointId, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
