namespace Analytics.Streaming;

/// <summary>A destination for pipeline outputs: window results, late records or dead letters.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// <para>
/// Calls are never concurrent: the pipeline calls <see cref="WriteAsync"/> and <see cref="FlushAsync"/> from one
/// task at a time. <see cref="WriteAsync"/> may buffer; the memory it receives is only valid during the call, so a
/// buffering sink copies what it keeps. When <see cref="FlushAsync"/> completes, everything written before it is
/// durable at the destination: the pipeline checkpoints source positions only after every sink has flushed.
/// </para>
/// <para>
/// Sinks write by the item's identity (for window results, <see cref="WindowResult{TKey, TValue}.Id"/>) so that
/// the replay that follows a crash overwrites instead of double counting. A sink retries what is retryable with
/// bounded backoff and throws when it gives up; the pipeline then stops without checkpointing past the failure.
/// </para>
/// </remarks>
public interface ISink<T> : IAsyncDisposable
{
    /// <summary>Writes (or buffers) a batch of items.</summary>
    /// <param name="items">The items; valid only during the call.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the items are written or buffered.</returns>
    ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken);

    /// <summary>Makes everything written so far durable at the destination.</summary>
    /// <param name="cancellationToken">Cancels the flush.</param>
    /// <returns>A task that completes when all items written before the call are durable.</returns>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}
