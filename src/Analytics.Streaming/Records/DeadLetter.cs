namespace Analytics.Streaming;

/// <summary>Why a record went to the dead-letter output instead of being processed.</summary>
public enum DeadLetterReason
{
    /// <summary>The payload could not be decoded (malformed JSON, bad base64, wrong schema).</summary>
    DecodeFailed,

    /// <summary>The record breaks a format or service rule (bad aggregate checksum, over the size limit, partition key too long).</summary>
    InvalidRecord,

    /// <summary>The event time is outside the supported range or too far ahead of the clock.</summary>
    InvalidEventTime,

    /// <summary>The key selector returned <see langword="null"/>.</summary>
    NullKey,

    /// <summary>A value is out of range for its use (NaN, infinity, does not fit the output column).</summary>
    InvalidValue,

    /// <summary>A destination refused the record permanently (not retryable).</summary>
    Rejected,

    /// <summary>
    /// An operator or selector in front of the window (a <c>Where</c>, <c>Select</c>, <c>SelectMany</c> or <c>Enrich</c>
    /// step, the event time or the key) threw an exception for the record, or a <c>Where</c> on window results did for
    /// a result (whose id is then the payload); the message names the exception.
    /// </summary>
    SelectorFailed,

    /// <summary>
    /// An aggregator threw an exception for the record (its value selector, such as <c>a.Sum(e =&gt; ...)</c>, on this
    /// record alone); the run stopped without a checkpoint past it, and the next run set the record aside when it read
    /// it again. Also a window result that the aggregator of a stage fed by windows threw on (set aside in the same way),
    /// and a window whose value could not be computed (the aggregator's <c>GetResult</c> or a projection such as
    /// <c>a.Count().Select(...)</c> threw, and the window is not emitted): the result's id is then the payload. The
    /// message names the exception.
    /// </summary>
    AggregatorFailed,
}

/// <summary>A record that could not be processed, with its position and the reason, so nothing is dropped silently.</summary>
/// <param name="Position">Where the record sits in its source.</param>
/// <param name="Reason">The kind of failure.</param>
/// <param name="Message">A human-readable explanation that says what is wrong with the record.</param>
/// <param name="Payload">The raw bytes of the record when available, so it can be inspected or replayed.</param>
public sealed record DeadLetter(StreamPosition Position, DeadLetterReason Reason, string Message, ReadOnlyMemory<byte> Payload = default)
{
    /// <summary>
    /// The partition named by the position of a dead letter made of a window result rather than of a record read: a
    /// <c>Where</c> on the last stage's results threw, or a window's value could not be computed (the payload is then
    /// the result's id and the sequence 0), or a window stage fed by windows rejected a result (the sequence numbers
    /// the results handed to that stage).
    /// </summary>
    public const string WindowResultsPartition = "window-results";

    /// <summary>The dead letter of a record whose operator or selector in front of the window threw.</summary>
    internal static DeadLetter SelectorFailed(StreamPosition position, Exception exception)
        => new(position, DeadLetterReason.SelectorFailed, $"An operator or selector in front of the window threw {exception.GetType().FullName}: {exception.Message}");

    /// <summary>
    /// Makes the dead letter of a record an aggregator threw on (<see cref="DeadLetterReason.AggregatorFailed"/>), as a
    /// pipeline sets it aside on the run after the one that stopped at it. For hosts that aggregate on their own, such as
    /// a Lambda tumbling-window handler, so that their dead letters read as a pipeline's.
    /// </summary>
    /// <param name="position">The record's position.</param>
    /// <param name="exception">The aggregator's exception, named in the message.</param>
    /// <returns>The dead letter.</returns>
    public static DeadLetter AggregatorFailed(StreamPosition position, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new(position, DeadLetterReason.AggregatorFailed, $"An aggregator threw {exception.GetType().FullName}: {exception.Message}");
    }

    /// <summary>The dead letter of a window result (a <c>Where</c> on results threw, or its value could not be computed); the payload is the result's id.</summary>
    internal static DeadLetter OfResult(string resultId, DeadLetterReason reason, string message)
        => new(new StreamPosition(WindowResultsPartition, SequenceNumber.FromInt64(0)), reason, message, System.Text.Encoding.UTF8.GetBytes(resultId));

    /// <summary>
    /// Makes the dead letter of a window whose value the aggregator could not compute (its <c>GetResult</c> or a
    /// projection threw; <see cref="DeadLetterReason.AggregatorFailed"/>): position <see cref="WindowResultsPartition"/>
    /// with sequence 0, the result's id as the payload. For hosts that emit windows on their own, as
    /// <see cref="AggregatorFailed"/> is.
    /// </summary>
    /// <param name="resultId">The id of the window's result (<see cref="WindowResult{TKey, TValue}.Id"/>).</param>
    /// <param name="exception">The exception, named in the message.</param>
    /// <returns>The dead letter.</returns>
    public static DeadLetter ResultFailed(string resultId, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(resultId);
        ArgumentNullException.ThrowIfNull(exception);
        return OfResult(resultId, DeadLetterReason.AggregatorFailed, $"The aggregate's result (its GetResult or projection) threw {exception.GetType().FullName}: {exception.Message} for the window {resultId}; the window is not emitted.");
    }

    /// <summary>Returns a one-line description: position, reason and message.</summary>
    public override string ToString() => $"{Position}: {Reason}: {Message}";
}
