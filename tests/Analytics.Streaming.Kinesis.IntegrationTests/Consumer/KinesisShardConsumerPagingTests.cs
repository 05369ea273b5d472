using System.Text.Json.Nodes;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerPagingTests(KinesisLocalServer kinesisLocal)
{
    [Fact]
    public async Task ReadBatchesAsync_ShardListInPagesOfTwo_ReadsEveryShard()
    {
        // kinesalite ignores MaxResults; kinesis-local pages, so ask it for two shards per page.
        using var handler = new FaultInjectingHandler((_, _) => null, (operation, body) =>
        {
            if (operation != "ListShards")
            {
                return body;
            }

            var json = JsonNode.Parse(body)!.AsObject();
            json["MaxResults"] = 2;
            return json.ToJsonString();
        });
        using var scenario = await ConsumerScenario.OnKinesisLocalAsync(kinesisLocal, "consume-paging", 5, handler);
        var expected = await scenario.WriteAsync(keys: 100, perKey: 1);

        var batches = await scenario.ReadAsync(100, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(300));

        var read = ConsumerTestKit.Flatten(batches);
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(read, expected);
        Assert.Equal(5, read.Select(r => r.Shard).Distinct().Count());
        var firstListing = handler.Log.TakeWhile(e => e.Operation != "GetShardIterator").Count(e => e.Operation == "ListShards");
        Assert.Equal(3, firstListing);
    }
}
