using System.Text.Json.Serialization;
using Analytics.Streaming;
using Analytics.Streaming.Lambda;

namespace ReadmeSnippets.Lambda;

/// <summary>The click the Lambda README's handlers decode.</summary>
/// <param name="Page">The page.</param>
/// <param name="UserId">The visitor.</param>
/// <param name="UserAgent">The browser.</param>
/// <param name="Timestamp">When.</param>
public sealed record ClickEvent(string Page, string UserId, string UserAgent, DateTimeOffset Timestamp);

/// <summary>The page view the Lambda README's Firehose transformation writes.</summary>
/// <param name="Page">The page.</param>
/// <param name="UserId">The visitor.</param>
/// <param name="Timestamp">When.</param>
public sealed record PageView(string Page, string UserId, DateTimeOffset Timestamp);

/// <summary>The source-generated JSON metadata the Lambda README's handlers read and write with.</summary>
[JsonSerializable(typeof(ClickEvent))]
[JsonSerializable(typeof(PageView))]
public sealed partial class MyJsonContext : JsonSerializerContext;

/// <summary>The Lambda README's first block.</summary>
public static class LambdaReadme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static KinesisEventHandler<ClickEvent, string, (long, long)> Handler(ICheckpointStore checkpointStore, Func<ISink<WindowResult<string, (long, long)>>> createResultsSink, Func<ISink<DeadLetter>> createDeadLetterSink)
    {
        // <readme file="src/Analytics.Streaming.Lambda/README.md" block="1">
        var handler = KinesisEventHandler.Create(
            () => StreamPipeline.Create<ClickEvent>(new()
                {
                    Name = "page-views",
                    CheckpointStore = checkpointStore,     // durable; one checkpoint per shard, see below
                    WindowState = WindowStateMode.Always,  // required: Lambda cannot replay earlier batches
                })
                .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(5))
                .KeyBy(e => e.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId)))
                .To(createResultsSink())                   // writes by WindowResult.Id (overwrite, never add)
                .DeadLettersTo(createDeadLetterSink())
                .Build(),
            new JsonEventDecoder<ClickEvent>(MyJsonContext.Default.ClickEvent));
        // </readme>
        return handler;
    }
}
