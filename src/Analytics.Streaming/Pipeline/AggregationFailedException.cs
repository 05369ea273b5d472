namespace Analytics.Streaming;

/// <summary>
/// An aggregator threw for one record, and for that record alone (its value selector throws on the record in an empty
/// accumulator as well): the windows may hold part of it, so the run stops without a checkpoint past it. The pipeline
/// remembers the record: when it reads it again, it sends it to the dead letters
/// (<see cref="DeadLetterReason.AggregatorFailed"/>) instead of aggregating it. The same holds for a window result that
/// the aggregator of a stage fed by windows threw on: the pipeline remembers it by its id, and sends it to the dead
/// letters when the upstream windows make it again.
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

    /// <summary>Creates the exception for a window result that the aggregator of a stage fed by windows threw on.</summary>
    /// <param name="position">The result's position in the results handed to the stage.</param>
    /// <param name="stage">The stage's place among the stages fed by windows (1 for the second window stage).</param>
    /// <param name="resultId">The result's id.</param>
    /// <param name="innerException">The aggregator's exception.</param>
    internal AggregationFailedException(StreamPosition position, int stage, string resultId, Exception innerException)
        : base(
            $"The aggregator of a window stage fed by windows threw {innerException.GetType().FullName}: {innerException.Message} on the result {resultId}. " +
            "The stage may hold part of it, so this run stops without a checkpoint past it; the next run sends the result to the dead letters (AggregatorFailed) instead of to the stage.",
            innerException)
    {
        Position = position;
        Stage = stage;
        ResultId = resultId;
    }

    /// <summary>
    /// Gets the position of the record the aggregator threw for; for a window result in a stage fed by windows, its
    /// number among the results handed to that stage, in partition <see cref="DeadLetter.WindowResultsPartition"/>.
    /// </summary>
    public StreamPosition Position { get; }

    /// <summary>Gets the id of the window result a stage fed by windows threw on; <see langword="null"/> for a record read.</summary>
    internal string? ResultId { get; }

    /// <summary>Gets the place of the stage fed by windows that threw on <see cref="ResultId"/>; 0 for a record read.</summary>
    internal int Stage { get; }
}
