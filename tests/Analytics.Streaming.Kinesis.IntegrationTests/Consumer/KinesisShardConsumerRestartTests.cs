using Analytics.Streaming.Kinesis.Tests.Support;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerRestartTests(KinesaliteServer kinesalite)
{
    [Fact]
    public async Task ReadBatchesAsync_RestartedFromRecordedPositionsAcrossASplit_NoRecordLostOrRepeated()
    {
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-restart", 1);
        var expected = await scenario.WriteAsync(keys: 10, perKey: 10);
        await kinesalite.Admin.SplitShardInHalfAsync(scenario.Stream, "shardId-000000000000", TestContext.Current.CancellationToken);
        expected.AddRange(await scenario.WriteAsync(keys: 10, perKey: 10, firstIndex: 10));
        scenario.Options.MaxRecordsPerCall = 20;

        // The first run stops in the middle of the parent shard, after recording what it received.
        var first = await scenario.ReadAsync(50, TimeSpan.FromSeconds(30), TimeSpan.Zero);

        // The second consumer resumes from those positions, as a restarted pipeline hands them over.
        int remaining = expected.Count - ConsumerTestKit.Flatten(first).Count;
        scenario.Progress.Restart();
        var second = await scenario.ReadAsync(remaining, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));

        var firstRun = ConsumerTestKit.Flatten(first);
        Assert.InRange(firstRun.Count, 50, 99);
        Assert.All(firstRun, r => Assert.Equal("shardId-000000000000", r.Shard));
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(firstRun.Concat(ConsumerTestKit.Flatten(second)), expected);
    }

    [Fact]
    public async Task ReadBatchesAsync_StartAtLatestAfterSplit_SkipsClosedParentAndReadsNewRecordsFromChildren()
    {
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-latest-split", 1);
        await scenario.WriteAsync(keys: 10, perKey: 2);
        await kinesalite.Admin.SplitShardInHalfAsync(scenario.Stream, "shardId-000000000000", TestContext.Current.CancellationToken);
        scenario.Options.InitialPosition = KinesisStartingPosition.Latest;
        var seenShards = new HashSet<string>();
        List<string>? expected = null;

        // Write once both children have answered a first (empty) read, so their LATEST iterators exist.
        var batches = await scenario.ReadAsync(40, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(400), async _ =>
        {
            if (expected is null && seenShards.Count == 2)
            {
                expected = await scenario.WriteAsync(keys: 10, perKey: 4, firstIndex: 100);
            }
        }, batch => seenShards.Add(batch.PartitionId));

        Assert.DoesNotContain(batches, b => b.PartitionId == "shardId-000000000000");
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected!);
    }

    [Fact]
    public async Task ReadBatchesAsync_RestartedAtLatestAfterTheParentFinished_ReadsWhatTheChildrenGotWhileStopped()
    {
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-latest-restart", 1);
        await scenario.WriteAsync(keys: 5, perKey: 2);
        const string parent = "shardId-000000000000";
        await kinesalite.Admin.SplitShardInHalfAsync(scenario.Stream, parent, TestContext.Current.CancellationToken);
        string[] children = [.. (await kinesalite.Admin.ListShardsAsync(scenario.Stream, TestContext.Current.CancellationToken)).Where(s => s.ParentShardId == parent).Select(s => s.ShardId)];
        var expected = await scenario.WriteAsync(keys: 10, perKey: 3, firstIndex: 100);
        scenario.Options.InitialPosition = KinesisStartingPosition.Latest;

        // The stopped run had read the parent to its end and started its children, which had no record yet: its
        // checkpoint has the parent finished and the children without a position.
        var progress = new ShardProgress([
            PartitionCheckpoint.Create(parent, new StreamPosition(parent, SequenceNumber.FromInt64(1)), isFinished: true),
            .. children.Select(c => PartitionCheckpoint.Create(c, null))]);
        var batches = await ConsumerTestKit.ReadAsync(scenario.Consumer(), progress, expected.Count, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(400));

        Assert.DoesNotContain(batches, b => b.PartitionId == parent);
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected);
    }

    [Fact]
    public async Task ReadBatchesAsync_ShardTakenAwayAndGivenBack_ResumesAfterWhatItHandedOn()
    {
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-reassigned", 1);
        var expected = await scenario.WriteAsync(keys: 4, perKey: 5);
        var logs = new CapturingLoggerFactory();
        scenario.Options.LoggerFactory = logs;
        var assignment = new ToggledAssignment();
        bool givenBack = false;

        var batches = await ConsumerTestKit.ReadAsync(new KinesisShardConsumer(scenario.Client, scenario.Options, assignment), scenario.Progress, 40, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500), async seen =>
        {
            if (seen >= 20 && !givenBack)
            {
                givenBack = true;
                assignment.Set(false);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
                wait.CancelAfter(TimeSpan.FromSeconds(20));
                while (!logs.Entries.Any(e => e.EventId.Name == "ShardRevoked"))
                {
                    await Task.Delay(20, wait.Token);
                }

                expected.AddRange(await scenario.WriteAsync(keys: 4, perKey: 5, firstIndex: 100));
                assignment.Set(true);
            }
        });

        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected);
    }

    /// <summary>Every shard assigned, until the test takes them away and gives them back.</summary>
    private sealed class ToggledAssignment : IShardAssignment
    {
        private volatile bool _assigned = true;

        public event EventHandler? Changed;

        public bool EndsWithShards => false;

        public ShardAssignmentState GetShard(string shardId) => new(_assigned, IsFinished: false);

        public void Set(bool assigned)
        {
            _assigned = assigned;
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }
}
