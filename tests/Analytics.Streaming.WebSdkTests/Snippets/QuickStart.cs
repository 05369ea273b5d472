using Analytics.Streaming;

// Deliberately outside the Analytics.Streaming namespaces: inside them, a package type would win over a colliding
// root namespace by the lookup rules, and a collision users hit would go unnoticed.
namespace ReadmeSnippets;

/// <summary>The event the quick-start snippets of the root and core READMEs aggregate.</summary>
/// <param name="Page">The page path.</param>
/// <param name="UserId">The visitor.</param>
/// <param name="Timestamp">The event time.</param>
/// <param name="LatencyMs">The page's load time in milliseconds.</param>
public sealed record ClickEvent(string Page, string UserId, DateTimeOffset Timestamp, double LatencyMs);

/// <summary>The quick-start snippets, verbatim between the readme markers.</summary>
public static class QuickStart
{
    /// <summary>The root README's first snippet.</summary>
    /// <param name="source">The events.</param>
    /// <param name="sink">Where results go.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>A task that completes when the source ends.</returns>
    public static async Task RootReadmeAsync(IEventSource<ClickEvent> source, ISink<WindowResult<string, (long, long)>> sink, CancellationToken cancellationToken)
    {
        // <readme file="README.md" block="1">
        var pipeline = StreamPipeline.Create<ClickEvent>(new() { Name = "page-views" })
            .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .KeyBy(e => e.Page)
            .Window(WindowSpec.Sliding(size: TimeSpan.FromMinutes(5), slide: TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId)))
            .To(sink)
            .Build();
        await pipeline.RunAsync(source, cancellationToken);
        // </readme>
    }

    /// <summary>The core package README's first snippet.</summary>
    /// <param name="source">The events.</param>
    /// <param name="resultsSink">Where results go.</param>
    /// <param name="lateSink">Where late records go.</param>
    /// <param name="deadLetterSink">Where dead letters go.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>A task that completes when the source ends.</returns>
    public static async Task CoreReadmeAsync(
        IEventSource<ClickEvent> source,
        ISink<WindowResult<string, (long, double)>> resultsSink,
        ISink<LateRecord<ClickEvent>> lateSink,
        ISink<DeadLetter> deadLetterSink,
        CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming/README.md" block="1">
        var pipeline = StreamPipeline.Create<ClickEvent>(new() { Name = "page-views", CheckpointStore = new FileCheckpointStore("checkpoints") })
            .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .KeyBy(e => e.Page)
            .Window(WindowSpec.Sliding(size: TimeSpan.FromMinutes(5), slide: TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.Average(e => e.LatencyMs)))
            .To(resultsSink)                       // any ISink<WindowResult<string, (long, double)>>
            .LateTo(lateSink)                      // optional: records later than the allowed lateness
            .DeadLettersTo(deadLetterSink)         // optional: records that could not be processed, with the reason
            .Build();                              // every option is validated here, with a message that says what to change

        await pipeline.RunAsync(source, cancellationToken);   // source: IEventSource<ClickEvent>; a restart resumes where this run stopped
        // </readme>
    }
}
