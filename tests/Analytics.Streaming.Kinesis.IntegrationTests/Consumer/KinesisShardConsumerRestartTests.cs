using System.Text;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerRestartTests(KinesaliteServer kinesalite)
{
    [Fact]
    public async Task ReadBatchesAsync_RestartedFromRecordedPositionsAcrossASplit_NoRecordLostOrRepeated()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-restart");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        var expected = await WriteAsync(stream, 0, 100, ct);
        await kinesalite.Admin.SplitShardInHalfAsync(stream, "shardId-000000000000", ct);
        expected.AddRange(await WriteAsync(stream, 100, 100, ct));
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var options = ConsumerTestKit.FastOptions(stream);
        options.MaxRecordsPerCall = 20;
        var progress = new ShardProgress();

        // The first run stops in the middle of the parent shard, after recording what it received.
        var first = await ConsumerTestKit.ReadAsync(new KinesisShardConsumer(client, options), progress, 50, TimeSpan.FromSeconds(30), TimeSpan.Zero);

        // The second consumer resumes from those positions, as a restarted pipeline hands them over.
        int remaining = expected.Count - ConsumerTestKit.Flatten(first).Count;
        var second = await ConsumerTestKit.ReadAsync(new KinesisShardConsumer(client, options), progress.Restart(), remaining, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));

        var firstRun = ConsumerTestKit.Flatten(first);
        Assert.InRange(firstRun.Count, 50, 99);
        Assert.All(firstRun, r => Assert.Equal("shardId-000000000000", r.Shard));
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(firstRun.Concat(ConsumerTestKit.Flatten(second)), expected);
    }

    [Fact]
    public async Task ReadBatchesAsync_StartAtLatestAfterSplit_SkipsClosedParentAndReadsNewRecordsFromChildren()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("consume-latest-split");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, ct);
        await WriteAsync(stream, 0, 20, ct);
        await kinesalite.Admin.SplitShardInHalfAsync(stream, "shardId-000000000000", ct);
        using var client = ConsumerTestKit.CreateClient(kinesalite.Endpoint);
        var store = new ShardProgress();
        var options = ConsumerTestKit.FastOptions(stream);
        options.InitialPosition = KinesisStartingPosition.Latest;
        var consumer = new KinesisShardConsumer(client, options);
        var seenShards = new HashSet<string>();
        List<string>? expected = null;

        // Write once both children have answered a first (empty) read, so their LATEST iterators exist.
        var batches = await ConsumerTestKit.ReadAsync(consumer, store, 40, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(400), async _ =>
        {
            if (expected is null && seenShards.Count == 2)
            {
                expected = await WriteAsync(stream, 100, 40, ct);
            }
        }, batch => seenShards.Add(batch.PartitionId));

        Assert.DoesNotContain(batches, b => b.PartitionId == "shardId-000000000000");
        ConsumerTestKit.AssertExactlyOnceInKeyOrder(ConsumerTestKit.Flatten(batches), expected!);
    }

    private async Task<List<string>> WriteAsync(string stream, int first, int count, CancellationToken ct)
    {
        var payloads = new List<string>();
        var records = new List<(string, byte[])>();
        for (int i = first; i < first + count; i++)
        {
            string key = $"key-{i % 9}";
            var payload = ConsumerTestKit.Payload(key, i);
            payloads.Add(Encoding.UTF8.GetString(payload));
            records.Add((key, payload));
        }

        await kinesalite.Admin.PutRecordsAsync(stream, records, ct);
        return payloads;
    }
}
