using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming;

/// <summary>
/// The telemetry of the core package: the <c>Analytics.Streaming</c> meter and activity source. Every instrument
/// carries a <c>pipeline</c> tag. Cheap when nobody listens.
/// </summary>
/// <remarks>
/// Instruments: <c>analytics.streaming.records.in</c>, <c>.records.late</c>, <c>.records.replayed</c>, <c>.dead_letters</c>,
/// <c>.results.out</c> (counters); <c>.reading.held_back</c> (seconds the reader waited for room in the pipeline's
/// channel, counter); <c>.windows.open</c> and <c>.watermark.lag</c> (seconds behind the clock) (gauges);
/// <c>.sink.flush.duration</c> (milliseconds, histogram).
/// </remarks>
public static class StreamingTelemetry
{
    /// <summary>The name of the meter and the activity source.</summary>
    public const string Name = "Analytics.Streaming";

    private static readonly ConcurrentDictionary<Registration, (string Pipeline, PipelineStatistics Statistics, TimeProvider Time)> Live = new();

    internal static readonly Meter Meter = new(Name, typeof(StreamingTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Counter<long> RecordsIn = Meter.CreateCounter<long>("analytics.streaming.records.in", "{record}", "Records read from sources.");

    internal static readonly Counter<long> LateRecords = Meter.CreateCounter<long>("analytics.streaming.records.late", "{record}", "Records that arrived after their windows were purged.");

    internal static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("analytics.streaming.dead_letters", "{record}", "Records read, and window results, sent to the dead letters.");

    internal static readonly Counter<long> RecordsReplayed = Meter.CreateCounter<long>("analytics.streaming.records.replayed", "{record}", "Records read again after a restart that the restored checkpoint already covered.");

    internal static readonly Counter<long> ResultsOut = Meter.CreateCounter<long>("analytics.streaming.results.out", "{result}", "Window results written to sinks.");

    internal static readonly Histogram<double> FlushDuration = Meter.CreateHistogram<double>("analytics.streaming.sink.flush.duration", "ms", "Time to flush every sink and save a checkpoint.");

    internal static readonly Counter<double> ReadingHeldBack = Meter.CreateCounter<double>("analytics.streaming.reading.held_back", "s", "Time the pipeline held its reading back because its channel was full: the processing or the sinks behind the source (backpressure).");

    static StreamingTelemetry()
    {
        Meter.CreateObservableGauge("analytics.streaming.windows.open", ObserveOpenWindows, "{window}", "Keyed window states held in memory.");
        Meter.CreateObservableGauge("analytics.streaming.watermark.lag", ObserveWatermarkLag, "s", "How far the watermark is behind the clock.");
    }

    internal static IDisposable Register(string pipeline, PipelineStatistics statistics, TimeProvider time)
    {
        var registration = new Registration();
        Live[registration] = (pipeline, statistics, time);
        return registration;
    }

    private static IEnumerable<Measurement<long>> ObserveOpenWindows()
    {
        foreach (var live in Live.Values)
        {
            yield return new Measurement<long>(live.Statistics.OpenWindows, new KeyValuePair<string, object?>("pipeline", live.Pipeline));
        }
    }

    private static IEnumerable<Measurement<double>> ObserveWatermarkLag()
    {
        foreach (var live in Live.Values)
        {
            var watermark = live.Statistics.Watermark;
            if (watermark != DateTimeOffset.MinValue && watermark != DateTimeOffset.MaxValue)
            {
                yield return new Measurement<double>((live.Time.GetUtcNow() - watermark).TotalSeconds, new KeyValuePair<string, object?>("pipeline", live.Pipeline));
            }
        }
    }

    private sealed class Registration : IDisposable
    {
        public void Dispose() => Live.TryRemove(this, out _);
    }
}
