namespace Analytics.Streaming;

/// <summary>
/// A checkpoint store that fences off stale writers: each writer of a pipeline's checkpoint carries a fencing token
/// (a number that grows with every change of owner, such as the counter of a lease at the moment it was taken), and
/// the store refuses the saves of a writer once a writer with a higher token has claimed the pipeline.
/// </summary>
/// <remarks>
/// <para>
/// Checkpoint ids alone cannot order two owners of one pipeline: the new owner continues the numbering from the
/// checkpoint it loaded, while the old owner, until it notices that it lost its lease, keeps saving with the same ids
/// or higher ones. Without a fence the old owner's saves may replace the new owner's, and the new owner's later
/// saves are then ignored as not newer.
/// </para>
/// <para>
/// With a fence the store keeps, per pipeline, the highest token that claimed it. A save replaces the stored
/// checkpoint when its token is higher than the stored one, or equal and its id newer; a save with a lower token
/// throws <see cref="CheckpointFencedException"/>; an equal token and an id that is not newer is ignored, as in
/// <see cref="ICheckpointStore.SaveAsync"/>. The plain members of <see cref="ICheckpointStore"/> act with token 0.
/// </para>
/// </remarks>
public interface IFencedCheckpointStore : ICheckpointStore
{
    /// <summary>
    /// Raises the fence of a pipeline to <paramref name="fence"/> and loads its checkpoint; from then on, saves with a
    /// lower token are refused.
    /// </summary>
    /// <param name="pipelineName">The pipeline name.</param>
    /// <param name="fence">The caller's fencing token, greater than 0.</param>
    /// <param name="cancellationToken">Cancels the claim.</param>
    /// <returns>The checkpoint, or <see langword="null"/> when the pipeline has none.</returns>
    /// <exception cref="CheckpointFencedException">A writer with a higher token has claimed the pipeline.</exception>
    /// <exception cref="InvalidDataException">The stored checkpoint is damaged; nothing is guessed.</exception>
    ValueTask<PipelineCheckpoint?> ClaimAsync(string pipelineName, long fence, CancellationToken cancellationToken);

    /// <summary>Saves a checkpoint under a fencing token.</summary>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="fence">The token the caller claimed the pipeline with.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the checkpoint is durable, or was ignored as not newer.</returns>
    /// <exception cref="CheckpointFencedException">A writer with a higher token has claimed the pipeline; nothing was written.</exception>
    ValueTask SaveAsync(PipelineCheckpoint checkpoint, long fence, CancellationToken cancellationToken);
}

/// <summary>A checkpoint save or claim was refused because a writer with a higher fencing token claimed the pipeline.</summary>
public sealed class CheckpointFencedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointFencedException()
        : this("A writer with a higher fencing token has claimed the pipeline's checkpoint.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public CheckpointFencedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CheckpointFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a pipeline.</summary>
    /// <param name="pipelineName">The pipeline.</param>
    /// <param name="fence">The refused writer's token.</param>
    /// <param name="storedFence">The token that claimed the pipeline.</param>
    public CheckpointFencedException(string pipelineName, long fence, long storedFence)
        : base($"The checkpoint of pipeline '{pipelineName}' was claimed with fencing token {storedFence}; a writer with token {fence} may no longer save it (another owner took the pipeline over).")
    {
        PipelineName = pipelineName;
        Fence = fence;
        StoredFence = storedFence;
    }

    /// <summary>Gets the pipeline, when known.</summary>
    public string? PipelineName { get; }

    /// <summary>Gets the refused writer's token.</summary>
    public long Fence { get; }

    /// <summary>Gets the token that claimed the pipeline.</summary>
    public long StoredFence { get; }
}
