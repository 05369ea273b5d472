using System.Collections.ObjectModel;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Analytics.Streaming.Hosting.Tests;

public sealed class AnalyticsStreamingTelemetryTests
{
    [Fact]
    public async Task MeterAndActivitySourceNames_OpenTelemetryInMemoryExporter_CollectRealMeasurements()
    {
        const string pipeline = "telemetry-test";
        // Activity sources and meters are static: tests running beside this one export into these
        // collections too, from their own threads, so they are locked and read as snapshots.
        var metrics = new LockedList<Metric>();
        var activities = new LockedList<Activity>();
        using var meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(AnalyticsStreamingTelemetry.MeterNames)
            .AddInMemoryExporter(metrics)
            .Build();
        using var tracerProvider = Sdk.CreateTracerProviderBuilder()
            .AddSource(AnalyticsStreamingTelemetry.ActivitySourceNames)
            .AddInMemoryExporter(activities)
            .Build();

        var source = new LogSource<Click>("a");
        source.Append("a", TestHosts.Clicks(50, seed: 0));
        source.Complete();
        using (var host = TestHosts.Build(new Dictionary<string, string?>(), null, services => services
            .AddStreamPipeline(pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
            .ReadFrom(_ => source)))
        {
            await host.StartQuicklyAsync();
            var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
            await Eventually.WaitUntilAsync(() => monitor.GetStatus(pipeline).State == StreamPipelineState.Completed, "the pipeline completes");
            await host.StopAsync(TestContext.Current.CancellationToken);
        }

        Assert.True(meterProvider.ForceFlush());
        Assert.True(tracerProvider.ForceFlush());
        Assert.Equal(50, Sum(metrics, "analytics.streaming.records.in", pipeline));
        Assert.Equal(15, Sum(metrics, "analytics.streaming.results.out", pipeline));
        Assert.Equal(1, Sum(metrics, "analytics.streaming.hosting.runs", pipeline));
        Assert.Contains(activities.Snapshot(), a => a.OperationName == "analytics.streaming.checkpoint" && (string?)a.GetTagItem("pipeline") == pipeline);
    }

    [Fact]
    public void MeterNames_EveryPackage_NamedAfterItAndFreshOnEveryCall()
    {
        Assert.Equal(StreamingTelemetry.Name, AnalyticsStreamingTelemetry.Core);
        Assert.Equal(
            ["Analytics.Streaming", "Analytics.Streaming.Hosting", "Analytics.Streaming.Kinesis", "Analytics.Streaming.S3", "Analytics.Streaming.Lambda", "Analytics.Streaming.DynamoDB", "Analytics.Streaming.OpenSearch"],
            AnalyticsStreamingTelemetry.MeterNames);
        Assert.Equal(
            ["Analytics.Streaming", "Analytics.Streaming.Kinesis", "Analytics.Streaming.S3", "Analytics.Streaming.Lambda", "Analytics.Streaming.DynamoDB", "Analytics.Streaming.OpenSearch"],
            AnalyticsStreamingTelemetry.ActivitySourceNames);

        var names = AnalyticsStreamingTelemetry.MeterNames;
        names[0] = "changed";
        Assert.Equal("Analytics.Streaming", AnalyticsStreamingTelemetry.MeterNames[0]);
    }

    private static long Sum(LockedList<Metric> metrics, string name, string pipeline)
    {
        long sum = 0;
        foreach (var metric in metrics.Snapshot().Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                foreach (var tag in point.Tags)
                {
                    if (tag.Key == "pipeline" && (string?)tag.Value == pipeline)
                    {
                        sum += point.GetSumLong();
                    }
                }
            }
        }

        return sum;
    }

    private sealed class LockedList<T> : Collection<T>
    {
        public T[] Snapshot()
        {
            lock (Items)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, T item)
        {
            lock (Items)
            {
                base.InsertItem(index, item);
            }
        }

        protected override void ClearItems()
        {
            lock (Items)
            {
                base.ClearItems();
            }
        }
    }
}
