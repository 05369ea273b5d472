namespace Analytics.Streaming;

/// <summary>
/// An aggregator threw for one record, and for that record alone (its value selector throws on the record in an empty
/// accumulator as well): the windows may hold part of it, so the run stops without a checkpoint past it. The pipeline
/// remembers the record: when it reads it again, it sends it to the dead letters
/// (<see cref="DeadLetterReason.AggregatorFailed"/>) instead of aggregating it.
/// </summary>
/// <remarks>
/// <see cref="StreamPipeline{TSource, TKey, TResult}.RunAsync"/> starts over from the last checkpoint by itself when it
/// has a checkpoint store and a source that resumes; otherwise the exception reaches the caller, and the next run of
/// the same pipeline object (the hosted worker's restart, or your own call) goes past the record.
/// <see cref="Exception.InnerException"/> is the aggregator's exception.
/// </remarks>
public sealed class AggregationFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AggregationFailedException()
        : this("An aggregator threw for a record.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public AggregationFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the aggregator's exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The aggregator's exception.</param>
    public AggregationFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a record.</summary>
    /// <param name="position">The record's position.</param>
    /// <param name="innerException">The aggregator's exception.</param>
    public AggregationFailedException(StreamPosition position, Exception innerException)
        : base(
            $"An aggregator threw {innerException?.GetType().FullName}: {innerException?.Message} on the record at {position}. The windows may hold part of it, " +
            "so this run stops without a checkpoint past it; the next run sends the record to the dead letters (AggregatorFailed) when it reads it again.",
            innerException)
        => Position = position;

    /// <summary>Gets the position of the record the aggregator threw for.</summary>
    public StreamPosition Position { get; }
}
