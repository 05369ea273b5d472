using Microsoft.Extensions.Logging;

namespace Analytics.Streaming;

/// <summary>
/// The core package's log events (ids 1000-1099), source-generated: nothing is formatted or allocated unless the level
/// is enabled. Category: <c>Analytics.Streaming.StreamPipeline</c>.
/// </summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 1000, EventName = "PipelineStarted", Level = LogLevel.Information, Message = "Pipeline {Pipeline} started afresh.")]
    public static partial void StartedAfresh(ILogger logger, string pipeline);

    [LoggerMessage(EventId = 1001, EventName = "PipelineRestored", Level = LogLevel.Information, Message = "Pipeline {Pipeline} resumes from checkpoint {CheckpointId}: watermark {Watermark:O}, {Partitions} partitions, {StateBytes} bytes of window state.")]
    public static partial void Restored(ILogger logger, string pipeline, long checkpointId, DateTimeOffset watermark, int partitions, int stateBytes);

    [LoggerMessage(EventId = 1002, EventName = "CheckpointSaved", Level = LogLevel.Debug, Message = "Pipeline {Pipeline} saved checkpoint {CheckpointId} after flushing its sinks in {ElapsedMs:F1} ms: watermark {Watermark:O}, {StateBytes} bytes of window state.")]
    public static partial void CheckpointSaved(ILogger logger, string pipeline, long checkpointId, double elapsedMs, DateTimeOffset watermark, int stateBytes);

    [LoggerMessage(EventId = 1003, EventName = "DeadLetter", Level = LogLevel.Warning, Message = "Pipeline {Pipeline} sent the record at {Position} to the dead letters ({Reason}): {Detail}")]
    public static partial void DeadLetter(ILogger logger, string pipeline, StreamPosition position, DeadLetterReason reason, string detail);

    [LoggerMessage(EventId = 1004, EventName = "LateRecords", Level = LogLevel.Debug, Message = "Pipeline {Pipeline} sent {Count} late records to the late output.")]
    public static partial void LateRecords(ILogger logger, string pipeline, int count);

    [LoggerMessage(EventId = 1005, EventName = "SinkFailed", Level = LogLevel.Error, Message = "Pipeline {Pipeline} stops: a sink failed; nothing after checkpoint {CheckpointId} is checkpointed and the next run replays from there.")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string pipeline, long checkpointId);

    [LoggerMessage(EventId = 1006, EventName = "SourceFailed", Level = LogLevel.Error, Message = "Pipeline {Pipeline}: the source failed; what it delivered is processed, flushed and checkpointed before the error is rethrown.")]
    public static partial void SourceFailed(ILogger logger, Exception exception, string pipeline);

    [LoggerMessage(EventId = 1007, EventName = "PipelineStopped", Level = LogLevel.Information, Message = "Pipeline {Pipeline} stopped ({Why}): {RecordsIn} records in, {Accepted} accepted, {Late} late, {DeadLetters} dead letters, {Replayed} replayed, {Results} results out.")]
    public static partial void Stopped(ILogger logger, string pipeline, string why, long recordsIn, long accepted, long late, long deadLetters, long replayed, long results);

    [LoggerMessage(EventId = 1008, EventName = "ShutdownTimedOut", Level = LogLevel.Error, Message = "Pipeline {Pipeline} could not flush and save its final checkpoint within {ShutdownTimeout}.")]
    public static partial void ShutdownTimedOut(ILogger logger, string pipeline, TimeSpan shutdownTimeout);

    [LoggerMessage(EventId = 1009, EventName = "RecordsReplayed", Level = LogLevel.Debug, Message = "Pipeline {Pipeline} recognised {Count} records of partition {Partition} as replays the restored checkpoint already covers.")]
    public static partial void Replayed(ILogger logger, string pipeline, string partition, int count);

    [LoggerMessage(EventId = 1010, EventName = "CheckpointRefused", Level = LogLevel.Warning, Message = "Pipeline {Pipeline} stops: the store refused checkpoint {CheckpointId} because another writer took the pipeline over ({Reason}); its sinks undo what they wrote for it.")]
    public static partial void CheckpointRefused(ILogger logger, string pipeline, long checkpointId, string reason);

    [LoggerMessage(EventId = 1011, EventName = "CheckpointRefusalNotUndone", Level = LogLevel.Error, Message = "Pipeline {Pipeline}: a sink could not undo what it wrote for refused checkpoint {CheckpointId}; the new owner undoes it when it can, and readers may see it twice until then.")]
    public static partial void CheckpointRefusalNotUndone(ILogger logger, Exception exception, string pipeline, long checkpointId);

    [LoggerMessage(EventId = 1012, EventName = "AggregationFailed", Level = LogLevel.Warning, Message = "Pipeline {Pipeline} stops: an aggregator threw on the record at {Position}; nothing after checkpoint {CheckpointId} is checkpointed, and the next run sends that record to the dead letters.")]
    public static partial void AggregationFailed(ILogger logger, Exception exception, string pipeline, StreamPosition position, long checkpointId);

    [LoggerMessage(EventId = 1013, EventName = "RunningAgain", Level = LogLevel.Information, Message = "Pipeline {Pipeline} runs again from its last checkpoint, setting aside the record at {Position}.")]
    public static partial void RunningAgain(ILogger logger, string pipeline, StreamPosition position);
}
