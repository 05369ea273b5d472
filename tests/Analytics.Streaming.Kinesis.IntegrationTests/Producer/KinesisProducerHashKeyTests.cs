using System.Text;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Producer;

/// <summary>Explicit hash keys against kinesis-local, which checks them with the service's pattern (<c>0|([1-9]\d{0,38})</c>, whole text).</summary>
public sealed class KinesisProducerHashKeyTests(KinesisLocalServer kinesisLocal)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FlushAsync_HashKeysWithLeadingZeros_AreSentInTheServicesFormAndLandOnTheirShard(bool aggregate)
    {
        // 2^127 + 10 in the upper shard of two, written with leading zeros; a batch holding it must not be refused whole.
        const string upper = "170141183460469231731687303715884105738";
        string stream = KinesaliteServer.NewStreamName(aggregate ? "hash-agg" : "hash");
        await kinesisLocal.Admin.CreateStreamAsync(stream, 2, Ct);
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = kinesisLocal.Endpoint,
            Credentials = new BasicAWSCredentials("test", "test"),
        });
        await using (var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = stream, AggregationEnabled = aggregate, MaxConcurrentRequests = 1 }))
        {
            await producer.AddAsync(Encoding.UTF8.GetBytes("zero"), "a", "0000", Ct);
            await producer.AddAsync(Encoding.UTF8.GetBytes("upper"), "b", "00" + upper, Ct);
            await producer.AddAsync(Encoding.UTF8.GetBytes("plain"), "c", cancellationToken: Ct);
            await producer.FlushAsync(Ct);
        }

        var shards = await client.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = stream }, Ct);
        var found = new Dictionary<string, string>();
        foreach (var shard in shards)
        {
            string? iterator = (await client.GetShardIteratorAsync(
                new KinesisGetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, StartingPosition = KinesisStartingPosition.TrimHorizon }, Ct)).ShardIterator;
            while (iterator is not null)
            {
                var page = await client.GetRecordsAsync(new KinesisGetRecordsRequest { ShardIterator = iterator }, Ct);
                var records = new List<UserRecord>();
                foreach (var record in page.Records)
                {
                    Assert.True(KplDeaggregator.TryDeaggregate(record, records, out string? error), error);
                }

                foreach (var record in records)
                {
                    found[Encoding.UTF8.GetString(record.Data.Span)] = shard.ShardId;
                }

                iterator = page.Records.Count == 0 ? null : page.NextShardIterator;
            }
        }

        Assert.Equal(["plain", "upper", "zero"], found.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(shards.Single(s => s.HashKeyRange.Contains(0)).ShardId, found["zero"]);
        Assert.Equal(shards.Single(s => s.HashKeyRange.Contains(KinesisHashKey.Parse(upper))).ShardId, found["upper"]);
    }
}
