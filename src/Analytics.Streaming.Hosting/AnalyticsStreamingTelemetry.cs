using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// The names of the meters and activity sources of the Analytics.Streaming packages, to hand to OpenTelemetry (or any
/// listener) in one call, without this package depending on OpenTelemetry:
/// <c>services.AddOpenTelemetry().WithMetrics(m =&gt; m.AddMeter(AnalyticsStreamingTelemetry.MeterNames)).WithTracing(t =&gt; t.AddSource(AnalyticsStreamingTelemetry.ActivitySourceNames))</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each package has one meter and at most one activity source, named after the package. The lists hold every
/// package's name, whether or not the application references that package: a name nothing publishes under costs
/// nothing. The core's name is taken from <see cref="StreamingTelemetry.Name"/>; the others follow the same rule.
/// </para>
/// <para>
/// The hosting package's meter (<see cref="Hosting"/>) has <c>analytics.streaming.hosting.runs</c> (runs started),
/// <c>analytics.streaming.hosting.failures</c> (failed runs, tagged <c>kind</c>) and
/// <c>analytics.streaming.hosting.restarts</c> (restarts after a failure) counters, each tagged <c>pipeline</c>;
/// it has no activity source.
/// </para>
/// </remarks>
public static class AnalyticsStreamingTelemetry
{
    /// <summary>The core package's meter and activity source: records, late records, dead letters, results, windows, watermark lag, flushes and checkpoints.</summary>
    public const string Core = StreamingTelemetry.Name;

    /// <summary>This package's meter: runs, failures and restarts of hosted pipelines.</summary>
    public const string Hosting = "Analytics.Streaming.Hosting";

    /// <summary>The Kinesis package's meter and activity source (consumer, producer, Firehose).</summary>
    public const string Kinesis = "Analytics.Streaming.Kinesis";

    /// <summary>The S3 package's meter and activity source (objects, records, bytes, uploads).</summary>
    public const string S3 = "Analytics.Streaming.S3";

    /// <summary>The Lambda package's meter and activity source.</summary>
    public const string Lambda = "Analytics.Streaming.Lambda";

    /// <summary>The DynamoDB package's meter and activity source.</summary>
    public const string DynamoDB = "Analytics.Streaming.DynamoDB";

    /// <summary>The OpenSearch package's meter and activity source.</summary>
    public const string OpenSearch = "Analytics.Streaming.OpenSearch";

    internal static readonly Meter Meter = new(Hosting, typeof(AnalyticsStreamingTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Runs = Meter.CreateCounter<long>("analytics.streaming.hosting.runs", "{run}", "Pipeline runs started by the worker.");

    internal static readonly Counter<long> Failures = Meter.CreateCounter<long>("analytics.streaming.hosting.failures", "{run}", "Pipeline runs that failed.");

    internal static readonly Counter<long> Restarts = Meter.CreateCounter<long>("analytics.streaming.hosting.restarts", "{run}", "Pipeline runs restarted after a failure.");

    /// <summary>Gets the names of every package's meter (a new array on every call, ready for <c>AddMeter(params string[])</c>).</summary>
    [SuppressMessage("Performance", "CA1819:Properties should not return arrays", Justification = "OpenTelemetry's AddMeter and AddSource take params string[]; each call returns a fresh copy.")]
    public static string[] MeterNames => [Core, Hosting, Kinesis, S3, Lambda, DynamoDB, OpenSearch];

    /// <summary>Gets the names of every package's activity source (a new array on every call, ready for <c>AddSource(params string[])</c>).</summary>
    [SuppressMessage("Performance", "CA1819:Properties should not return arrays", Justification = "OpenTelemetry's AddMeter and AddSource take params string[]; each call returns a fresh copy.")]
    public static string[] ActivitySourceNames => [Core, Kinesis, S3, Lambda, DynamoDB, OpenSearch];
}
