using System.Text;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerFanOutTests(KinesisLocalServer kinesisLocal)
{
    [Fact]
    public async Task ReadBatchesAsync_EnhancedFanOutAcrossASplit_EveryRecordOnceAndParentBeforeChildren()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-efo");
        await kinesisLocal.Admin.CreateStreamAsync(stream, 2, ct);
        var expected = await WriteAsync(stream, 0, ct);
        await kinesisLocal.Admin.SplitShardInHalfAsync(stream, "shardId-000000000000", ct);
        expected.AddRange(await WriteAsync(stream, 10, ct));
        using var client = ConsumerTestKit.CreateClient(kinesisLocal.Endpoint);
        var store = new ShardProgress();
        var options = ConsumerTestKit.FastOptions(stream);
        options.EnhancedFanOutConsumerName = "consumer-tests";
        var consumer = new KinesisShardConsumer(client, options);

        var batches = await ConsumerTestKit.ReadAsync(consumer, store, expected.Count, TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(500));

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

    private async Task<List<string>> WriteAsync(string stream, int firstIndex, CancellationToken ct)
    {
        var payloads = new List<string>();
        var records = new List<(string, byte[])>();
        for (int i = firstIndex; i < firstIndex + 10; i++)
        {
            for (int k = 0; k < 20; k++)
            {
                string key = $"key-{k:D2}";
                var payload = ConsumerTestKit.Payload(key, i);
                payloads.Add(Encoding.UTF8.GetString(payload));
                records.Add((key, payload));
            }
        }

        await kinesisLocal.Admin.PutRecordsAsync(stream, records, ct);
        return payloads;
    }
}
