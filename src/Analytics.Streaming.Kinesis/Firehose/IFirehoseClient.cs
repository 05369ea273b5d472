namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>The Amazon Data Firehose operation this package uses: <c>PutRecordBatch</c>.</summary>
/// <remarks>
/// <see cref="FirehoseClient"/> implements it over the JSON 1.1 API; an adapter over the official SDK client can
/// implement it too. Implementations are thread-safe. Failures surface as <see cref="KinesisException"/> (error codes
/// such as <c>ResourceNotFoundException</c> or <c>ServiceUnavailableException</c>) after retryable ones were retried.
/// </remarks>
public interface IFirehoseClient
{
    /// <summary>Writes up to 500 records (4 MiB) to a delivery stream in one call.</summary>
    /// <param name="request">The delivery stream and records.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per record, in request order; records can fail individually while the call succeeds.</returns>
    Task<FirehosePutRecordBatchResponse> PutRecordBatchAsync(FirehosePutRecordBatchRequest request, CancellationToken cancellationToken);
}

/// <summary>The request of <see cref="IFirehoseClient.PutRecordBatchAsync"/>.</summary>
public sealed class FirehosePutRecordBatchRequest
{
    /// <summary>Gets the delivery stream name (1 to 64 characters of <c>[a-zA-Z0-9_.-]</c>).</summary>
    public required string DeliveryStreamName { get; init; }

    /// <summary>Gets the records' data, 1 to 500, each at most 1,000 KiB before base64. Firehose adds no delimiter.</summary>
    public required IReadOnlyList<ReadOnlyMemory<byte>> Records { get; init; }
}

/// <summary>The result for one record of a <see cref="FirehosePutRecordBatchRequest"/>.</summary>
/// <param name="RecordId">The id Firehose gave the record, on success.</param>
/// <param name="ErrorCode"><c>ServiceUnavailableException</c> or <c>InternalFailure</c> on failure (both retryable); <see langword="null"/> on success.</param>
/// <param name="ErrorMessage">The explanation of the failure.</param>
public readonly record struct FirehosePutRecordBatchEntryResult(string? RecordId, string? ErrorCode, string? ErrorMessage)
{
    /// <summary>Gets a value indicating whether the record was accepted.</summary>
    public bool IsSuccess => ErrorCode is null;
}

/// <summary>The response of <see cref="IFirehoseClient.PutRecordBatchAsync"/>.</summary>
/// <param name="FailedPutCount">How many records failed.</param>
/// <param name="Encrypted">Whether server-side encryption was used, when the service says.</param>
/// <param name="RequestResponses">One result per request record, in request order.</param>
public sealed record FirehosePutRecordBatchResponse(int FailedPutCount, bool? Encrypted, IReadOnlyList<FirehosePutRecordBatchEntryResult> RequestResponses);
