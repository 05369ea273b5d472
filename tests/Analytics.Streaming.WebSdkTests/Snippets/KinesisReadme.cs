using System.Text.Json.Serialization;
using Analytics.Streaming;
using Analytics.Streaming.Kinesis;

namespace ReadmeSnippets.Kinesis;

/// <summary>The source-generated JSON metadata the Kinesis README's examples read and write with.</summary>
[JsonSerializable(typeof(ClickEvent))]
[JsonSerializable(typeof(WindowResult<string, long>))]
public sealed partial class AppJson : JsonSerializerContext;

/// <summary>The Kinesis README's consumer block.</summary>
public static class KinesisReadme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static async Task ConsumerAsync(ISink<WindowResult<string, long>> resultsSink, CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming.Kinesis/README.md" block="1">
        using var client = new KinesisClient(new KinesisClientOptions { Region = "eu-west-1" });
        var source = new KinesisShardConsumer(client, new KinesisConsumerOptions { StreamName = "clicks" })
            .Decode(new JsonEventDecoder<ClickEvent>(AppJson.Default.ClickEvent)); // System.Text.Json source-generated context

        var pipeline = StreamPipeline.Create<ClickEvent>(new() { Name = "clicks", CheckpointStore = new FileCheckpointStore("/var/lib/clicks") })
            .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .KeyBy(e => e.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .To(resultsSink)                                   // any ISink<WindowResult<string, long>>
            .Build();
        await pipeline.RunAsync(source, cancellationToken);   // the pipeline owns the checkpoints and tells the consumer where to resume
        // </readme>
    }
}
