using System.Diagnostics.Metrics;

namespace Analytics.Streaming.Kinesis;

/// <summary>The shard consumer's instruments on the package meter <c>Analytics.Streaming.Kinesis</c>; cheap when nobody listens.</summary>
internal static class KinesisConsumerTelemetry
{
    public const string MeterName = "Analytics.Streaming.Kinesis";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>User records handed out (after deaggregation), tagged with stream and shard.</summary>
    public static readonly Counter<long> Records = Meter.CreateCounter<long>("kinesis.consumer.records", "{record}", "User records read from shards.");

    /// <summary>Payload bytes read.</summary>
    public static readonly Counter<long> Bytes = Meter.CreateCounter<long>("kinesis.consumer.bytes", "By", "Payload bytes read from shards.");

    /// <summary>Records that went to dead letters (bad aggregates).</summary>
    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("kinesis.consumer.dead_letters", "{record}", "Records rejected before decoding (bad KPL aggregates).");

    /// <summary>Aggregates dropped because a user record hashes outside the shard (KPL re-sent copies).</summary>
    public static readonly Counter<long> MisroutedAggregates = Meter.CreateCounter<long>("kinesis.consumer.misrouted_aggregates", "{record}", "KPL aggregates dropped because a user record belongs to another shard.");

    /// <summary>Throttled reads.</summary>
    public static readonly Counter<long> Throttles = Meter.CreateCounter<long>("kinesis.consumer.throttles", "{call}", "Shard reads the service throttled.");

    /// <summary>Transient read failures that were retried.</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("kinesis.consumer.retries", "{call}", "Shard reads retried after a transient failure.");

    /// <summary>Expired iterators replaced.</summary>
    public static readonly Counter<long> ExpiredIterators = Meter.CreateCounter<long>("kinesis.consumer.expired_iterators", "{iterator}", "Shard iterators that expired and were renewed.");

    /// <summary>How far each shard reader is behind the newest record (the service's MillisBehindLatest).</summary>
    public static readonly Gauge<long> MillisBehindLatest = Meter.CreateGauge<long>("kinesis.consumer.millis_behind_latest", "ms", "How far a shard reader is behind the newest record of its shard.");
}
