using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.S3;

/// <summary>
/// The package's log messages, source-generated: stable event ids in 3000-3999. Each method checks
/// <see cref="ILogger.IsEnabled"/> first, so nothing is formatted or allocated when nobody listens.
/// </summary>
internal static partial class S3Log
{
    [LoggerMessage(EventId = 3001, EventName = "StoreRequestRetrying", Level = LogLevel.Warning,
        Message = "A store request of table {Table} failed with {ErrorType} on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void RequestRetrying(ILogger logger, string table, string errorType, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 3002, EventName = "ObjectStored", Level = LogLevel.Debug,
        Message = "Stored {Key} for table {Table}: {Records} records, {Bytes} bytes.")]
    public static partial void ObjectStored(ILogger logger, string table, string key, long records, long bytes);

    [LoggerMessage(EventId = 3003, EventName = "RecordToErrorPrefix", Level = LogLevel.Warning,
        Message = "A record of table {Table} was written to the error prefix: {ErrorCode}: {Reason}")]
    public static partial void RecordToErrorPrefix(ILogger logger, string table, string errorCode, string reason);

    [LoggerMessage(EventId = 3004, EventName = "ObjectRolledBack", Level = LogLevel.Information,
        Message = "Deleted {Key} of table {Table}: it belongs to a checkpoint that was never saved.")]
    public static partial void ObjectRolledBack(ILogger logger, string table, string key);

    [LoggerMessage(EventId = 3101, EventName = "CompactionStarted", Level = LogLevel.Information,
        Message = "Compacting table {Table} under {TablePrefix}.")]
    public static partial void CompactionStarted(ILogger logger, string table, string tablePrefix);

    [LoggerMessage(EventId = 3102, EventName = "PartitionCompacted", Level = LogLevel.Information,
        Message = "Compacted {Inputs} objects ({Rows} rows) of table {Table} into {Output} ({Bytes} bytes).")]
    public static partial void PartitionCompacted(ILogger logger, string table, int inputs, long rows, string output, long bytes);

    [LoggerMessage(EventId = 3103, EventName = "CompactionRolledBack", Level = LogLevel.Warning,
        Message = "Table {Table}: compaction {Manifest} was interrupted before its commit; deleted its outputs, the {Inputs} inputs stay.")]
    public static partial void CompactionRolledBack(ILogger logger, string table, string manifest, int inputs);

    [LoggerMessage(EventId = 3104, EventName = "CompactionRolledForward", Level = LogLevel.Warning,
        Message = "Table {Table}: compaction {Manifest} was interrupted after its commit; deleted its {Inputs} remaining inputs.")]
    public static partial void CompactionRolledForward(ILogger logger, string table, string manifest, int inputs);

    [LoggerMessage(EventId = 3105, EventName = "CompactionObjectsSkipped", Level = LogLevel.Warning,
        Message = "Table {Table}: left {Count} objects in {Partition} as they are: {Reason}")]
    public static partial void ObjectsSkipped(ILogger logger, string table, string partition, int count, string reason);

    [LoggerMessage(EventId = 3106, EventName = "CompactionFinished", Level = LogLevel.Information,
        Message = "Compaction of table {Table} finished: {ObjectsBefore} objects before, {ObjectsAfter} after, {Merges} merges, {Rows} rows rewritten.")]
    public static partial void CompactionFinished(ILogger logger, string table, long objectsBefore, long objectsAfter, long merges, long rows);
}

