namespace Analytics.Streaming.DynamoDB;

/// <summary>One shard a <see cref="KinesisLeaseWorker"/> holds the lease of: what its pipeline reads and where it checkpoints.</summary>
public sealed class LeasedShard
{
    internal LeasedShard(string shardId, IEventSource<RawRecord> source, ICheckpointStore? checkpointStore)
    {
        ShardId = shardId;
        Source = source;
        CheckpointStore = checkpointStore;
    }

    /// <summary>Gets the shard id: set it as the pipeline's <see cref="StreamPipelineOptions.Partition"/>.</summary>
    public string ShardId { get; }

    /// <summary>Gets the shard's records: a Kinesis consumer that reads this shard while the lease is held and ends at the shard's end.</summary>
    public IEventSource<RawRecord> Source { get; }

    /// <summary>
    /// Gets the store to set as the pipeline's <see cref="StreamPipelineOptions.CheckpointStore"/>: the worker's store,
    /// fenced by the lease (a save after the lease is lost throws <see cref="LeaseLostException"/>) and mirrored into the
    /// lease's <c>checkpoint</c>. <see langword="null"/> when the worker has no store.
    /// </summary>
    public ICheckpointStore? CheckpointStore { get; }
}
