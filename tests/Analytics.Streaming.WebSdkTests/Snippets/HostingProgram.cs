// <readme file="src/Analytics.Streaming.Hosting/README.md" block="1">
using Analytics.Streaming;
// </readme>

// Deliberately outside the Analytics.Streaming namespaces (see QuickStart.cs).
namespace ReadmeSnippets.Hosting;

/// <summary>The Hosting package README's minimal worker.</summary>
public static class HostingProgram
{
    /// <summary>The snippet's top-level statements.</summary>
    /// <param name="args">The command line.</param>
    public static void Run(string[] args)
    {
        // <readme file="src/Analytics.Streaming.Hosting/README.md" block="1">
        var builder = Host.CreateApplicationBuilder(args);

        builder.Services
            .AddStreamPipeline("page-views", (services, options) => StreamPipeline.Create<PageView>(options)
                .WithEventTime(e => e.Time, maxOutOfOrderness: TimeSpan.FromSeconds(5))
                .KeyBy(e => e.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId)))
                .To(services.GetRequiredService<PageViewsLog>())
                .Build())
            .ReadFrom(_ => InMemorySource<PageView>.FromEvents(
            [
                new("/", "u1", DateTimeOffset.Parse("2025-01-01T12:00:00Z")),
                new("/", "u2", DateTimeOffset.Parse("2025-01-01T12:00:10Z")),
                new("/cart", "u1", DateTimeOffset.Parse("2025-01-01T12:00:20Z")),
                new("/", "u1", DateTimeOffset.Parse("2025-01-01T12:01:10Z")),
            ]));
        builder.Services.AddSingleton<PageViewsLog>();
        builder.Services.AddHealthChecks().AddStreamPipelineChecks();

        builder.Build().Run();
        // </readme>
    }
}

// <readme file="src/Analytics.Streaming.Hosting/README.md" block="1">
public sealed record PageView(string Page, string UserId, DateTimeOffset Time);

/// <summary>The results sink: logs each window's page views and unique visitors.</summary>
public sealed class PageViewsLog(ILogger<PageViewsLog> logger) : ISink<WindowResult<string, (long Views, long Visitors)>>
{
    public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, (long Views, long Visitors)>> items, CancellationToken cancellationToken)
    {
        foreach (var r in items.Span)
        {
            logger.LogInformation("{Start:t} {Page}: {Views} views, {Visitors} visitors", r.Window.Start, r.Key, r.Value.Views, r.Value.Visitors);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
// </readme>
