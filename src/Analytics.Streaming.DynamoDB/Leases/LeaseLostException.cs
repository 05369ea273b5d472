namespace Analytics.Streaming.DynamoDB;

/// <summary>This worker no longer holds the lease of a shard: another worker took it, or renewals failed for the failover time.</summary>
public sealed class LeaseLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LeaseLostException()
        : this("The lease is no longer held by this worker.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public LeaseLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a shard.</summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="workerId">The worker.</param>
    /// <param name="reason">Why.</param>
    internal LeaseLostException(string shardId, string workerId, string reason)
        : base($"Worker {workerId} no longer holds the lease of shard {shardId}: {reason}.")
    {
        ShardId = shardId;
    }

    /// <summary>Creates the exception for a shard, with the cause.</summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="workerId">The worker.</param>
    /// <param name="reason">Why.</param>
    /// <param name="innerException">The cause.</param>
    internal LeaseLostException(string shardId, string workerId, string reason, Exception innerException)
        : base($"Worker {workerId} no longer holds the lease of shard {shardId}: {reason}.", innerException)
    {
        ShardId = shardId;
    }

    /// <summary>Gets the shard whose lease was lost, when known.</summary>
    public string? ShardId { get; }
}
