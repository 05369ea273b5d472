// <readme file="src/Analytics.Streaming.OpenSearch/README.md" block="1">
using Analytics.Streaming;
using Analytics.Streaming.OpenSearch;
// </readme>

namespace ReadmeSnippets.OpenSearch;

/// <summary>The page view the OpenSearch README aggregates.</summary>
/// <param name="Page">The page.</param>
/// <param name="VisitorId">The visitor.</param>
/// <param name="Timestamp">When.</param>
public sealed record PageView(string Page, string VisitorId, DateTimeOffset Timestamp);

/// <summary>The OpenSearch README's block.</summary>
public static class OpenSearchReadme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static async Task SinkAsync(ISink<DeadLetter> deadLetterSink, CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming.OpenSearch/README.md" block="1">
        var map = OpenSearchDocumentMap.ForResults<string, (long Views, long Visitors)>()   // pipeline, key, window_start, ...
            .Long("views", r => r.Value.Views)
            .Long("visitors", r => r.Value.Visitors)
            .Build();                                                                        // build once, share everywhere

        var options = OpenSearchSinkOptions.ForResults(new Uri("https://search-demo.eu-west-1.es.amazonaws.com/"), "page-views-", map);
        options.Authentication = OpenSearchAuthentication.AwsSigV4("eu-west-1", OpenSearchAuthentication.ManagedService);
        options.DeadLetters = deadLetterSink;                                                // the pipeline's, for example

        await using var sink = new OpenSearchSink<WindowResult<string, (long Views, long Visitors)>>(options);
        await sink.PutIndexTemplateAsync("page-views", OpenSearchIndexTemplate.Create(map, [options.Index!.Pattern]), cancellationToken);

        var pipeline = StreamPipeline.Create<PageView>(new() { Name = "page-views" })
            .WithEventTime(v => v.Timestamp)
            .KeyBy(v => v.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.DistinctCount(v => v.VisitorId)))
            .To(sink)
            .DeadLettersTo(deadLetterSink)
            .Build();
        // </readme>
    }
}
