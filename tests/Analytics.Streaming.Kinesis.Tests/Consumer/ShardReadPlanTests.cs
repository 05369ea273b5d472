namespace Analytics.Streaming.Kinesis.Tests.Consumer;

public sealed class ShardReadPlanTests
{
    private static readonly KinesisShard Shard = new()
    {
        ShardId = "shardId-000000000002",
        HashKeyRange = KinesisHashKeyRange.All,
        SequenceNumberRange = new KinesisSequenceNumberRange("100", "200"),
    };

    [Fact]
    public void Choose_WithCheckpoint_StartsAtCheckpointAndFiltersUpToIt()
    {
        var saved = new StreamPosition(Shard.ShardId, SequenceNumber.FromInt64(150), 3);

        var plan = ShardReadPlan.Choose(Shard, saved, Options(KinesisStartingPosition.Latest), useInitialPosition: true);

        Assert.Equal(KinesisStartingPosition.AtSequenceNumber("150"), plan.StartingPosition);
        Assert.Equal(saved, plan.ResumeAfter);
    }

    [Fact]
    public void Choose_ShardOverride_WinsOverInitialPosition()
    {
        var options = Options(KinesisStartingPosition.TrimHorizon);
        options.ShardStartingPositions[Shard.ShardId] = KinesisStartingPosition.AfterSequenceNumber("120");

        var plan = ShardReadPlan.Choose(Shard, null, options, useInitialPosition: true);

        Assert.Equal(KinesisStartingPosition.AfterSequenceNumber("120"), plan.StartingPosition);
        Assert.Null(plan.ResumeAfter);
    }

    [Fact]
    public void Choose_LatestForShardReadyAtStart_StartsAtLatest()
    {
        var plan = ShardReadPlan.Choose(Shard, null, Options(KinesisStartingPosition.Latest), useInitialPosition: true);

        Assert.Equal(KinesisStartingPositionType.Latest, plan.StartingPosition.Type);
    }

    [Fact]
    public void Choose_LatestForChildFoundLater_StartsAtTrimHorizon()
    {
        var plan = ShardReadPlan.Choose(Shard, null, Options(KinesisStartingPosition.Latest), useInitialPosition: false);

        Assert.Equal(KinesisStartingPositionType.TrimHorizon, plan.StartingPosition.Type);
    }

    [Fact]
    public void Choose_AtTimestamp_AppliesToChildrenToo()
    {
        var time = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

        var plan = ShardReadPlan.Choose(Shard, null, Options(KinesisStartingPosition.AtTimestamp(time)), useInitialPosition: false);

        Assert.Equal(KinesisStartingPosition.AtTimestamp(time), plan.StartingPosition);
    }

    [Fact]
    public void EndOfShardFallback_NoCheckpoint_IsEndingSequenceNumber()
    {
        var plan = ShardReadPlan.Choose(Shard, null, Options(KinesisStartingPosition.TrimHorizon), useInitialPosition: true);

        Assert.Equal(new StreamPosition(Shard.ShardId, SequenceNumber.FromInt64(200)), plan.EndOfShardFallback);
    }

    private static KinesisConsumerOptions Options(KinesisStartingPosition initial) => new() { StreamName = "s", InitialPosition = initial };
}
