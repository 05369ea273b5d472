namespace Analytics.Streaming.Kinesis;

/// <summary>Where one shard reader starts: the iterator position, and the checkpoint to filter against when resuming.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="StartingPosition">The position for the first iterator or subscription.</param>
/// <param name="ResumeAfter">The checkpoint to resume after (records at or before it are dropped); <see langword="null"/> when starting fresh.</param>
internal sealed record ShardReadPlan(KinesisShard Shard, KinesisStartingPosition StartingPosition, StreamPosition? ResumeAfter)
{
    /// <summary>Gets the position an end-of-shard batch reports when the reader saw no record at all.</summary>
    public StreamPosition EndOfShardFallback =>
        ResumeAfter ?? new StreamPosition(
            Shard.ShardId,
            SequenceNumber.TryParse(Shard.SequenceNumberRange.EndingSequenceNumber ?? Shard.SequenceNumberRange.StartingSequenceNumber, out var end) ? end : SequenceNumber.Zero);

    /// <summary>Chooses the plan for a shard from its checkpoint, the per-shard overrides and the initial position.</summary>
    /// <param name="shard">The shard.</param>
    /// <param name="resumeAfter">The position to resume after, from the pipeline's checkpoint; <see langword="null"/> when the shard has none.</param>
    /// <param name="options">The consumer options.</param>
    /// <param name="useInitialPosition">
    /// Whether the shard may start at <see cref="KinesisConsumerOptions.InitialPosition"/>: true for shards that were
    /// ready when the consumer first listed the stream; shards that became ready later (children of a reshard the
    /// consumer saw) start at the trim horizon unless the initial position is a timestamp.
    /// </param>
    /// <param name="assignedStart">Where a shard assignment (a lease) says the shard starts when there is no checkpoint; it wins over the options.</param>
    /// <returns>The plan.</returns>
    public static ShardReadPlan Choose(KinesisShard shard, StreamPosition? resumeAfter, KinesisConsumerOptions options, bool useInitialPosition, KinesisStartingPosition? assignedStart = null)
    {
        if (resumeAfter is { } saved)
        {
            // KCL 2.x rule: AT the checkpointed sequence number, then drop what is at or before the checkpoint, so a
            // partly processed KPL aggregate resumes with its next user record (AFTER would lose the aggregate's tail).
            return new ShardReadPlan(shard, KinesisStartingPosition.AtSequenceNumber(saved.Sequence.ToString()), saved);
        }

        if (assignedStart is { } assigned)
        {
            return new ShardReadPlan(shard, assigned, null);
        }

        if (options.ShardStartingPositions.TryGetValue(shard.ShardId, out var chosen))
        {
            return new ShardReadPlan(shard, chosen, null);
        }

        var initial = options.InitialPosition;
        if (initial.Type == KinesisStartingPositionType.AtTimestamp || useInitialPosition)
        {
            return new ShardReadPlan(shard, initial, null);
        }

        return new ShardReadPlan(shard, KinesisStartingPosition.TrimHorizon, null);
    }
}
