using System.Text;
using System.Text.Json.Nodes;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerPagingTests(KinesisLocalServer kinesisLocal)
{
    [Fact]
    public async Task ReadBatchesAsync_ShardListInPagesOfTwo_ReadsEveryShard()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-paging");
        await kinesisLocal.Admin.CreateStreamAsync(stream, 5, ct);
        var records = Enumerable.Range(0, 100).Select(i => ($"key-{i}", ConsumerTestKit.Payload($"key-{i}", i))).ToList();
        await kinesisLocal.Admin.PutRecordsAsync(stream, records, ct);

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
        using var client = ConsumerTestKit.CreateClient(kinesisLocal.Endpoint, handler);
        var store = new ShardProgress();

        var batches = await ConsumerTestKit.ReadAsync(new KinesisShardConsumer(client, ConsumerTestKit.FastOptions(stream)), store, 100, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(300));

        var read = ConsumerTestKit.Flatten(batches);
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(read, records.Select(r => Encoding.UTF8.GetString(r.Item2)).ToList());
        Assert.Equal(5, read.Select(r => r.Shard).Distinct().Count());
        var firstListing = handler.Log.TakeWhile(e => e.Operation != "GetShardIterator").Count(e => e.Operation == "ListShards");
        Assert.Equal(3, firstListing);
    }
}
