using System.Text;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.DeadLetters;

/// <summary>Dead letters of a pipeline written to a Kinesis stream on kinesalite, and every one read back from the stream.</summary>
public sealed class KinesisDeadLetterSinkTests(KinesaliteServer kinesalite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pipeline_DeadLettersToAStream_EveryOneIsReadBack()
    {
        string stream = KinesaliteServer.NewStreamName("dead-letters");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, Ct);
        using var client = new KinesisClient(new KinesisClientOptions { Region = "us-east-1", ServiceUrl = kinesalite.Endpoint, Credentials = new BasicAWSCredentials("test", "test") });
        var start = new DateTimeOffset(2026, 1, 31, 10, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(0, 90).Select(i => i % 4 == 0 ? "oops " + i : $$"""{"page":"/p{{i % 3}}","ms":{{start.AddSeconds(i).ToUnixTimeMilliseconds()}}}""").ToArray();
        var batches = events.Select((e, i) => new StreamRecord<RawRecord>(new RawRecord(Encoding.UTF8.GetBytes(e), "k"), SequenceNumber.FromInt64(i + 1)))
            .Chunk(10).Select(c => new RecordBatch<RawRecord>("shard-a", c)).ToList();
        var decoder = new Decoder();
        await using var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = stream, Linger = TimeSpan.FromMilliseconds(10) });
        await using var sink = DeadLetterStreamSinks.KinesisStream(producer);
        var pipeline = StreamPipeline.Create<(string Page, long Ms)>(new() { Name = "dl" })
            .WithEventTime(static e => e.Ms)
            .KeyBy(static e => e.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(static a => a.Count())
            .To(Sinks.Discard<WindowResult<string, long>>())
            .DeadLettersTo(sink)
            .Build();
        await pipeline.RunAsync(new InMemorySource<RawRecord>(batches).Decode(decoder), Ct);
        Assert.Equal(pipeline.Statistics.RecordsIn, pipeline.Statistics.RecordsAccepted + pipeline.Statistics.LateRecords + pipeline.Statistics.DeadLetters);

        var read = new List<StoredDeadLetter>();
        var shards = await client.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = stream }, Ct);
        foreach (var shard in shards)
        {
            string? iterator = (await client.GetShardIteratorAsync(new KinesisGetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, StartingPosition = KinesisStartingPosition.TrimHorizon }, Ct)).ShardIterator;
            while (iterator is not null)
            {
                var page = await client.GetRecordsAsync(new KinesisGetRecordsRequest { ShardIterator = iterator }, Ct);
                var users = new List<UserRecord>();
                foreach (var record in page.Records)
                {
                    Assert.True(KplDeaggregator.TryDeaggregate(record, users, out string? error), error);
                }

                read.AddRange(users.Select(u => DeadLetterRecord.Parse(u.Data.Span)));
                iterator = page.Records.Count == 0 ? null : page.NextShardIterator;
            }
        }

        Assert.Equal(pipeline.Statistics.DeadLetters, read.Count);
        Assert.Equal(Enumerable.Range(0, 90).Where(i => i % 4 == 0).Select(i => (long)i + 1), read.Select(r => r.DeadLetter.Position.Sequence.ToInt64()).Order());
        Assert.All(read, r => Assert.Equal(DeadLetterReason.DecodeFailed, r.DeadLetter.Reason));
        Assert.All(read, r => Assert.StartsWith("oops ", Encoding.UTF8.GetString(r.DeadLetter.Payload.Span), StringComparison.Ordinal));
    }

    private sealed class Decoder : IEventDecoder<(string Page, long Ms)>
    {
        public bool TryDecode(in RawRecord record, out (string Page, long Ms) value, out DecodeError error)
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(record.Data);
                value = (document.RootElement.GetProperty("page").GetString()!, document.RootElement.GetProperty("ms").GetInt64());
                error = default;
                return true;
            }
            catch (System.Text.Json.JsonException ex)
            {
                value = default;
                error = new DecodeError(DeadLetterReason.DecodeFailed, ex.Message);
                return false;
            }
        }
    }
}
