namespace Analytics.Streaming.Kinesis;

/// <summary>Where a shard read starts: the shard iterator types of <c>GetShardIterator</c> and <c>SubscribeToShard</c>.</summary>
public enum KinesisStartingPositionType
{
    /// <summary>The oldest record still in the shard.</summary>
    TrimHorizon,

    /// <summary>Just after the newest record: only records written from now on.</summary>
    Latest,

    /// <summary>The record with <see cref="KinesisStartingPosition.SequenceNumber"/>.</summary>
    AtSequenceNumber,

    /// <summary>The record right after <see cref="KinesisStartingPosition.SequenceNumber"/>.</summary>
    AfterSequenceNumber,

    /// <summary>The first record that arrived at or after <see cref="KinesisStartingPosition.Timestamp"/>.</summary>
    AtTimestamp,
}

/// <summary>A starting position in a shard. Create one with the static factory members.</summary>
/// <param name="Type">The kind of position.</param>
/// <param name="SequenceNumber">The sequence number for the <c>At/AfterSequenceNumber</c> kinds.</param>
/// <param name="Timestamp">The arrival time for <see cref="KinesisStartingPositionType.AtTimestamp"/>.</param>
public readonly record struct KinesisStartingPosition(KinesisStartingPositionType Type, string? SequenceNumber = null, DateTimeOffset? Timestamp = null)
{
    /// <summary>Gets the position of the oldest record still in the shard.</summary>
    public static KinesisStartingPosition TrimHorizon => new(KinesisStartingPositionType.TrimHorizon);

    /// <summary>Gets the position just after the newest record.</summary>
    public static KinesisStartingPosition Latest => new(KinesisStartingPositionType.Latest);

    /// <summary>Returns the position of the record with <paramref name="sequenceNumber"/>.</summary>
    /// <param name="sequenceNumber">The sequence number (decimal text).</param>
    /// <returns>The position.</returns>
    public static KinesisStartingPosition AtSequenceNumber(string sequenceNumber)
    {
        ArgumentException.ThrowIfNullOrEmpty(sequenceNumber);
        return new(KinesisStartingPositionType.AtSequenceNumber, sequenceNumber);
    }

    /// <summary>Returns the position right after the record with <paramref name="sequenceNumber"/>.</summary>
    /// <param name="sequenceNumber">The sequence number (decimal text).</param>
    /// <returns>The position.</returns>
    public static KinesisStartingPosition AfterSequenceNumber(string sequenceNumber)
    {
        ArgumentException.ThrowIfNullOrEmpty(sequenceNumber);
        return new(KinesisStartingPositionType.AfterSequenceNumber, sequenceNumber);
    }

    /// <summary>Returns the position of the first record that arrived at or after <paramref name="timestamp"/>.</summary>
    /// <param name="timestamp">The arrival time (millisecond precision on the wire).</param>
    /// <returns>The position.</returns>
    public static KinesisStartingPosition AtTimestamp(DateTimeOffset timestamp) => new(KinesisStartingPositionType.AtTimestamp, null, timestamp);

    /// <summary>Returns the position as the service names it, such as <c>AFTER_SEQUENCE_NUMBER 4959...</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Type switch
    {
        KinesisStartingPositionType.TrimHorizon => "TRIM_HORIZON",
        KinesisStartingPositionType.Latest => "LATEST",
        KinesisStartingPositionType.AtSequenceNumber => "AT_SEQUENCE_NUMBER " + SequenceNumber,
        KinesisStartingPositionType.AfterSequenceNumber => "AFTER_SEQUENCE_NUMBER " + SequenceNumber,
        KinesisStartingPositionType.AtTimestamp => "AT_TIMESTAMP " + Timestamp?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        _ => Type.ToString(),
    };
}

/// <summary>The request of <see cref="IKinesisClient.GetShardIteratorAsync"/>.</summary>
public sealed class KinesisGetShardIteratorRequest : KinesisStreamRequest
{
    /// <summary>Gets the shard to read.</summary>
    public required string ShardId { get; init; }

    /// <summary>Gets where to start.</summary>
    public required KinesisStartingPosition StartingPosition { get; init; }
}

/// <summary>The response of <see cref="IKinesisClient.GetShardIteratorAsync"/>.</summary>
/// <param name="ShardIterator">The opaque iterator, valid for 5 minutes.</param>
public sealed record KinesisGetShardIteratorResponse(string ShardIterator);

/// <summary>The request of <see cref="IKinesisClient.GetRecordsAsync"/>.</summary>
public sealed class KinesisGetRecordsRequest
{
    /// <summary>Gets the shard iterator.</summary>
    public required string ShardIterator { get; init; }

    /// <summary>Gets the maximum number of records (1 to 10000); <see langword="null"/> for the service default, 10000.</summary>
    public int? Limit { get; init; }

    /// <summary>Gets the stream ARN (optional; recommended by the service).</summary>
    public string? StreamArn { get; init; }
}

/// <summary>A record as Kinesis stores it (for KPL aggregates: the outer record).</summary>
/// <remarks>
/// <see cref="Data"/> may be a slice of a buffer shared with the other records of the same response; it stays
/// valid as long as the record is referenced (it is never returned to a pool).
/// </remarks>
public sealed class KinesisRecord
{
    /// <summary>Gets the sequence number inside the shard.</summary>
    public required SequenceNumber SequenceNumber { get; init; }

    /// <summary>Gets the payload bytes (base64-decoded).</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Gets the partition key.</summary>
    public required string PartitionKey { get; init; }

    /// <summary>Gets when the service accepted the record (millisecond precision), when known.</summary>
    public DateTimeOffset? ApproximateArrivalTimestamp { get; init; }

    /// <summary>Gets the encryption type, <c>NONE</c> or <c>KMS</c>, when the service says.</summary>
    public string? EncryptionType { get; init; }
}

/// <summary>A child shard reported at the end of a closed parent.</summary>
/// <param name="ShardId">The child's shard id.</param>
/// <param name="ParentShards">Its parents (one for a split, two for a merge).</param>
/// <param name="HashKeyRange">The hash keys it owns.</param>
public sealed record KinesisChildShard(string ShardId, IReadOnlyList<string> ParentShards, KinesisHashKeyRange HashKeyRange);

/// <summary>The response of <see cref="IKinesisClient.GetRecordsAsync"/>.</summary>
public sealed class KinesisGetRecordsResponse
{
    /// <summary>Gets the records, in shard order; may be empty even when more records follow.</summary>
    public required IReadOnlyList<KinesisRecord> Records { get; init; }

    /// <summary>Gets the iterator for the next call; <see langword="null"/> only at the end of a closed shard.</summary>
    public string? NextShardIterator { get; init; }

    /// <summary>Gets how far the iterator is behind the newest record of the shard (zero when caught up), when the service says.</summary>
    public TimeSpan? BehindLatest { get; init; }

    /// <summary>Gets the children of a closed shard, present only in the response that reaches its end.</summary>
    public IReadOnlyList<KinesisChildShard>? ChildShards { get; init; }

    /// <summary>Gets a value indicating whether the shard has been read to its end (no next iterator).</summary>
    public bool IsEndOfShard => NextShardIterator is null;
}
