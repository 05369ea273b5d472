using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// The log messages of the result sink and the checkpoint store, source-generated: stable event ids in 4000-4199
/// (4000s sink, 4100s checkpoint store; the lease table and coordinator log in 4200-4399). Each method checks
/// <see cref="ILogger.IsEnabled"/> first, so nothing is formatted or allocated when nobody listens.
/// </summary>
internal static partial class DynamoDbLog
{
    // ---- result sink (4000-4099) -------------------------------------------------------------------------------

    [LoggerMessage(EventId = 4001, EventName = "SinkRetrying", Level = LogLevel.Warning,
        Message = "DynamoDB {Operation} on table {Table} failed with {ErrorCode} on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void SinkRetrying(ILogger logger, string operation, string table, string errorCode, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 4002, EventName = "SinkUnprocessedItems", Level = LogLevel.Information,
        Message = "{Count} items of a BatchWriteItem call to table {Table} came back unprocessed on attempt {Attempt}; resending them in {Delay}.")]
    public static partial void SinkUnprocessedItems(ILogger logger, string table, int count, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 4003, EventName = "SinkDeadLetter", Level = LogLevel.Warning,
        Message = "An item for table {Table} went to the dead letters ({Reason}): {Message}")]
    public static partial void SinkDeadLetter(ILogger logger, string table, DeadLetterReason reason, string message);

    [LoggerMessage(EventId = 4004, EventName = "SinkGaveUp", Level = LogLevel.Error,
        Message = "Writing to DynamoDB table {Table} failed after every attempt; the sink stops and the pipeline resumes from its last checkpoint.")]
    public static partial void SinkGaveUp(ILogger logger, string table, Exception exception);

    [LoggerMessage(EventId = 4005, EventName = "SinkBatchRejected", Level = LogLevel.Information,
        Message = "DynamoDB rejected a BatchWriteItem call of {Count} items to table {Table} ({ErrorMessage}); writing them one by one to find the bad items.")]
    public static partial void SinkBatchRejected(ILogger logger, string table, int count, string errorMessage);

    // ---- checkpoint store (4100-4199) --------------------------------------------------------------------------

    [LoggerMessage(EventId = 4101, EventName = "CheckpointSaved", Level = LogLevel.Debug,
        Message = "Checkpoint {CheckpointId} of pipeline {Pipeline} saved to table {Table}: {Bytes} bytes in {Chunks} chunks.")]
    public static partial void CheckpointSaved(ILogger logger, string table, string pipeline, long checkpointId, int bytes, int chunks);

    [LoggerMessage(EventId = 4102, EventName = "CheckpointNotNewer", Level = LogLevel.Information,
        Message = "Checkpoint {CheckpointId} of pipeline {Pipeline} was not saved: table {Table} already holds checkpoint {StoredId}.")]
    public static partial void CheckpointNotNewer(ILogger logger, string table, string pipeline, long checkpointId, long storedId);

    [LoggerMessage(EventId = 4103, EventName = "CheckpointRetrying", Level = LogLevel.Warning,
        Message = "DynamoDB {Operation} on checkpoint table {Table} failed with {ErrorCode} on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void CheckpointRetrying(ILogger logger, string operation, string table, string errorCode, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 4104, EventName = "CheckpointCleanupFailed", Level = LogLevel.Warning,
        Message = "Deleting old chunks of pipeline {Pipeline} from table {Table} failed; the next save tries again.")]
    public static partial void CheckpointCleanupFailed(ILogger logger, string table, string pipeline, Exception exception);

    [LoggerMessage(EventId = 4105, EventName = "CheckpointChunksDeleted", Level = LogLevel.Debug,
        Message = "Deleted {Count} chunks of older or unfinished snapshots of pipeline {Pipeline} from table {Table}.")]
    public static partial void CheckpointChunksDeleted(ILogger logger, string table, string pipeline, int count);
}
