using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The package's log messages, source-generated: stable event ids in 2000-2999 (2000s client, 2100s producer, 2200s
/// consumer, 2300s Firehose sink). Each method checks <see cref="ILogger.IsEnabled"/> first, so nothing is formatted or
/// allocated when nobody listens.
/// </summary>
internal static partial class KinesisLog
{
    // ---- client (2000-2099) ------------------------------------------------------------------------------------

    [LoggerMessage(EventId = 2001, EventName = "CallThrottled", Level = LogLevel.Information,
        Message = "{Service} {Operation} was throttled ({ErrorCode}) on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void CallThrottled(ILogger logger, string service, string operation, string errorCode, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 2002, EventName = "CallRetrying", Level = LogLevel.Warning,
        Message = "{Service} {Operation} failed with {ErrorCode} on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void CallRetrying(ILogger logger, string service, string operation, string errorCode, int attempt, TimeSpan delay, Exception exception);

    // ---- producer (2100-2199) ----------------------------------------------------------------------------------

    [LoggerMessage(EventId = 2101, EventName = "RecordsThrottled", Level = LogLevel.Information,
        Message = "{Count} of {Total} records of a PutRecords call to {Stream} were throttled on attempt {Attempt}; resending them in {Delay}.")]
    public static partial void RecordsThrottled(ILogger logger, string stream, int count, int total, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 2102, EventName = "RecordsRetrying", Level = LogLevel.Warning,
        Message = "{Count} of {Total} records of a PutRecords call to {Stream} failed with {ErrorCode} on attempt {Attempt}; resending them in {Delay}.")]
    public static partial void RecordsRetrying(ILogger logger, string stream, int count, int total, string errorCode, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 2103, EventName = "RecordsFailed", Level = LogLevel.Error,
        Message = "{Count} user records could not be written to {Stream} after {Attempts} attempts; the last error was {ErrorCode}: {ErrorMessage}. FlushAsync reports them.")]
    public static partial void RecordsFailed(ILogger logger, string stream, int count, int attempts, string errorCode, string errorMessage);

    [LoggerMessage(EventId = 2104, EventName = "ShardMapLoaded", Level = LogLevel.Debug,
        Message = "Shard map of {Stream} loaded: {OpenShards} open shards.")]
    public static partial void ShardMapLoaded(ILogger logger, string stream, int openShards);

    [LoggerMessage(EventId = 2105, EventName = "ShardMapFailed", Level = LogLevel.Warning,
        Message = "The shards of {Stream} could not be listed; records are sent without KPL aggregation until the next refresh.")]
    public static partial void ShardMapFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 2106, EventName = "AggregateRedirected", Level = LogLevel.Information,
        Message = "A KPL aggregate meant for {PredictedShard} of {Stream} landed on {ActualShard} (the stream was resharded): reloading the shard map and sending its {Count} user records again.")]
    public static partial void AggregateRedirected(ILogger logger, string stream, string predictedShard, string actualShard, int count);

    // ---- consumer (2200-2299) ----------------------------------------------------------------------------------

    [LoggerMessage(EventId = 2201, EventName = "ShardsDiscovered", Level = LogLevel.Information,
        Message = "{Stream}: {NewShards} new shard(s) listed, {KnownShards} known in all.")]
    public static partial void ShardsDiscovered(ILogger logger, string stream, int newShards, int knownShards);

    [LoggerMessage(EventId = 2202, EventName = "ShardReaderStarted", Level = LogLevel.Debug,
        Message = "{Stream}/{Shard}: reading from {Position}.")]
    public static partial void ShardReaderStarted(ILogger logger, string stream, string shard, KinesisStartingPosition position);

    [LoggerMessage(EventId = 2203, EventName = "ShardEnded", Level = LogLevel.Information,
        Message = "{Stream}/{Shard}: read to its end (closed by a reshard); its children start once the pipeline has checkpointed the end.")]
    public static partial void ShardEnded(ILogger logger, string stream, string shard);

    [LoggerMessage(EventId = 2204, EventName = "ChildShardReady", Level = LogLevel.Information,
        Message = "{Stream}/{Shard}: its parents are finished; reading it.")]
    public static partial void ChildShardReady(ILogger logger, string stream, string shard);

    [LoggerMessage(EventId = 2205, EventName = "IteratorRenewed", Level = LogLevel.Information,
        Message = "{Stream}/{Shard}: the shard iterator expired; renewed from {Position}.")]
    public static partial void IteratorRenewed(ILogger logger, string stream, string shard, KinesisStartingPosition position);

    [LoggerMessage(EventId = 2206, EventName = "ReadThrottled", Level = LogLevel.Information,
        Message = "{Stream}/{Shard}: {Operation} was throttled ({ErrorCode}) on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void ReadThrottled(ILogger logger, string stream, string shard, string operation, string errorCode, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 2207, EventName = "ReadRetrying", Level = LogLevel.Warning,
        Message = "{Stream}/{Shard}: {Operation} failed on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void ReadRetrying(ILogger logger, string stream, string shard, string operation, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2208, EventName = "BadAggregate", Level = LogLevel.Warning,
        Message = "{Stream}/{Shard}: record {SequenceNumber} is not a valid KPL aggregate ({Reason}); it goes to the dead letters.")]
    public static partial void BadAggregate(ILogger logger, string stream, string shard, SequenceNumber sequenceNumber, string reason);

    [LoggerMessage(EventId = 2209, EventName = "MisroutedAggregate", Level = LogLevel.Debug,
        Message = "{Stream}/{Shard}: KPL aggregate {SequenceNumber} holds user records of another shard (a copy the KPL sent again after a reshard); dropped.")]
    public static partial void MisroutedAggregate(ILogger logger, string stream, string shard, SequenceNumber sequenceNumber);

    [LoggerMessage(EventId = 2210, EventName = "DiscoveryRetrying", Level = LogLevel.Warning,
        Message = "{Stream}: listing the shards failed on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void DiscoveryRetrying(ILogger logger, string stream, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2211, EventName = "FanOutConsumerReady", Level = LogLevel.Information,
        Message = "{Stream}: enhanced fan-out consumer {ConsumerName} is ACTIVE ({ConsumerArn}).")]
    public static partial void FanOutConsumerReady(ILogger logger, string stream, string consumerName, string consumerArn);

    [LoggerMessage(EventId = 2212, EventName = "DiscoveryFailed", Level = LogLevel.Warning,
        Message = "{Stream}: listing the shards failed after every retry; reading the known shards and listing again in {Delay}.")]
    public static partial void DiscoveryFailed(ILogger logger, string stream, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2213, EventName = "ShardRevoked", Level = LogLevel.Information,
        Message = "{Stream}/{Shard}: no longer assigned to this consumer (its lease was taken or lost); its reader stops.")]
    public static partial void ShardRevoked(ILogger logger, string stream, string shard);

    // ---- Firehose sink (2300-2399) -----------------------------------------------------------------------------

    [LoggerMessage(EventId = 2301, EventName = "FirehoseRecordsRetrying", Level = LogLevel.Warning,
        Message = "{Count} of {Total} records to {DeliveryStream} failed with {ErrorCode} on attempt {Attempt}; resending them in {Delay}.")]
    public static partial void FirehoseRecordsRetrying(ILogger logger, string deliveryStream, int count, int total, string errorCode, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 2302, EventName = "FirehoseRecordsFailed", Level = LogLevel.Error,
        Message = "{Count} records could not be delivered to {DeliveryStream} after {Attempts} attempts; the last error was {ErrorCode}.")]
    public static partial void FirehoseRecordsFailed(ILogger logger, string deliveryStream, int count, int attempts, string errorCode);

    [LoggerMessage(EventId = 2303, EventName = "FirehoseItemDeadLettered", Level = LogLevel.Warning,
        Message = "An item for {DeliveryStream} cannot be a Firehose record and goes to the dead letters: {Reason}")]
    public static partial void FirehoseItemDeadLettered(ILogger logger, string deliveryStream, string reason);
}
