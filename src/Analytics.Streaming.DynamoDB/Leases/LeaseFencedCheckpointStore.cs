using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// The checkpoint store of one shard's pipeline on a lease worker: saves only while this worker holds the shard's
/// lease, and after each save writes the checkpoint's resume position to the lease's <c>checkpoint</c> attribute.
/// </summary>
/// <remarks>
/// The pipeline's checkpoint (<c>{Name}/{shard}</c> in the inner store) stays the source of truth: it holds the
/// window state. The lease checkpoint follows it, so KCL tools and operators see how far each shard is processed, and
/// a pipeline without a checkpoint of its own (a new store, an application moved from the KCL) resumes from it.
/// </remarks>
internal sealed class LeaseFencedCheckpointStore(ICheckpointStore inner, LeaseCoordinator coordinator, string shardId, ILogger logger) : ICheckpointStore
{
    private StreamPosition? _written;

    public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken) => inner.LoadAsync(pipelineName, cancellationToken);

    public async ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!coordinator.Holds(shardId))
        {
            DynamoDbLeaseLog.CheckpointFenced(logger, coordinator.Options.ApplicationName, coordinator.WorkerId, shardId);
            throw new LeaseLostException(shardId, coordinator.WorkerId, "a checkpoint was refused because the lease is no longer held");
        }

        await inner.SaveAsync(checkpoint, cancellationToken).ConfigureAwait(false);
        if (checkpoint.FindPartition(shardId)?.ResumeAfter is { } position && position != _written)
        {
            // SHARD_END is written by the worker once the pipeline has finished (its windows closed), never here: a
            // checkpoint that covers the shard's end may still carry open windows.
            await coordinator.CheckpointAsync(shardId, LeaseCheckpoint.FromPosition(position), cancellationToken).ConfigureAwait(false);
            _written = position;
        }
    }
}
