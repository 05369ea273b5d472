namespace Analytics.Streaming.Kinesis;

/// <summary>The request of <see cref="IKinesisClient.RegisterStreamConsumerAsync"/>.</summary>
public sealed class KinesisRegisterStreamConsumerRequest
{
    /// <summary>Gets the ARN of the stream.</summary>
    public required string StreamArn { get; init; }

    /// <summary>Gets the consumer name, unique per stream.</summary>
    public required string ConsumerName { get; init; }
}

/// <summary>
/// The request of <see cref="IKinesisClient.DescribeStreamConsumerAsync"/> and
/// <see cref="IKinesisClient.DeregisterStreamConsumerAsync"/>: a consumer ARN, or a stream ARN and consumer name.
/// </summary>
public sealed class KinesisDescribeStreamConsumerRequest
{
    /// <summary>Gets the consumer ARN; when <see langword="null"/>, <see cref="StreamArn"/> and <see cref="ConsumerName"/> are needed.</summary>
    public string? ConsumerArn { get; init; }

    /// <summary>Gets the stream ARN.</summary>
    public string? StreamArn { get; init; }

    /// <summary>Gets the consumer name.</summary>
    public string? ConsumerName { get; init; }
}

/// <summary>An enhanced fan-out consumer.</summary>
/// <param name="ConsumerName">Its name.</param>
/// <param name="ConsumerArn">Its ARN, used to subscribe.</param>
/// <param name="ConsumerStatus"><c>CREATING</c>, <c>DELETING</c> or <c>ACTIVE</c>.</param>
/// <param name="ConsumerCreationTimestamp">When it was registered, when the service says.</param>
/// <param name="StreamArn">The stream it reads, when the service says.</param>
public sealed record KinesisRegisteredConsumer(
    string ConsumerName,
    string ConsumerArn,
    string ConsumerStatus,
    DateTimeOffset? ConsumerCreationTimestamp,
    string? StreamArn)
{
    /// <summary>Gets a value indicating whether the consumer can subscribe (status <c>ACTIVE</c>).</summary>
    public bool IsActive => ConsumerStatus == "ACTIVE";
}

/// <summary>The request of <see cref="IKinesisClient.SubscribeToShardAsync"/>.</summary>
public sealed class KinesisSubscribeToShardRequest
{
    /// <summary>Gets the ARN of an <c>ACTIVE</c> consumer.</summary>
    public required string ConsumerArn { get; init; }

    /// <summary>Gets the shard.</summary>
    public required string ShardId { get; init; }

    /// <summary>Gets where to start.</summary>
    public required KinesisStartingPosition StartingPosition { get; init; }
}

/// <summary>One <c>SubscribeToShardEvent</c> of an enhanced fan-out subscription.</summary>
public sealed class KinesisSubscribeToShardEvent
{
    /// <summary>Gets the records, in shard order; may be empty (a heartbeat).</summary>
    public required IReadOnlyList<KinesisRecord> Records { get; init; }

    /// <summary>
    /// Gets the sequence number to continue from with <see cref="KinesisStartingPositionType.AfterSequenceNumber"/> in the
    /// next subscription; <see langword="null"/> at the end of a closed shard.
    /// </summary>
    public string? ContinuationSequenceNumber { get; init; }

    /// <summary>Gets how far the subscription is behind the newest record of the shard, when the service says.</summary>
    public TimeSpan? BehindLatest { get; init; }

    /// <summary>Gets the children of a closed shard, present when the subscription reached its end.</summary>
    public IReadOnlyList<KinesisChildShard>? ChildShards { get; init; }
}
