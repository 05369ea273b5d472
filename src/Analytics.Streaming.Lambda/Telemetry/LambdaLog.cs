using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Lambda;

/// <summary>
/// The package's log messages, source-generated: stable event ids in 6000-6999 (6000s Kinesis handler, 6100s
/// tumbling windows, 6200s Firehose transformation). Nothing is formatted when nobody listens.
/// </summary>
internal static partial class LambdaLog
{
    // ---- Kinesis (6000-6099) ------------------------------------------------------------------------------------

    [LoggerMessage(EventId = 6001, EventName = "KinesisBatchProcessed", Level = LogLevel.Debug,
        Message = "Pipeline {Pipeline}, {Shard}: {Records} records ({Accepted} accepted, {Late} late, {DeadLetters} dead letters, {Replayed} replayed), {Results} results, checkpoint {CheckpointId}.")]
    public static partial void KinesisBatchProcessed(ILogger logger, string pipeline, string shard, int records, int accepted, int late, int deadLetters, int replayed, int results, long checkpointId);

    [LoggerMessage(EventId = 6002, EventName = "KinesisRecordFailed", Level = LogLevel.Warning,
        Message = "Pipeline {Pipeline}, {Shard}: record {SequenceNumber} failed; the records before it are committed and Lambda retries from it.")]
    public static partial void KinesisRecordFailed(ILogger logger, Exception exception, string pipeline, string shard, string sequenceNumber);

    [LoggerMessage(EventId = 6003, EventName = "KinesisDeadLetter", Level = LogLevel.Warning,
        Message = "Pipeline {Pipeline}: dead letter at {Position}: {Reason}: {Message}")]
    public static partial void KinesisDeadLetter(ILogger logger, string pipeline, StreamPosition position, DeadLetterReason reason, string message);

    [LoggerMessage(EventId = 6004, EventName = "KinesisReplayed", Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}, {Shard}: {Replayed} records of a retried batch were already covered by checkpoint {CheckpointId}; not counted again.")]
    public static partial void KinesisReplayed(ILogger logger, string pipeline, string shard, int replayed, long checkpointId);

    [LoggerMessage(EventId = 6005, EventName = "KinesisInvocationFailed", Level = LogLevel.Error,
        Message = "Pipeline {Pipeline}, {Shard}: the invocation failed before its checkpoint was saved; Lambda retries the batch.")]
    public static partial void KinesisInvocationFailed(ILogger logger, Exception exception, string pipeline, string shard);

    [LoggerMessage(EventId = 6006, EventName = "KinesisShardCompleted", Level = LogLevel.Information,
        Message = "Pipeline {Pipeline}, {Shard}: completed; {Results} open windows emitted.")]
    public static partial void KinesisShardCompleted(ILogger logger, string pipeline, string shard, int results);

    [LoggerMessage(EventId = 6007, EventName = "KinesisRecordSetAside", Level = LogLevel.Warning,
        Message = "Pipeline {Pipeline}, {Shard}: an aggregator threw on the record at {Position}; the batch starts again from the checkpoint with that record as a dead letter.")]
    public static partial void KinesisRecordSetAside(ILogger logger, Exception exception, string pipeline, string shard, string position);

    // ---- tumbling windows (6100-6199) ---------------------------------------------------------------------------

    [LoggerMessage(EventId = 6008, EventName = "KinesisPipelineRebuilt", Level = LogLevel.Warning,
        Message = "A sink of pipeline {Pipeline} failed: the handler built the pipeline again, so the retry gets new sinks.")]
    public static partial void KinesisPipelineRebuilt(ILogger logger, string pipeline);

    [LoggerMessage(EventId = 6009, EventName = "KinesisPipelineRebuildFailed", Level = LogLevel.Error,
        Message = "A sink of pipeline {Pipeline} failed, and the pipeline factory could not build it again; the old sinks stay.")]
    public static partial void KinesisPipelineRebuildFailed(ILogger logger, Exception exception, string pipeline);

    [LoggerMessage(EventId = 6101, EventName = "TumblingWindowInvoked", Level = LogLevel.Debug,
        Message = "Tumbling window {Name}, {Shard}, [{Start:O}, {End:O}): {Records} records, {Keys} keys, final {IsFinal}, terminated early {TerminatedEarly}.")]
    public static partial void TumblingWindowInvoked(ILogger logger, string name, string shard, DateTimeOffset start, DateTimeOffset end, int records, int keys, bool isFinal, bool terminatedEarly);

    [LoggerMessage(EventId = 6102, EventName = "TumblingStateTooLarge", Level = LogLevel.Error,
        Message = "Tumbling window {Name}, {Shard}: the state is {Size} bytes, over the limit of {Limit} bytes.")]
    public static partial void TumblingStateTooLarge(ILogger logger, string name, string shard, long size, long limit);

    [LoggerMessage(EventId = 6103, EventName = "TumblingRecordFailed", Level = LogLevel.Warning,
        Message = "Tumbling window {Name}, {Shard}: record {SequenceNumber} failed; the state covers the records before it and Lambda retries from it.")]
    public static partial void TumblingRecordFailed(ILogger logger, Exception exception, string name, string shard, string sequenceNumber);

    [LoggerMessage(EventId = 6104, EventName = "TumblingWindowEmitted", Level = LogLevel.Information,
        Message = "Tumbling window {Name}, {Shard}, [{Start:O}, {End:O}): final invocation, {Results} results written.")]
    public static partial void TumblingWindowEmitted(ILogger logger, string name, string shard, DateTimeOffset start, DateTimeOffset end, int results);

    // ---- Firehose (6200-6299) -----------------------------------------------------------------------------------

    [LoggerMessage(EventId = 6201, EventName = "FirehoseRecordFailed", Level = LogLevel.Warning,
        Message = "Firehose transformation {InvocationId}: record {RecordId} failed: {Reason}")]
    public static partial void FirehoseRecordFailed(ILogger logger, string invocationId, string recordId, string reason);

    [LoggerMessage(EventId = 6202, EventName = "FirehoseResponseFull", Level = LogLevel.Error,
        Message = "Firehose transformation {InvocationId}: {Count} transformed records do not fit in the {Limit}-byte response and are marked ProcessingFailed.")]
    public static partial void FirehoseResponseFull(ILogger logger, string invocationId, int count, int limit);

    [LoggerMessage(EventId = 6203, EventName = "FirehoseInvocation", Level = LogLevel.Debug,
        Message = "Firehose transformation {InvocationId}: {Ok} Ok, {Dropped} Dropped, {Failed} ProcessingFailed, {Bytes} response bytes.")]
    public static partial void FirehoseInvocation(ILogger logger, string invocationId, int ok, int dropped, int failed, long bytes);
}
