using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The telemetry of the Kinesis package: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/>, both named <see cref="Name"/>. Cheap when nobody listens.
/// </summary>
/// <remarks>
/// <para>
/// Instruments are named <c>analytics.streaming.kinesis.&lt;component&gt;.&lt;measure&gt;</c>, with units per the
/// OpenTelemetry conventions (durations in seconds, <c>By</c> for bytes, <c>{record}</c>-style annotations for counts):
/// </para>
/// <list type="bullet">
/// <item><description><c>client.retries</c> ({retry}): calls retried after a transient failure, tagged <c>operation</c> and <c>error.type</c>.</description></item>
/// <item><description><c>producer.records</c>, <c>producer.bytes</c> (By), <c>producer.requests</c>, <c>producer.retries</c>,
/// <c>producer.throttles</c>, <c>producer.failures</c>, and the histogram <c>producer.request.duration</c> (s) of PutRecords calls.</description></item>
/// <item><description><c>consumer.records</c>, <c>consumer.bytes</c> (By), <c>consumer.dead_letters</c>,
/// <c>consumer.misrouted_aggregates</c>, <c>consumer.throttles</c>, <c>consumer.retries</c>, <c>consumer.iterator_renewals</c>,
/// and the gauge <c>consumer.behind_latest</c> (s), each tagged <c>stream</c> and <c>shard</c>.</description></item>
/// <item><description><c>firehose.records</c>, <c>firehose.retries</c>, and the histogram <c>firehose.request.duration</c> (s)
/// of PutRecordBatch calls, tagged <c>delivery_stream</c>.</description></item>
/// </list>
/// <para>
/// The activity source starts one client-kind activity per Kinesis or Firehose call (retries included), named after
/// the operation, such as <c>Kinesis.PutRecords</c>, with the <c>rpc.system</c>, <c>rpc.service</c> and
/// <c>rpc.method</c> tags.
/// </para>
/// </remarks>
public static class KinesisTelemetry
{
    /// <summary>The name of the package's meter and activity source: <c>Analytics.Streaming.Kinesis</c>.</summary>
    public const string Name = "Analytics.Streaming.Kinesis";

    private const string Prefix = "analytics.streaming.kinesis.";

    private static readonly string? Version = typeof(KinesisTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly ActivitySource ActivitySource = new(Name, Version);

    internal static readonly Counter<long> ClientRetries = Meter.CreateCounter<long>(Prefix + "client.retries", "{retry}", "Kinesis and Firehose calls retried after a transient failure.");

    internal static readonly Counter<long> ProducerRecords = Meter.CreateCounter<long>(Prefix + "producer.records", "{record}", "User records written.");
    internal static readonly Counter<long> ProducerBytes = Meter.CreateCounter<long>(Prefix + "producer.bytes", "By", "User record bytes written (data and partition keys).");
    internal static readonly Counter<long> ProducerRequests = Meter.CreateCounter<long>(Prefix + "producer.requests", "{request}", "PutRecords calls made.");
    internal static readonly Counter<long> ProducerRetries = Meter.CreateCounter<long>(Prefix + "producer.retries", "{record}", "Kinesis records sent again after a failure.");
    internal static readonly Counter<long> ProducerThrottles = Meter.CreateCounter<long>(Prefix + "producer.throttles", "{record}", "Kinesis records throttled (ProvisionedThroughputExceededException).");
    internal static readonly Counter<long> ProducerFailures = Meter.CreateCounter<long>(Prefix + "producer.failures", "{record}", "User records given up on.");
    internal static readonly Histogram<double> ProducerRequestDuration = Meter.CreateHistogram<double>(Prefix + "producer.request.duration", "s", "Duration of PutRecords calls.");

    internal static readonly Counter<long> ConsumerRecords = Meter.CreateCounter<long>(Prefix + "consumer.records", "{record}", "User records read from shards (after deaggregation).");
    internal static readonly Counter<long> ConsumerBytes = Meter.CreateCounter<long>(Prefix + "consumer.bytes", "By", "Payload bytes read from shards.");
    internal static readonly Counter<long> ConsumerDeadLetters = Meter.CreateCounter<long>(Prefix + "consumer.dead_letters", "{record}", "Records rejected before decoding (bad KPL aggregates).");
    internal static readonly Counter<long> ConsumerMisroutedAggregates = Meter.CreateCounter<long>(Prefix + "consumer.misrouted_aggregates", "{record}", "KPL aggregates dropped because a user record belongs to another shard.");
    internal static readonly Counter<long> ConsumerThrottles = Meter.CreateCounter<long>(Prefix + "consumer.throttles", "{request}", "Shard reads the service throttled.");
    internal static readonly Counter<long> ConsumerRetries = Meter.CreateCounter<long>(Prefix + "consumer.retries", "{request}", "Shard reads retried after a transient failure other than throttling.");
    internal static readonly Counter<long> ConsumerIteratorRenewals = Meter.CreateCounter<long>(Prefix + "consumer.iterator_renewals", "{iterator}", "Shard iterators that expired and were renewed.");
    internal static readonly Gauge<double> ConsumerBehindLatest = Meter.CreateGauge<double>(Prefix + "consumer.behind_latest", "s", "How far a shard reader is behind the newest record of its shard (the service's MillisBehindLatest).");

    internal static readonly Counter<long> FirehoseRecords = Meter.CreateCounter<long>(Prefix + "firehose.records", "{record}", "Records delivered to Firehose.");
    internal static readonly Counter<long> FirehoseRetries = Meter.CreateCounter<long>(Prefix + "firehose.retries", "{record}", "Records sent again after a failure.");
    internal static readonly Histogram<double> FirehoseRequestDuration = Meter.CreateHistogram<double>(Prefix + "firehose.request.duration", "s", "Duration of PutRecordBatch calls.");
}
