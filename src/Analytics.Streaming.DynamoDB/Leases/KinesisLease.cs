namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// One item of a KCL-compatible lease table: the lease of one shard, as last read or written by this process.
/// </summary>
/// <remarks>
/// Immutable: every change to the table returns a new value. <see cref="LeaseCounter"/> goes up by one on every write
/// (renewal, take, checkpoint, release), which is how workers notice that a lease is alive and how conditional writes
/// detect that someone else wrote first.
/// </remarks>
public sealed record KinesisLease
{
    /// <summary>Gets the lease key: the shard id (<c>leaseKey</c>, the table's hash key).</summary>
    public required string LeaseKey { get; init; }

    /// <summary>Gets the worker that holds the lease (<c>leaseOwner</c>); <see langword="null"/> when nobody does.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>Gets the lease counter (<c>leaseCounter</c>): the lease's version.</summary>
    public long LeaseCounter { get; init; }

    /// <summary>Gets the checkpoint (<c>checkpoint</c>, <c>checkpointSubSequenceNumber</c>).</summary>
    public LeaseCheckpoint Checkpoint { get; init; } = LeaseCheckpoint.TrimHorizon;

    /// <summary>Gets how many times the lease changed hands since the last checkpoint (<c>ownerSwitchesSinceCheckpoint</c>).</summary>
    public long OwnerSwitchesSinceCheckpoint { get; init; }

    /// <summary>Gets the parent shards (<c>parentShardId</c>, a string set): one after a split, two after a merge, none for an original shard.</summary>
    public IReadOnlyList<string> ParentShardIds { get; init; } = [];

    /// <summary>Gets the child shards (<c>childShardIds</c>, a string set), known once the shard is closed by a reshard.</summary>
    public IReadOnlyList<string> ChildShardIds { get; init; } = [];

    /// <summary>Gets the first hash key of the shard (<c>startingHashKey</c>, decimal text); <see langword="null"/> when the lease does not say.</summary>
    public string? StartingHashKey { get; init; }

    /// <summary>Gets the last hash key of the shard (<c>endingHashKey</c>, decimal text); <see langword="null"/> when the lease does not say.</summary>
    public string? EndingHashKey { get; init; }

    /// <summary>Gets a checkpoint a KCL worker prepared but did not complete (<c>pendingCheckpoint</c>); read, never written, and removed by a checkpoint.</summary>
    public LeaseCheckpoint? PendingCheckpoint { get; init; }

    /// <summary>Gets a value indicating whether the shard was read to its end and processed (<c>SHARD_END</c>).</summary>
    public bool IsFinished => Checkpoint.IsShardEnd;
}
