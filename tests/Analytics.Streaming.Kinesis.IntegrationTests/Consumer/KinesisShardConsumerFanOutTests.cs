using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerFanOutTests(KinesisLocalServer kinesisLocal)
{
    [Fact]
    public async Task ReadBatchesAsync_EnhancedFanOutAcrossASplit_EveryRecordOnceAndParentBeforeChildren()
    {
        using var scenario = await ConsumerScenario.OnKinesisLocalAsync(kinesisLocal, "consume-efo", 2);
        var expected = await scenario.WriteAsync(keys: 20, perKey: 10);
        await kinesisLocal.Admin.SplitShardInHalfAsync(scenario.Stream, "shardId-000000000000", TestContext.Current.CancellationToken);
        expected.AddRange(await scenario.WriteAsync(keys: 20, perKey: 10, firstIndex: 10));
        scenario.Options.EnhancedFanOutConsumerName = "consumer-tests";

        var batches = await scenario.ReadAsync(expected.Count, TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(500));

        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected);
        int parentEnd = batches.FindIndex(b => b.PartitionId == "shardId-000000000000" && b.IsEndOfPartition);
        Assert.True(parentEnd >= 0, "The split parent was not read to its end.");
        foreach (string child in new[] { "shardId-000000000002", "shardId-000000000003" })
        {
            int first = batches.FindIndex(b => b.PartitionId == child && b.Records.Length > 0);
            Assert.True(first > parentEnd, $"{child} was read before its parent ended.");
        }

        Assert.Contains(batches, b => b.BehindLatest is not null);
    }
}
