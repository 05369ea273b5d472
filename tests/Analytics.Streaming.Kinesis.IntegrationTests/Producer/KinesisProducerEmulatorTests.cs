using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Producer;

/// <summary>The producer against kinesalite: what it writes is read back exactly, by our client and by the AWS JavaScript SDK.</summary>
public sealed class KinesisProducerEmulatorTests(KinesaliteServer kinesalite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private KinesisClient CreateClient() => new(new KinesisClientOptions
    {
        Region = "us-east-1",
        ServiceUrl = kinesalite.Endpoint,
        Credentials = new BasicAWSCredentials("test", "test"),
    });

    private static string Payload(string key, int index) => $"{key}#{index:D5}";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FlushAsync_ThousandsOfRecordsOverFourShards_ReadBackExactlyInKeyOrder(bool aggregate)
    {
        string stream = KinesaliteServer.NewStreamName(aggregate ? "produce-agg" : "produce");
        await kinesalite.Admin.CreateStreamAsync(stream, 4, Ct);
        using var client = CreateClient();
        var expected = new List<string>();
        await using (var producer = new KinesisProducer(client, new KinesisProducerOptions
        {
            StreamName = stream,
            AggregationEnabled = aggregate,
            AggregationMaxSize = 8 * 1024,
            MaxConcurrentRequests = 1,
            Linger = TimeSpan.FromMilliseconds(20),
        }))
        {
            for (int i = 0; i < 3000; i++)
            {
                string key = i % 97 == 0 ? "ключ-🙂" : "key-" + (i % 53);
                string payload = Payload(key, i);
                expected.Add(payload);
                await producer.AddAsync(Encoding.UTF8.GetBytes(payload), key, cancellationToken: Ct);
            }

            await producer.FlushAsync(Ct);
            Assert.Equal(3000, producer.Statistics.Records);
            if (aggregate)
            {
                Assert.True(producer.Statistics.KinesisRecords < 600, $"{producer.Statistics.KinesisRecords} Kinesis records");
            }
        }

        var read = await ReadAllAsync(client, stream);

        Assert.Equal(expected.Order(StringComparer.Ordinal), read.Select(r => Encoding.UTF8.GetString(r.Data.Span)).Order(StringComparer.Ordinal));
        foreach (var group in read.GroupBy(r => r.PartitionKey))
        {
            var indexes = group.Select(r => int.Parse(Encoding.UTF8.GetString(r.Data.Span).Split('#')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(indexes.Order(), indexes);
        }

        Assert.Equal(aggregate, read.Any(r => r.IsAggregated));
    }

    [Fact]
    public async Task FlushAsync_AggregatedRecordsWithExplicitHashKeys_AreReadByTheJavaScriptSdk()
    {
        string stream = KinesaliteServer.NewStreamName("produce-js");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, Ct);
        using var client = CreateClient();
        var expected = new List<(string Key, string? Hash, string Payload)>();
        await using (var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = stream, AggregationEnabled = true, MaxConcurrentRequests = 1 }))
        {
            for (int i = 0; i < 400; i++)
            {
                string key = i % 10 == 0 ? "ключ" : "k" + (i % 7);
                string? hash = i % 25 == 0 ? "170141183460469231731687303715884105730" : null;
                string payload = i % 50 == 1 ? string.Empty : Payload(key, i);
                expected.Add((key, hash, payload));
                await producer.AddAsync(Encoding.UTF8.GetBytes(payload), key, hash, Ct);
            }

            await producer.FlushAsync(Ct);
        }

        string output = Path.Combine(Path.GetTempPath(), $"kinesis-js-read-{Guid.NewGuid():N}.json");
        try
        {
            await PeerScripts.RunAsync(TimeSpan.FromSeconds(60), Ct, TestPeers.PathOf("kinesis-agg-js-reader.js"), kinesalite.Endpoint.ToString().TrimEnd('/'), stream, output);
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(output, Ct));
            var read = document.RootElement.EnumerateArray().Select(r => (
                Key: r.GetProperty("partitionKey").GetString()!,
                Payload: Encoding.UTF8.GetString(Convert.FromBase64String(r.GetProperty("data").GetString()!)),
                Sub: r.GetProperty("subSequenceNumber").GetInt32())).ToList();

            Assert.Equal(
                expected.Select(e => e.Key + "|" + e.Payload).Order(StringComparer.Ordinal),
                read.Select(r => r.Key + "|" + r.Payload).Order(StringComparer.Ordinal));
            Assert.Contains(read, r => r.Sub > 0);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task FlushAsync_ThrottledEntries_AreResentUntilEveryRecordIsStoredOnce()
    {
        string stream = KinesaliteServer.NewStreamName("produce-throttled");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, Ct);
        var attempts = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        using var handler = new PartialFailureHandler(data => data.EndsWith('7') && attempts.AddOrUpdate(data, 1, (_, n) => n + 1) <= 2);
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = kinesalite.Endpoint,
            Credentials = new BasicAWSCredentials("test", "test"),
            HttpHandler = handler,
        });
        var expected = new List<string>();
        await using (var producer = new KinesisProducer(client, new KinesisProducerOptions
        {
            StreamName = stream,
            Retry = { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(50) },
        }))
        {
            for (int i = 0; i < 1000; i++)
            {
                string payload = Payload("k" + (i % 11), i);
                expected.Add(payload);
                await producer.AddAsync(Encoding.UTF8.GetBytes(payload), "k" + (i % 11), cancellationToken: Ct);
            }

            await producer.FlushAsync(Ct);
            Assert.Equal(200, handler.FailedEntries); // 100 records ending in 7, failed twice each
            Assert.Equal(200, producer.Statistics.Throttles);
            Assert.Equal(1000, producer.Statistics.Records);
        }

        using var reader = CreateClient();
        var read = await ReadAllAsync(reader, stream);
        Assert.Equal(expected.Order(StringComparer.Ordinal), read.Select(r => Encoding.UTF8.GetString(r.Data.Span)).Order(StringComparer.Ordinal));
    }

    /// <summary>Reads every shard from the trim horizon until a page comes back empty, deaggregating with our deaggregator.</summary>
    private static async Task<List<UserRecord>> ReadAllAsync(KinesisClient client, string stream)
    {
        var shards = await client.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = stream }, Ct);
        var records = new List<UserRecord>();
        foreach (var shard in shards)
        {
            string? iterator = (await client.GetShardIteratorAsync(
                new KinesisGetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, StartingPosition = KinesisStartingPosition.TrimHorizon }, Ct)).ShardIterator;
            while (iterator is not null)
            {
                var page = await client.GetRecordsAsync(new KinesisGetRecordsRequest { ShardIterator = iterator }, Ct);
                foreach (var record in page.Records)
                {
                    Assert.True(KplDeaggregator.TryDeaggregate(record, records, out string? error), error);
                }

                iterator = page.Records.Count == 0 ? null : page.NextShardIterator;
            }
        }

        return records;
    }
}
