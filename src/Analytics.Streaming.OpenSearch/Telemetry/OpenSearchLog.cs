using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.OpenSearch;

/// <summary>
/// The package's log messages, source-generated: stable event ids in 5000-5999 (5000s sink). Each method checks
/// <see cref="ILogger.IsEnabled"/> first, so nothing is formatted or allocated when nobody listens.
/// </summary>
internal static partial class OpenSearchLog
{
    [LoggerMessage(EventId = 5001, EventName = "RequestThrottled", Level = LogLevel.Information,
        Message = "{Sink}: the _bulk request was refused as a whole with {Status} on attempt {Attempt}; sending its {Count} actions again in {Delay}.")]
    public static partial void RequestThrottled(ILogger logger, string sink, int status, int count, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 5002, EventName = "ItemsRetrying", Level = LogLevel.Warning,
        Message = "{Sink}: {Count} of {Total} actions failed with {Status} ({ErrorType}) on attempt {Attempt}; sending them again in {Delay}.")]
    public static partial void ItemsRetrying(ILogger logger, string sink, int count, int total, int status, string errorType, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 5003, EventName = "DocumentRejected", Level = LogLevel.Warning,
        Message = "{Sink}: document {Id} for index {Index} goes to the dead letters: {Reason}")]
    public static partial void DocumentRejected(ILogger logger, string sink, string id, string index, string reason);

    [LoggerMessage(EventId = 5004, EventName = "DeliveryFailed", Level = LogLevel.Error,
        Message = "{Sink}: {Count} actions could not be delivered after {Attempts} attempts; the last answer was {Status} ({ErrorType}): {ErrorReason}.")]
    public static partial void DeliveryFailed(ILogger logger, string sink, int count, int attempts, int status, string errorType, string errorReason);

    [LoggerMessage(EventId = 5005, EventName = "StaleWrites", Level = LogLevel.Debug,
        Message = "{Sink}: {Count} writes were older than (or the same as) what the cluster holds and were left out (409).")]
    public static partial void StaleWrites(ILogger logger, string sink, int count);

    [LoggerMessage(EventId = 5006, EventName = "TransportFailed", Level = LogLevel.Warning,
        Message = "{Sink}: the _bulk request failed on attempt {Attempt} ({Problem}); sending it again in {Delay}.")]
    public static partial void TransportFailed(ILogger logger, string sink, string problem, int attempt, TimeSpan delay);
}
