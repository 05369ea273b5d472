namespace Analytics.Streaming;

/// <summary>A source of record batches: Kinesis shards, a Lambda event, a file, an in-memory list, a generator.</summary>
/// <typeparam name="T">The record value type.</typeparam>
/// <remarks>
/// Batches of one partition arrive in partition order; batches of different partitions may interleave. A finite
/// source ends its enumeration after its last batch (the pipeline then closes every open window); an unbounded
/// source runs until <c>cancellationToken</c> is cancelled. The pipeline owns the checkpoints: it hands the source a
/// <see cref="SourceContext"/> with the position to resume each partition after, and the source announces the
/// partitions it will read through the same context.
/// </remarks>
public interface IEventSource<T>
{
    /// <summary>
    /// Gets a value indicating whether the source resumes from <see cref="SourceContext.GetResumePosition"/> (reads
    /// each partition again after that position). A pipeline with a checkpoint store refuses a source that cannot,
    /// unless <see cref="StreamPipelineOptions.AllowNonResumableSource"/> is set.
    /// </summary>
    bool CanResume { get; }

    /// <summary>Reads batches until the source ends or <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="context">Where to resume; where to announce partitions.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The batches, each from one partition.</returns>
    IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, CancellationToken cancellationToken);
}
