namespace Analytics.Streaming.Kinesis;

/// <summary>The request of <see cref="IKinesisClient.PutRecordAsync"/>.</summary>
public sealed class KinesisPutRecordRequest : KinesisStreamRequest
{
    /// <summary>Gets the payload (raw bytes; the client base64-encodes them).</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Gets the partition key (1 to 256 characters); its MD5 hash picks the shard unless <see cref="ExplicitHashKey"/> is set.</summary>
    public required string PartitionKey { get; init; }

    /// <summary>Gets the explicit hash key (decimal, 0 to 2^128-1) that overrides the partition key's hash; optional.</summary>
    public string? ExplicitHashKey { get; init; }

    /// <summary>
    /// Gets the sequence number of the previous record written with the same partition key by this producer, to
    /// get strictly increasing sequence numbers for that key; optional.
    /// </summary>
    public string? SequenceNumberForOrdering { get; init; }
}

/// <summary>The response of <see cref="IKinesisClient.PutRecordAsync"/>.</summary>
/// <param name="ShardId">The shard the record went to.</param>
/// <param name="SequenceNumber">The record's sequence number (decimal text).</param>
/// <param name="EncryptionType"><c>NONE</c> or <c>KMS</c>; <see langword="null"/> when the service did not say.</param>
public sealed record KinesisPutRecordResponse(string ShardId, string SequenceNumber, string? EncryptionType);

/// <summary>One record of a <see cref="KinesisPutRecordsRequest"/>.</summary>
/// <param name="Data">The payload (raw bytes; base64-encoded on the wire).</param>
/// <param name="PartitionKey">The partition key (1 to 256 characters).</param>
/// <param name="ExplicitHashKey">The explicit hash key (decimal), or <see langword="null"/> to hash the partition key.</param>
public readonly record struct KinesisPutRecordsEntry(ReadOnlyMemory<byte> Data, string PartitionKey, string? ExplicitHashKey = null);

/// <summary>The request of <see cref="IKinesisClient.PutRecordsAsync"/>.</summary>
public sealed class KinesisPutRecordsRequest : KinesisStreamRequest
{
    /// <summary>Gets the records, 1 to 500, at most 5 MiB of data and partition keys together.</summary>
    public required IReadOnlyList<KinesisPutRecordsEntry> Records { get; init; }
}

/// <summary>The result for one entry of a <see cref="KinesisPutRecordsRequest"/>.</summary>
/// <param name="SequenceNumber">The sequence number when the entry was written; otherwise <see langword="null"/>.</param>
/// <param name="ShardId">The shard when the entry was written; otherwise <see langword="null"/>.</param>
/// <param name="ErrorCode">
/// <c>ProvisionedThroughputExceededException</c> or <c>InternalFailure</c> when the entry failed (both retryable);
/// <see langword="null"/> on success.
/// </param>
/// <param name="ErrorMessage">The service's explanation of the failure; <see langword="null"/> on success.</param>
public readonly record struct KinesisPutRecordsEntryResult(string? SequenceNumber, string? ShardId, string? ErrorCode, string? ErrorMessage)
{
    /// <summary>Gets a value indicating whether the entry was written.</summary>
    public bool IsSuccess => ErrorCode is null;
}

/// <summary>The response of <see cref="IKinesisClient.PutRecordsAsync"/>.</summary>
/// <param name="FailedRecordCount">How many entries failed (0 when the service omitted the member).</param>
/// <param name="Records">One result per request entry, in request order.</param>
/// <param name="EncryptionType"><c>NONE</c> or <c>KMS</c>; <see langword="null"/> when the service did not say.</param>
public sealed record KinesisPutRecordsResponse(int FailedRecordCount, IReadOnlyList<KinesisPutRecordsEntryResult> Records, string? EncryptionType);
