using System.Globalization;

namespace Analytics.Streaming.Kinesis;

/// <summary>An inclusive range of the 128-bit hash key space owned by a shard.</summary>
/// <param name="StartingHashKey">The first hash key of the range.</param>
/// <param name="EndingHashKey">The last hash key of the range (inclusive).</param>
public readonly record struct KinesisHashKeyRange(UInt128 StartingHashKey, UInt128 EndingHashKey)
{
    /// <summary>Gets the range covering the whole key space, 0 to 2^128-1.</summary>
    public static KinesisHashKeyRange All => new(UInt128.Zero, UInt128.MaxValue);

    /// <summary>Returns whether <paramref name="hashKey"/> falls inside the range.</summary>
    /// <param name="hashKey">The hash key, as computed by <see cref="KinesisHashKey"/>.</param>
    /// <returns><see langword="true"/> when the key is inside the range, bounds included.</returns>
    public bool Contains(UInt128 hashKey) => hashKey >= StartingHashKey && hashKey <= EndingHashKey;

    /// <summary>Returns <c>start..end</c> in decimal.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{StartingHashKey}..{EndingHashKey}");
}

/// <summary>The sequence numbers a shard has used: open shards have no end.</summary>
/// <param name="StartingSequenceNumber">The first sequence number of the shard (decimal text).</param>
/// <param name="EndingSequenceNumber">The last one, present only when the shard is closed.</param>
public readonly record struct KinesisSequenceNumberRange(string StartingSequenceNumber, string? EndingSequenceNumber);

/// <summary>A shard as <c>ListShards</c> describes it.</summary>
public sealed class KinesisShard
{
    /// <summary>Gets the shard id, such as <c>shardId-000000000001</c>.</summary>
    public required string ShardId { get; init; }

    /// <summary>Gets the parent shard (split or merge), or <see langword="null"/> for an original shard.</summary>
    public string? ParentShardId { get; init; }

    /// <summary>Gets the second parent of a merged shard, or <see langword="null"/>.</summary>
    public string? AdjacentParentShardId { get; init; }

    /// <summary>Gets the parents the shard has: none for an original shard, one after a split, two after a merge.</summary>
    public IReadOnlyList<string> ParentShardIds => (ParentShardId, AdjacentParentShardId) switch
    {
        ({ } parent, { } adjacent) => [parent, adjacent],
        ({ } parent, null) => [parent],
        (null, { } adjacent) => [adjacent],
        _ => [],
    };

    /// <summary>Gets the hash keys the shard owns.</summary>
    public KinesisHashKeyRange HashKeyRange { get; init; }

    /// <summary>Gets the sequence numbers the shard has used.</summary>
    public KinesisSequenceNumberRange SequenceNumberRange { get; init; }

    /// <summary>Gets a value indicating whether the shard is closed (it has an ending sequence number and takes no more writes).</summary>
    public bool IsClosed => SequenceNumberRange.EndingSequenceNumber is not null;

    /// <summary>Returns the shard id.</summary>
    public override string ToString() => ShardId;
}

/// <summary>Which shards <c>ListShards</c> returns.</summary>
public enum KinesisShardFilterType
{
    /// <summary>Every shard within the retention period (the service default).</summary>
    FromTrimHorizon,

    /// <summary>Shards that were open at the trim horizon.</summary>
    AtTrimHorizon,

    /// <summary>Only the open shards.</summary>
    AtLatest,

    /// <summary>Shards after <see cref="KinesisShardFilter.ShardId"/>.</summary>
    AfterShardId,

    /// <summary>Shards open at <see cref="KinesisShardFilter.Timestamp"/>.</summary>
    AtTimestamp,

    /// <summary>Shards closed at or after <see cref="KinesisShardFilter.Timestamp"/>, and every open shard.</summary>
    FromTimestamp,
}

/// <summary>A <c>ListShards</c> filter.</summary>
/// <param name="Type">The kind of filter.</param>
/// <param name="ShardId">The shard for <see cref="KinesisShardFilterType.AfterShardId"/>.</param>
/// <param name="Timestamp">The time for <see cref="KinesisShardFilterType.AtTimestamp"/> and <see cref="KinesisShardFilterType.FromTimestamp"/>.</param>
public readonly record struct KinesisShardFilter(KinesisShardFilterType Type, string? ShardId = null, DateTimeOffset? Timestamp = null);

/// <summary>The request of <see cref="IKinesisClient.ListShardsAsync"/>.</summary>
/// <remarks>
/// With <see cref="NextToken"/> the client sends neither the stream nor <see cref="ExclusiveStartShardId"/> nor
/// the filter (the service refuses them together); tokens expire after 300 seconds
/// (<see cref="KinesisErrorCode.ExpiredNextToken"/>).
/// </remarks>
public sealed class KinesisListShardsRequest : KinesisStreamRequest
{
    /// <summary>Gets the paging token of the previous page; <see langword="null"/> for the first page.</summary>
    public string? NextToken { get; init; }

    /// <summary>Gets the shard to list after (exclusive); <see langword="null"/> to start at the beginning.</summary>
    public string? ExclusiveStartShardId { get; init; }

    /// <summary>Gets the page size (1 to 10000; the service returns at most 1000); <see langword="null"/> for the service default.</summary>
    public int? MaxResults { get; init; }

    /// <summary>Gets the filter; <see langword="null"/> for every shard within retention.</summary>
    public KinesisShardFilter? ShardFilter { get; init; }
}

/// <summary>The response of <see cref="IKinesisClient.ListShardsAsync"/>.</summary>
/// <param name="Shards">The shards of this page.</param>
/// <param name="NextToken">The token of the next page, or <see langword="null"/> on the last page.</param>
public sealed record KinesisListShardsResponse(IReadOnlyList<KinesisShard> Shards, string? NextToken);

/// <summary>The request of <see cref="IKinesisClient.DescribeStreamSummaryAsync"/>.</summary>
public sealed class KinesisDescribeStreamSummaryRequest : KinesisStreamRequest;

/// <summary>The response of <see cref="IKinesisClient.DescribeStreamSummaryAsync"/>.</summary>
public sealed class KinesisStreamSummary
{
    /// <summary>Gets the stream name.</summary>
    public required string StreamName { get; init; }

    /// <summary>Gets the stream ARN.</summary>
    public required string StreamArn { get; init; }

    /// <summary>Gets the status: <c>CREATING</c>, <c>DELETING</c>, <c>ACTIVE</c> or <c>UPDATING</c>.</summary>
    public required string StreamStatus { get; init; }

    /// <summary>Gets the capacity mode, <c>PROVISIONED</c> or <c>ON_DEMAND</c>, when the service says.</summary>
    public string? StreamMode { get; init; }

    /// <summary>Gets how long records are kept.</summary>
    public TimeSpan RetentionPeriod { get; init; }

    /// <summary>Gets when the stream was created, when the service says.</summary>
    public DateTimeOffset? StreamCreationTimestamp { get; init; }

    /// <summary>Gets the encryption type, <c>NONE</c> or <c>KMS</c>, when the service says.</summary>
    public string? EncryptionType { get; init; }

    /// <summary>Gets the number of open shards.</summary>
    public int OpenShardCount { get; init; }

    /// <summary>Gets the number of registered enhanced fan-out consumers, when the service says.</summary>
    public int? ConsumerCount { get; init; }

    /// <summary>Gets the largest record the stream accepts in KiB (1024 by default), when the service says.</summary>
    public int? MaxRecordSizeInKiB { get; init; }

    /// <summary>Gets a value indicating whether the stream takes reads and writes (<c>ACTIVE</c> or <c>UPDATING</c>).</summary>
    public bool IsActive => StreamStatus is "ACTIVE" or "UPDATING";
}
