using Analytics.Streaming;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Lambda;
using Analytics.Streaming.Testing;

namespace ReadmeSnippets.Lambda;

/// <summary>The Lambda README's tumbling-window, Firehose and local-mapping blocks.</summary>
public static class LambdaReadmeMore
{
    /// <summary>Block 4 of src/Analytics.Streaming.Lambda/README.md, with what it takes from its surroundings as parameters.</summary>
    public static void Tumbling(ISink<WindowResult<string, (long, long)>> resultsSink)
    {
        // <readme file="src/Analytics.Streaming.Lambda/README.md" block="4">
        var tumbling = KinesisTumblingWindowHandler.Create(
            new JsonEventDecoder<ClickEvent>(MyJsonContext.Default.ClickEvent),
            e => e.Page,
            a => a.Count().And(a.DistinctCount(e => e.UserId)),
            resultsSink,
            new KinesisTumblingWindowHandlerOptions { Name = "page-views-lambda-windows" });
        // HandleAsync(Stream, CancellationToken) -> {"state": {...}, "batchItemFailures": [...]}
        // </readme>
    }

    /// <summary>Block 5 of src/Analytics.Streaming.Lambda/README.md, with what it takes from its surroundings as parameters.</summary>
    public static void Firehose()
    {
        // <readme file="src/Analytics.Streaming.Lambda/README.md" block="5">
        var firehose = FirehoseTransformationHandler.Create(
            new JsonEventDecoder<ClickEvent>(MyJsonContext.Default.ClickEvent),
            (click, record) => click.UserAgent.Contains("bot")
                ? FirehoseRecordResult.Dropped("bot traffic")
                : FirehoseRecordResult.Json(new PageView(click.Page, click.UserId, click.Timestamp), MyJsonContext.Default.PageView,
                    new Dictionary<string, string> { ["page"] = click.Page.Trim('/'), ["day"] = click.Timestamp.ToString("yyyy-MM-dd") }));
        // </readme>
    }

    /// <summary>Block 6 of src/Analytics.Streaming.Lambda/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task LocalMappingAsync(IKinesisClient kinesisClient, KinesisEventHandler<ClickEvent, string, (long, long)> handler, IEnumerable<string> closedShards, CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming.Lambda/README.md" block="6">
        var mapping = LocalEventSourceMapping.ForStreamHandler(kinesisClient,
            new() { StreamName = "clicks", BatchSize = 500, BisectBatchOnFunctionError = true, PollInterval = TimeSpan.FromMilliseconds(50) },
            handler.HandleAsync);
        await mapping.RunUntilCaughtUpAsync(cancellationToken);
        foreach (var shard in closedShards) await handler.CompleteShardAsync(shard, cancellationToken);
        // </readme>
    }
}
