namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Decides which shards of a stream a <see cref="KinesisShardConsumer"/> may read, for consumers that share a stream
/// (a lease coordinator, such as the DynamoDB package's KCL-compatible one): the consumer reads only the shards it is
/// assigned, stops a shard's reader when the shard is taken away, and learns where a shard it has no checkpoint for
/// resumes.
/// </summary>
/// <remarks>
/// <para>
/// The consumer asks <see cref="GetShard"/> for every listed shard whenever it looks at its shards: after each listing,
/// every <see cref="KinesisConsumerOptions.ParentCheckpointPollInterval"/>, and at once when <see cref="Changed"/> is
/// raised. A position in the pipeline's <see cref="SourceContext"/> always wins over the assignment's.
/// </para>
/// <para>Implementations are thread-safe: the consumer calls them from its coordinating task while others change them.</para>
/// </remarks>
public interface IShardAssignment
{
    /// <summary>Raised when the set of assigned shards changes (a shard taken or lost), so the consumer reacts without waiting for its next poll.</summary>
    event EventHandler? Changed;

    /// <summary>
    /// Gets a value indicating whether the consumer's enumeration ends once every shard it read has reached its end and
    /// no other assigned shard is left to read: for a pipeline per shard, whose source must end with its shard so
    /// that its windows close. <see langword="false"/>: the enumeration runs until cancelled, as without an assignment.
    /// </summary>
    bool EndsWithShards { get; }

    /// <summary>Tells whether the consumer may read a shard now, and where it starts when the pipeline has no checkpoint for it.</summary>
    /// <param name="shardId">The shard.</param>
    /// <returns>The shard's state in the assignment.</returns>
    ShardAssignmentState GetShard(string shardId);
}

/// <summary>What an <see cref="IShardAssignment"/> says about one shard.</summary>
/// <param name="IsAssigned">Whether this consumer may read the shard now.</param>
/// <param name="IsFinished">
/// Whether the shard was read to its end and that end checkpointed, by this consumer or another one: it is not read,
/// and its children may start.
/// </param>
/// <param name="ResumeAfter">The shared checkpoint to resume after when the pipeline's context has none; <see langword="null"/> when there is none.</param>
/// <param name="StartingPosition">
/// Where to start when there is no checkpoint at all (the lease's <c>TRIM_HORIZON</c>, <c>LATEST</c> or <c>AT_TIMESTAMP</c>);
/// <see langword="null"/> to use the consumer's own starting rules.
/// </param>
public readonly record struct ShardAssignmentState(bool IsAssigned, bool IsFinished, StreamPosition? ResumeAfter = null, KinesisStartingPosition? StartingPosition = null)
{
    /// <summary>Gets the state of a shard that is not assigned and not finished.</summary>
    public static ShardAssignmentState NotAssigned => default;
}
