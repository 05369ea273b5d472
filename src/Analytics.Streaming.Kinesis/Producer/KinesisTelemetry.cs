using System.Diagnostics.Metrics;

namespace Analytics.Streaming.Kinesis;

/// <summary>The package's <see cref="System.Diagnostics.Metrics.Meter"/> (name <c>Analytics.Streaming.Kinesis</c>) and its instruments.</summary>
/// <remarks>Instruments cost nothing measurable when nobody listens.</remarks>
public static class KinesisTelemetry
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "Analytics.Streaming.Kinesis";

    internal static readonly Meter Meter = new(MeterName, "1.0");

    internal static readonly Counter<long> ProducerRecords = Meter.CreateCounter<long>("kinesis.producer.records", "{record}", "User records written.");
    internal static readonly Counter<long> ProducerBytes = Meter.CreateCounter<long>("kinesis.producer.bytes", "By", "User record bytes written (data and partition keys).");
    internal static readonly Counter<long> ProducerBatches = Meter.CreateCounter<long>("kinesis.producer.batches", "{call}", "PutRecords calls made.");
    internal static readonly Counter<long> ProducerRetries = Meter.CreateCounter<long>("kinesis.producer.retries", "{record}", "Kinesis records sent again after a failure.");
    internal static readonly Counter<long> ProducerThrottles = Meter.CreateCounter<long>("kinesis.producer.throttles", "{record}", "Kinesis records throttled (ProvisionedThroughputExceededException).");
    internal static readonly Counter<long> ProducerFailures = Meter.CreateCounter<long>("kinesis.producer.failures", "{record}", "User records given up on.");
    internal static readonly Histogram<double> ProducerLatency = Meter.CreateHistogram<double>("kinesis.producer.latency", "ms", "Duration of PutRecords calls.");
    internal static readonly Counter<long> FirehoseRecords = Meter.CreateCounter<long>("firehose.sink.records", "{record}", "Records delivered to Firehose.");
    internal static readonly Counter<long> FirehoseRetries = Meter.CreateCounter<long>("firehose.sink.retries", "{record}", "Records sent again after a failure.");
    internal static readonly Histogram<double> FirehoseLatency = Meter.CreateHistogram<double>("firehose.sink.latency", "ms", "Duration of PutRecordBatch calls.");
}
