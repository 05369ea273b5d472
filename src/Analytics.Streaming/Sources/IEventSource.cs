namespace Analytics.Streaming;

/// <summary>A source of record batches: Kinesis shards, a Lambda event, a file, an in-memory list, a generator.</summary>
/// <typeparam name="T">The record value type.</typeparam>
/// <remarks>
/// Batches of one partition arrive in partition order; batches of different partitions may interleave. A finite
/// source ends its enumeration after its last batch (the pipeline then closes every open window); an unbounded
/// source runs until <c>cancellationToken</c> is cancelled. Sources read their start positions from the pipeline's
/// <see cref="ICheckpointStore"/>, so a restarted pipeline resumes where the last checkpoint left it.
/// </remarks>
public interface IEventSource<T>
{
    /// <summary>Reads batches until the source ends or <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The batches, each from one partition.</returns>
    IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(CancellationToken cancellationToken);
}
