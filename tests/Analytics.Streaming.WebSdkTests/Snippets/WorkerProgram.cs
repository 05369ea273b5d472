// <readme file="README.md" block="2">
using Analytics.Streaming;
// </readme>

// Deliberately outside the Analytics.Streaming namespaces (see QuickStart.cs).
namespace ReadmeSnippets.Worker;

/// <summary>The root README's minimal worker ("Use it in your app").</summary>
public static class WorkerProgram
{
    /// <summary>The snippet's top-level statements.</summary>
    /// <param name="args">The command line.</param>
    public static void Run(string[] args)
    {
        // <readme file="README.md" block="2">
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddHostedService<PageViewsWorker>();
        builder.Build().Run();
        // </readme>
    }
}

// <readme file="README.md" block="2">
public sealed record PageView(string Page, string UserId, DateTimeOffset Time);

public sealed class PageViewsWorker(ILogger<PageViewsWorker> logger, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var checkpoints = new FileCheckpointStore("checkpoints");
        var pipeline = StreamPipeline.Create<PageView>(new() { Name = "page-views", CheckpointStore = checkpoints })
            .WithEventTime(e => e.Time, maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .KeyBy(e => e.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId)))
            .To(Sinks.Callback<WindowResult<string, (long Views, long Visitors)>>((results, _) =>
            {
                foreach (var r in results.Span)
                {
                    logger.LogInformation("{Start:t} {Page}: {Views} views, {Visitors} visitors", r.Window.Start, r.Key, r.Value.Views, r.Value.Visitors);
                }

                return ValueTask.CompletedTask;
            }))
            .Build();

        var t0 = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var source = InMemorySource<PageView>.FromEvents(
        [
            new("/", "u1", t0), new("/", "u2", t0.AddSeconds(10)), new("/cart", "u1", t0.AddSeconds(20)),
            new("/", "u1", t0.AddSeconds(70)),
        ]);
        await pipeline.RunAsync(source, stoppingToken);
        lifetime.StopApplication();
    }
}
// </readme>
