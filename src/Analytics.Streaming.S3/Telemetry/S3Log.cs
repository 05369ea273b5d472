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
}
