using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.S3.IntegrationTests;

public sealed record Visit(string? Page, DateTimeOffset Time);

[JsonSerializable(typeof(Visit))]
internal sealed partial class VisitJson : JsonSerializerContext;

/// <summary>The S3 dead-letter sink on s3rver: Firehose's error layout, every dead letter read back, rolling, and a failing store stopping the pipeline.</summary>
public sealed class S3DeadLetterSinkTests(S3Fixture s3)
{
    private static readonly DateTimeOffset Arrival = new(2026, 1, 31, 10, 15, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pipeline_DeadLetters_AreStoredInFirehosesErrorLayoutAndReadBack()
    {
        string bucket = await s3.CreateBucketAsync();
        var (source, bad) = Source();
        await using var sink = new S3DeadLetterSink(new S3DeadLetterSinkOptions
        {
            Store = new S3ObjectStore(s3.Client, bucket),
            Prefix = "lake/errors/visits/",
            TimeProvider = new FakeTimeProvider(Arrival),
        });
        var pipeline = Pipeline(sink, store: null);
        await pipeline.RunAsync(source, Ct);

        var statistics = pipeline.Statistics;
        Assert.Equal(statistics.RecordsIn, statistics.RecordsAccepted + statistics.LateRecords + statistics.DeadLetters);
        var keys = await s3.ListKeysAsync(bucket);
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Matches(@"^lake/errors/visits/processing-failed/2026/01/31/10/dead-letters-2026-01-31-10-15-00-[0-9a-f-]{36}$", k));
        Assert.Equal(sink.StoredKeys.Order(StringComparer.Ordinal), keys);

        var read = new List<StoredDeadLetter>();
        foreach (string key in keys)
        {
            byte[] content = await s3.ReadAsync(bucket, key);
            Assert.Equal((byte)'\n', content[^1]);
            read.AddRange(S3DeadLetterSink.Parse(content));
            using var first = System.Text.Json.JsonDocument.Parse(content.AsMemory(0, Array.IndexOf(content, (byte)'\n')));
            Assert.Equal(
                ["attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData", "partitionId", "sequenceNumber", "subSequenceNumber"],
                first.RootElement.EnumerateObject().Select(p => p.Name));
        }

        Assert.Equal(statistics.DeadLetters, read.Count);
        Assert.Equal(bad.Keys.Order(), read.Select(r => r.DeadLetter.Position).Order());
        foreach (var letter in read)
        {
            Assert.Equal(Arrival, letter.Time);
            Assert.Equal(bad[letter.DeadLetter.Position].Reason, letter.DeadLetter.Reason);
            Assert.Equal(bad[letter.DeadLetter.Position].Payload, letter.DeadLetter.Payload.ToArray());
            Assert.False(string.IsNullOrEmpty(letter.DeadLetter.Message));
        }
    }

    [Fact]
    public async Task Write_RollsBySizeAndAge_IntoTheHourOfTheFirstDeadLetter()
    {
        string bucket = await s3.CreateBucketAsync();
        var time = new FakeTimeProvider(Arrival);
        await using var sink = new S3DeadLetterSink(new S3DeadLetterSinkOptions
        {
            Store = new S3ObjectStore(s3.Client, bucket),
            MaxObjectBytes = 2048,
            MaxObjectAge = TimeSpan.FromMinutes(10),
            TimeProvider = time,
        });
        for (int i = 0; i < 30; i++)
        {
            await sink.WriteAsync(new[] { Letter(i) }, Ct);
        }

        if (sink.Buffered == 0)
        {
            await sink.WriteAsync(new[] { Letter(30) }, Ct);
        }

        int written = (int)sink.Written;
        long bySize = sink.ObjectsStored;
        Assert.True(bySize >= 3, $"{bySize} objects");
        Assert.True(sink.Buffered > 0);
        time.Advance(TimeSpan.FromMinutes(50)); // 11:05: the open object (opened at 10:15) is due
        await sink.WriteAsync(new[] { Letter(written) }, Ct);
        Assert.Equal(bySize + 1, sink.ObjectsStored);
        await sink.FlushAsync(Ct);

        var keys = await s3.ListKeysAsync(bucket);
        Assert.Equal(bySize + 2, keys.Count);
        Assert.Single(keys, k => k.StartsWith("processing-failed/2026/01/31/11/", StringComparison.Ordinal));
        var sequences = new List<long>();
        foreach (string key in keys)
        {
            sequences.AddRange(S3DeadLetterSink.Parse(await s3.ReadAsync(bucket, key)).Select(l => l.DeadLetter.Position.Sequence.ToInt64()));
        }

        Assert.Equal(Enumerable.Range(0, written + 1).Select(i => (long)i), sequences.Order());
    }

    [Fact]
    public async Task Pipeline_FailingStore_StopsWithoutCheckpointingPastTheDeadLetters()
    {
        var (source, _) = Source();
        var checkpoints = new InMemoryCheckpointStore();
        await using var sink = new S3DeadLetterSink(new S3DeadLetterSinkOptions
        {
            Store = new S3ObjectStore(s3.Client, "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8]),
            Retry = new RetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) },
        });
        var pipeline = Pipeline(sink, checkpoints);
        await Assert.ThrowsAnyAsync<Exception>(() => pipeline.RunAsync(source, Ct));
        Assert.Null(pipeline.Statistics.LastCheckpoint);
        Assert.Null(await checkpoints.LoadAsync("visits", Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.FlushAsync(Ct));
    }

    private static DeadLetter Letter(int i) => new(new StreamPosition("shardId-000000000001", SequenceNumber.FromInt64(i)), DeadLetterReason.DecodeFailed, "Bad JSON at byte " + i, Encoding.UTF8.GetBytes("{\"page\": oops " + i + " " + new string('x', 100)));

    private static (IEventSource<Visit> Source, Dictionary<StreamPosition, (DeadLetterReason Reason, byte[] Payload)> Bad) Source()
    {
        var bad = new Dictionary<StreamPosition, (DeadLetterReason, byte[])>();
        var records = new List<StreamRecord<RawRecord>>();
        for (int i = 0; i < 80; i++)
        {
            var sequence = SequenceNumber.Parse("4959033827149025660855969253836157109592157598913658" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture));
            byte[] payload;
            if (i % 4 == 0)
            {
                payload = Encoding.UTF8.GetBytes("not json " + i);
                bad[new StreamPosition("shardId-000000000001", sequence)] = (DeadLetterReason.DecodeFailed, payload);
            }
            else if (i % 9 == 0)
            {
                payload = Encoding.UTF8.GetBytes($$"""{"Page":null,"Time":"{{Arrival.AddSeconds(i):O}}"}""");
                bad[new StreamPosition("shardId-000000000001", sequence)] = (DeadLetterReason.NullKey, []);
            }
            else
            {
                payload = Encoding.UTF8.GetBytes($$"""{"Page":"/p{{i % 4}}","Time":"{{Arrival.AddSeconds(i):O}}"}""");
            }

            records.Add(new StreamRecord<RawRecord>(new RawRecord(payload, "k"), sequence));
        }

        var batches = records.Chunk(16).Select(c => new RecordBatch<RawRecord>("shardId-000000000001", c)).ToList();
        return (new InMemorySource<RawRecord>(batches).Decode(new JsonEventDecoder<Visit>(VisitJson.Default.Visit)), bad);
    }

    private static StreamPipeline<Visit, string, long> Pipeline(ISink<DeadLetter> deadLetters, ICheckpointStore? store)
        => StreamPipeline.Create<Visit>(new() { Name = "visits", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(1) })
            .WithEventTime(static v => v.Time)
            .KeyBy(static v => v.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(static a => a.Count())
            .To(Sinks.Discard<WindowResult<string, long>>())
            .DeadLettersTo(deadLetters)
            .Build();
}
