using System.Text.Json;
using Analytics.Streaming;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Kinesis.Firehose;

namespace ReadmeSnippets.Kinesis;

/// <summary>The Kinesis README's producer, Firehose sink and client blocks.</summary>
public static class KinesisReadmeMore
{
    /// <summary>Block 2 of src/Analytics.Streaming.Kinesis/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task ProducerAsync(KinesisClient client, ClickEvent click, CancellationToken ct)
    {
        // <readme file="src/Analytics.Streaming.Kinesis/README.md" block="2">
        await using var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = "clicks" });
        await producer.AddAsync(JsonSerializer.SerializeToUtf8Bytes(click, AppJson.Default.ClickEvent), click.UserId, cancellationToken: ct);
        await producer.FlushAsync(ct); // throws KinesisProducerException listing records given up on
        // </readme>
    }

    /// <summary>Block 3 of src/Analytics.Streaming.Kinesis/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task FirehoseAsync()
    {
        // <readme file="src/Analytics.Streaming.Kinesis/README.md" block="3">
        using var firehose = new FirehoseClient(new FirehoseClientOptions { Region = "eu-west-1" });
        await using var sink = new FirehoseSink<WindowResult<string, long>>(firehose,
            new FirehoseSinkOptions { DeliveryStreamName = "page-counts" },
            (result, buffer) =>
            {
                using var json = new Utf8JsonWriter(buffer);
                JsonSerializer.Serialize(json, result, AppJson.Default.WindowResultStringInt64);
            });
        // </readme>
    }

    /// <summary>Block 4 of src/Analytics.Streaming.Kinesis/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task<int> ClientAsync(CancellationToken ct)
    {
        // <readme file="src/Analytics.Streaming.Kinesis/README.md" block="4">
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Region = "eu-west-1",                                  // required; also signs requests sent to ServiceUrl
            // ServiceUrl = new Uri("https://vpce-....kinesis.eu-west-1.vpce.amazonaws.com"), // endpoint override
            // Credentials = new BasicAWSCredentials(...),         // default: AWSSDK.Core's default chain
            // LoggerFactory = loggerFactory,                      // default: no logging
        });
        var shards = await client.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = "clicks" }, ct);
        // </readme>
        return shards.Count;
    }
}
