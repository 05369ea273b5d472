using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Hosting.Tests;

/// <summary>The pipelines and hosts the tests run.</summary>
public static class TestHosts
{
    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Clicks per page and 10-second window: count and sum of values.</summary>
    public static StreamPipeline<Click, string, (long Count, long Sum)> ClicksPipeline(StreamPipelineOptions options, ISink<WindowResult<string, (long Count, long Sum)>> sink)
        => StreamPipeline.Create<Click>(options)
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count().And(a.Sum(c => (long)c.Value)))
            .To(sink)
            .Build();

    /// <summary>Clicks of one partition: one every half second, five pages in turn.</summary>
    public static List<Click> Clicks(int count, int seed) =>
        [.. Enumerable.Range(0, count).Select(i => new Click($"/page/{(i + seed) % 5}", T0.AddMilliseconds(500 * i), (i * 7) + seed))];

    /// <summary>
    /// A generic host with an in-memory configuration, a log that keeps every entry, and whatever
    /// <paramref name="configure"/> registers.
    /// </summary>
    public static IHost Build(IDictionary<string, string?> configuration, ListLoggerProvider? logs, Action<IServiceCollection> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration);
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
        }

        configure(builder.Services);
        return builder.Build();
    }

    public static string TempFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "analytics-streaming-hosting-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Starts the host, failing the test if that takes longer than a few seconds (it must not wait for data).</summary>
    public static async Task StartQuicklyAsync(this IHost host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var start = host.StartAsync(timeout.Token);
        await start.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
