using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// The checkpoint store of one shard's pipeline on a lease worker: saves only while this worker holds the shard's
/// lease, and after each save writes the checkpoint's resume position to the lease's <c>checkpoint</c> attribute.
/// </summary>
/// <remarks>
/// <para>
/// The pipeline's checkpoint (<c>{Name}/{shard}</c> in the inner store) stays the source of truth: it holds the
/// window state. The lease checkpoint follows it, so KCL tools and operators see how far each shard is processed, and
/// a pipeline without a checkpoint of its own (a new store, an application moved from the KCL) resumes from it.
/// </para>
/// <para>
/// <b>Fencing.</b> A worker learns that its lease was taken only at its next renewal; until then it still believes it
/// holds it. When the inner store is an <see cref="IFencedCheckpointStore"/>, the pipeline's load claims the
/// checkpoint with the lease's fencing token (the counter its take wrote), so from the new owner's load on, the old
/// owner's saves are refused by the store itself and its pipeline stops with <see cref="LeaseLostException"/>. Other
/// stores are fenced only by this worker's view of its leases.
/// </para>
/// </remarks>
internal sealed class LeaseFencedCheckpointStore(ICheckpointStore inner, LeaseCoordinator coordinator, string shardId, ILogger logger) : ICheckpointStore
{
    private StreamPosition? _written;
    private long _fence;

    /// <summary>Gets the lease's token the load claimed the checkpoint with; 0 when the inner store does not fence.</summary>
    public long ClaimedFence => _fence;

    public async ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
    {
        if (inner is not IFencedCheckpointStore fenced)
        {
            return await inner.LoadAsync(pipelineName, cancellationToken).ConfigureAwait(false);
        }

        _fence = Fence();
        try
        {
            return await fenced.ClaimAsync(pipelineName, _fence, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointFencedException e)
        {
            throw Refused(e);
        }
    }

    public async ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!coordinator.Holds(shardId))
        {
            throw Refused(
                new CheckpointFencedException($"Worker '{coordinator.WorkerId}' no longer holds the lease of shard '{shardId}': checkpoint {checkpoint.Id} of pipeline '{checkpoint.PipelineName}' is not saved."),
                "a checkpoint was refused because the lease is no longer held");
        }

        if (inner is IFencedCheckpointStore fenced)
        {
            if (_fence == 0)
            {
                _fence = Fence(); // saved without a load: the token of the lease as held now
            }

            try
            {
                await fenced.SaveAsync(checkpoint, _fence, cancellationToken).ConfigureAwait(false);
            }
            catch (CheckpointFencedException e)
            {
                throw Refused(e);
            }
        }
        else
        {
            await inner.SaveAsync(checkpoint, cancellationToken).ConfigureAwait(false);
        }

        if (checkpoint.FindPartition(shardId)?.ResumeAfter is { } position && position != _written)
        {
            // SHARD_END is written by the worker once the pipeline has finished (its windows closed), never here: a
            // checkpoint that covers the shard's end may still carry open windows.
            await coordinator.CheckpointAsync(shardId, LeaseCheckpoint.FromPosition(position), cancellationToken).ConfigureAwait(false);
            _written = position;
        }
    }

    private long Fence() => coordinator.FenceOf(shardId) ?? throw new LeaseLostException(shardId, coordinator.WorkerId, "the lease is no longer held");

    /// <summary>
    /// Logs a refused checkpoint and makes the worker's exception for it, with the refusal as its cause (so the pipeline
    /// tells its sinks); by default the reason is that the store refused it for a higher token.
    /// </summary>
    private LeaseLostException Refused(CheckpointFencedException cause, string? reason = null)
    {
        DynamoDbLeaseLog.CheckpointFenced(logger, coordinator.Options.ApplicationName, coordinator.WorkerId, shardId);
        return new LeaseLostException(shardId, coordinator.WorkerId, reason ?? $"another worker took the lease and claimed the checkpoint ({cause.Message})", cause);
    }
}
