namespace Analytics.Streaming.CrashTests;

/// <summary>
/// A checkpoint store that takes a while to save, as a remote one does (a DynamoDB write is tens of milliseconds):
/// it widens the moment between the sinks' flush and the saved checkpoint, where a crash leaves delivered outputs
/// that no checkpoint covers, so that the tests' kills land there often.
/// </summary>
/// <param name="inner">The store that keeps the checkpoints.</param>
/// <param name="delay">The extra time each save takes, before it is written.</param>
internal sealed class SlowCheckpointStore(ICheckpointStore inner, TimeSpan delay) : ICheckpointStore
{
    /// <inheritdoc />
    public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken) => inner.LoadAsync(pipelineName, cancellationToken);

    /// <inheritdoc />
    public async ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        await inner.SaveAsync(checkpoint, cancellationToken).ConfigureAwait(false);
    }
}
