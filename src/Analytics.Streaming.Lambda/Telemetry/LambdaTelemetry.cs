using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming.Lambda;

/// <summary>
/// The telemetry of the Lambda package: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/>, both named <see cref="Name"/>. Cheap when nobody listens.
/// </summary>
/// <remarks>
/// <para>
/// Instruments are named <c>analytics.streaming.lambda.&lt;component&gt;.&lt;measure&gt;</c>, with units per the
/// OpenTelemetry conventions (durations in seconds, <c>By</c> for bytes):
/// </para>
/// <list type="bullet">
/// <item><description><c>kinesis.records</c> (Kinesis records received), <c>kinesis.user_records</c> (after KPL
/// deaggregation), <c>kinesis.dead_letters</c>, <c>kinesis.replayed</c> (records a retried batch held that the shard's
/// checkpoint already covered), <c>kinesis.failures</c> (partial batch failures reported), <c>kinesis.results</c>
/// (window results written), and the histogram <c>kinesis.invocation.duration</c> (s); tagged <c>pipeline</c> and <c>shard</c>.</description></item>
/// <item><description><c>tumbling.records</c>, <c>tumbling.dead_letters</c>, <c>tumbling.results</c>, and the histogram
/// <c>tumbling.state.size</c> (By) of the state returned; tagged <c>pipeline</c> and <c>shard</c>.</description></item>
/// <item><description><c>firehose.records</c>, tagged <c>result</c> (<c>Ok</c>, <c>Dropped</c>, <c>ProcessingFailed</c>),
/// and <c>firehose.overflow</c> (records failed because the response would pass its size limit).</description></item>
/// </list>
/// <para>
/// The activity source starts one activity per invocation: <c>Lambda.Kinesis</c>, <c>Lambda.KinesisTumblingWindow</c>,
/// <c>Lambda.FirehoseTransformation</c>.
/// </para>
/// </remarks>
public static class LambdaTelemetry
{
    /// <summary>The name of the package's meter and activity source: <c>Analytics.Streaming.Lambda</c>.</summary>
    public const string Name = "Analytics.Streaming.Lambda";

    private const string Prefix = "analytics.streaming.lambda.";

    private static readonly string? Version = typeof(LambdaTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly ActivitySource ActivitySource = new(Name, Version);

    internal static readonly Counter<long> KinesisRecords = Meter.CreateCounter<long>(Prefix + "kinesis.records", "{record}", "Kinesis records received in events.");
    internal static readonly Counter<long> KinesisUserRecords = Meter.CreateCounter<long>(Prefix + "kinesis.user_records", "{record}", "User records after KPL deaggregation.");
    internal static readonly Counter<long> KinesisDeadLetters = Meter.CreateCounter<long>(Prefix + "kinesis.dead_letters", "{record}", "Records sent to the dead letters (bad aggregates, decode failures, invalid values), and window results of a stage fed by windows.");
    internal static readonly Counter<long> KinesisReplayed = Meter.CreateCounter<long>(Prefix + "kinesis.replayed", "{record}", "Records of retried batches that the shard's checkpoint already covered.");
    internal static readonly Counter<long> KinesisFailures = Meter.CreateCounter<long>(Prefix + "kinesis.failures", "{record}", "Partial batch failures reported to Lambda.");
    internal static readonly Counter<long> KinesisResults = Meter.CreateCounter<long>(Prefix + "kinesis.results", "{result}", "Window results written to the sinks.");
    internal static readonly Histogram<double> KinesisInvocationDuration = Meter.CreateHistogram<double>(Prefix + "kinesis.invocation.duration", "s", "Duration of Kinesis invocations: restore, process, deliver, flush, checkpoint.");

    internal static readonly Counter<long> TumblingRecords = Meter.CreateCounter<long>(Prefix + "tumbling.records", "{record}", "User records added to tumbling-window state.");
    internal static readonly Counter<long> TumblingDeadLetters = Meter.CreateCounter<long>(Prefix + "tumbling.dead_letters", "{record}", "Records of tumbling-window invocations sent to the dead letters.");
    internal static readonly Counter<long> TumblingResults = Meter.CreateCounter<long>(Prefix + "tumbling.results", "{result}", "Results written at the final invocation of tumbling windows.");
    internal static readonly Histogram<long> TumblingStateSize = Meter.CreateHistogram<long>(Prefix + "tumbling.state.size", "By", "Size of the state returned to Lambda (JSON bytes).");

    internal static readonly Counter<long> FirehoseRecords = Meter.CreateCounter<long>(Prefix + "firehose.records", "{record}", "Firehose records answered, tagged with their result.");
    internal static readonly Counter<long> FirehoseOverflow = Meter.CreateCounter<long>(Prefix + "firehose.overflow", "{record}", "Firehose records failed because the response would pass its size limit.");
}
