using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json.Serialization;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerDecodeAndTelemetryTests(KinesaliteServer kinesalite)
{
    [Fact]
    public async Task Decode_JsonRecordsWithOneMalformed_YieldsEventsAndADecodeDeadLetter()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-decode", 1);
        await kinesalite.Admin.PutRecordsAsync(
            scenario.Stream,
            [("p1", Encoding.UTF8.GetBytes("""{"PageId":"home","Count":1}""")), ("p1", "{not json"u8.ToArray()), ("p2", Encoding.UTF8.GetBytes("""{"PageId":"cart","Count":2}"""))],
            ct);
        var source = scenario.Consumer()
            .Decode(new JsonEventDecoder<TestClick>(ConsumerTestJson.Default.TestClick));
        var events = new List<TestClick>();
        var deadLetters = new List<DeadLetter>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromSeconds(30));

        await foreach (var batch in source.ReadBatchesAsync(new SourceContext(), stop.Token))
        {
            events.AddRange(batch.Records.ToArray().Select(r => r.Value));
            deadLetters.AddRange(batch.DeadLetters);
            if (events.Count + deadLetters.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([new TestClick("home", 1), new TestClick("cart", 2)], events);
        var deadLetter = Assert.Single(deadLetters);
        Assert.Equal(DeadLetterReason.DecodeFailed, deadLetter.Reason);
        Assert.Equal("{not json", Encoding.UTF8.GetString(deadLetter.Payload.Span));
    }

    [Fact]
    public async Task ReadBatchesAsync_WithMeterListener_ReportsRecordsAndBehindLatestPerShard()
    {
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-metrics", 2);
        string stream = scenario.Stream;
        await scenario.WriteAsync(keys: 50, perKey: 1);
        var records = new ConcurrentDictionary<string, long>();
        var lagShards = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KinesisTelemetry.Name && instrument.Name.StartsWith("analytics.streaming.kinesis.consumer.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "analytics.streaming.kinesis.consumer.records" && ShardOf(tags, stream) is { } shard)
            {
                records.AddOrUpdate(shard, value, (_, total) => total + value);
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "analytics.streaming.kinesis.consumer.behind_latest" && ShardOf(tags, stream) is { } shard)
            {
                lagShards[shard] = value;
            }
        });
        listener.Start();
        await scenario.ReadAsync(50, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));

        Assert.Equal(50, records.Values.Sum());
        Assert.Equal(["shardId-000000000000", "shardId-000000000001"], lagShards.Keys.Order(StringComparer.Ordinal));
        Assert.All(lagShards.Values, lag => Assert.True(lag >= 0));
    }

    /// <summary>The shard tag of a measurement of <paramref name="stream"/>, or null for other streams.</summary>
    private static string? ShardOf(ReadOnlySpan<KeyValuePair<string, object?>> tags, string stream)
    {
        string? streamTag = null, shardTag = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "stream")
            {
                streamTag = tag.Value as string;
            }
            else if (tag.Key == "shard")
            {
                shardTag = tag.Value as string;
            }
        }

        return streamTag == stream ? shardTag : null;
    }
}

public sealed record TestClick(string PageId, int Count);

[JsonSerializable(typeof(TestClick))]
internal sealed partial class ConsumerTestJson : JsonSerializerContext;
