using System.Text;
using System.Text.Json;
using Analytics.Streaming.Lambda.Tests;
using Analytics.Streaming.Testing;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Lambda.IntegrationTests;

public sealed class LocalEventSourceMappingTests(KinesaliteServer kinesalite)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static byte[] Payload(int value) => Encoding.UTF8.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static int Value(KinesisStreamRecord record) => int.Parse(Encoding.UTF8.GetString(record.Kinesis.Data.Span), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task RunUntilCaughtUpAsync_OneRecordAlwaysThrows_BisectsDownToItAndDiscardsItAfterTheRetries()
    {
        string stream = KinesaliteServer.NewStreamName("esm-bisect");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, Token);
        await kinesalite.Admin.PutRecordsAsync(stream, [.. Enumerable.Range(0, 40).Select(i => ("pk", Payload(i)))], Token);
        using var client = Emulator.Client(kinesalite.Endpoint);
        var handled = new List<int>();
        var mapping = LocalEventSourceMapping.ForTypedHandler(
            client,
            new() { StreamName = stream, BatchSize = 40, BisectBatchOnFunctionError = true, MaximumRetryAttempts = 2, PollInterval = TimeSpan.FromMilliseconds(20) },
            (e, _) =>
            {
                if (e.Records.Any(r => Value(r) == 13))
                {
                    throw new InvalidOperationException("poison");
                }

                handled.AddRange(e.Records.Select(Value));
                return Task.FromResult(new KinesisStreamBatchResponse());
            });

        await mapping.RunUntilCaughtUpAsync(Token);

        Assert.Equal(Enumerable.Range(0, 40).Where(i => i != 13), handled);
        var discarded = Assert.Single(mapping.Discarded);
        Assert.Equal((1, "RetryAttemptsExhausted"), (discarded.BatchSize, discarded.Reason));
        Assert.True(mapping.Statistics.Bisections >= 5, $"{mapping.Statistics.Bisections} bisections");
    }

    [Fact]
    public async Task RunUntilCaughtUpAsync_PartialBatchResponse_RetriesFromTheLowestFailureInOrder()
    {
        string stream = KinesaliteServer.NewStreamName("esm-partial");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, Token);
        await kinesalite.Admin.PutRecordsAsync(stream, [.. Enumerable.Range(0, 10).Select(i => ("pk", Payload(i)))], Token);
        using var client = Emulator.Client(kinesalite.Endpoint);
        var invocations = new List<int[]>();
        bool failed = false;
        var mapping = LocalEventSourceMapping.ForStreamHandler(
            client,
            new() { StreamName = stream, BatchSize = 10, PollInterval = TimeSpan.FromMilliseconds(20) },
            async (input, ct) =>
            {
                var e = (await JsonSerializer.DeserializeAsync(input, LambdaJsonContext.Default.KinesisStreamEvent, ct))!;
                invocations.Add([.. e.Records.Select(Value)]);
                var response = new KinesisStreamBatchResponse();
                if (!failed)
                {
                    failed = true;
                    response.BatchItemFailures.Add(new() { ItemIdentifier = e.Records[6].Kinesis.SequenceNumber });
                    response.BatchItemFailures.Add(new() { ItemIdentifier = e.Records[4].Kinesis.SequenceNumber });
                }

                return new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(response, LambdaJsonContext.Default.KinesisStreamBatchResponse));
            });

        await mapping.RunUntilCaughtUpAsync(Token);

        Assert.Equal([Enumerable.Range(0, 10).ToArray(), Enumerable.Range(4, 6).ToArray()], invocations);
        Assert.Equal(1, mapping.Statistics.PartialFailures);
        Assert.Empty(mapping.Discarded);
    }

    [Fact]
    public async Task RunUntilCaughtUpAsync_AfterASplit_ReadsTheParentToItsEndBeforeTheChildren()
    {
        string stream = KinesaliteServer.NewStreamName("esm-split");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, Token);
        await kinesalite.Admin.PutRecordsAsync(stream, [.. Enumerable.Range(0, 20).Select(i => ("key" + (i % 5), Payload(i)))], Token);
        await kinesalite.Admin.SplitShardInHalfAsync(stream, "shardId-000000000000", Token);
        await kinesalite.Admin.PutRecordsAsync(stream, [.. Enumerable.Range(20, 20).Select(i => ("key" + (i % 5), Payload(i)))], Token);
        using var client = Emulator.Client(kinesalite.Endpoint);
        var seen = new List<(string Shard, string Key, int Value)>();
        var mapping = LocalEventSourceMapping.ForTypedHandler(
            client,
            new() { StreamName = stream, BatchSize = 3, PollInterval = TimeSpan.FromMilliseconds(20) },
            (e, _) =>
            {
                lock (seen)
                {
                    seen.AddRange(e.Records.Select(r => (r.ShardId, r.Kinesis.PartitionKey, Value(r))));
                }

                return Task.FromResult(new KinesisStreamBatchResponse());
            });

        var finished = await mapping.RunUntilCaughtUpAsync(Token);

        Assert.Equal(["shardId-000000000000"], finished);
        Assert.Equal(Enumerable.Range(0, 40), seen.Select(s => s.Value).Order());
        int lastOfParent = seen.FindLastIndex(s => s.Shard == "shardId-000000000000");
        Assert.True(seen.Take(lastOfParent + 1).All(s => s.Shard == "shardId-000000000000"), "a child was read before its parent ended");
        foreach (var key in seen.GroupBy(s => s.Key))
        {
            Assert.Equal(key.Select(s => s.Value).Order(), key.Select(s => s.Value));
        }
    }
}
