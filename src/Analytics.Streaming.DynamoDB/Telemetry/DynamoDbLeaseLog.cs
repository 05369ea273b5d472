using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// The log messages of the lease table, the lease coordinator and the lease worker, source-generated: stable event
/// ids in 4200-4399 (4200s table, 4250s coordinator, 4300s worker). Each method checks
/// <see cref="ILogger.IsEnabled"/> first, so nothing is formatted when nobody listens.
/// </summary>
internal static partial class DynamoDbLeaseLog
{
    // ---- lease table (4200-4249) -------------------------------------------------------------------------------

    [LoggerMessage(EventId = 4201, EventName = "LeaseTableCreated", Level = LogLevel.Information,
        Message = "Lease table {Table} created (on-demand capacity, hash key leaseKey).")]
    public static partial void TableCreated(ILogger logger, string table);

    [LoggerMessage(EventId = 4202, EventName = "LeaseCallRetrying", Level = LogLevel.Warning,
        Message = "Lease table {Table}: {Operation} failed on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void CallRetrying(ILogger logger, string table, string operation, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4203, EventName = "SpuriousConditionFailure", Level = LogLevel.Debug,
        Message = "Lease table {Table}: {Operation} of {LeaseKey} failed its condition, but the item shows the write was applied (a retried request); continuing.")]
    public static partial void SpuriousConditionFailure(ILogger logger, string table, string operation, string leaseKey);

    // ---- coordinator (4250-4299) -------------------------------------------------------------------------------

    [LoggerMessage(EventId = 4251, EventName = "LeaseCreated", Level = LogLevel.Information,
        Message = "{Application}: lease for shard {LeaseKey} created at {Checkpoint}.")]
    public static partial void LeaseCreated(ILogger logger, string application, string leaseKey, LeaseCheckpoint checkpoint);

    [LoggerMessage(EventId = 4252, EventName = "LeaseTaken", Level = LogLevel.Information,
        Message = "{Application}: worker {Worker} took the lease of {LeaseKey} from {PreviousOwner} ({Reason}); it holds {Held} of {Active} active leases, target {Target} for {Workers} workers.")]
    public static partial void LeaseTaken(ILogger logger, string application, string worker, string leaseKey, string previousOwner, string reason, int held, int active, int target, int workers);

    [LoggerMessage(EventId = 4253, EventName = "LeaseLost", Level = LogLevel.Warning,
        Message = "{Application}: worker {Worker} lost the lease of {LeaseKey} ({Reason}); its reader stops.")]
    public static partial void LeaseLost(ILogger logger, string application, string worker, string leaseKey, string reason);

    [LoggerMessage(EventId = 4254, EventName = "LeaseReleased", Level = LogLevel.Information,
        Message = "{Application}: worker {Worker} released the lease of {LeaseKey} at checkpoint {Checkpoint}.")]
    public static partial void LeaseReleased(ILogger logger, string application, string worker, string leaseKey, LeaseCheckpoint checkpoint);

    [LoggerMessage(EventId = 4255, EventName = "RenewalFailed", Level = LogLevel.Warning,
        Message = "{Application}: renewing the lease of {LeaseKey} failed; the lease is kept until {Remaining} from now, then dropped.")]
    public static partial void RenewalFailed(ILogger logger, string application, string leaseKey, TimeSpan remaining, Exception exception);

    [LoggerMessage(EventId = 4256, EventName = "LeaseCheckpointed", Level = LogLevel.Debug,
        Message = "{Application}: lease {LeaseKey} checkpointed at {Checkpoint}.")]
    public static partial void LeaseCheckpointed(ILogger logger, string application, string leaseKey, LeaseCheckpoint checkpoint);

    [LoggerMessage(EventId = 4257, EventName = "CoordinatorStepFailed", Level = LogLevel.Warning,
        Message = "{Application}: the {Step} step of worker {Worker} failed; it runs again at its next interval.")]
    public static partial void StepFailed(ILogger logger, string application, string worker, string step, Exception exception);

    [LoggerMessage(EventId = 4258, EventName = "ShardsSynced", Level = LogLevel.Debug,
        Message = "{Application}: {Shards} shards listed, {Created} new leases, {Leases} leases in the table.")]
    public static partial void ShardsSynced(ILogger logger, string application, int shards, int created, int leases);

    // ---- worker (4300-4349) ------------------------------------------------------------------------------------

    [LoggerMessage(EventId = 4301, EventName = "ShardProcessingStarted", Level = LogLevel.Information,
        Message = "{Application}: worker {Worker} starts processing shard {Shard}.")]
    public static partial void ProcessingStarted(ILogger logger, string application, string worker, string shard);

    [LoggerMessage(EventId = 4302, EventName = "ShardProcessingEnded", Level = LogLevel.Information,
        Message = "{Application}: worker {Worker} processed shard {Shard} to its end; its lease is checkpointed at SHARD_END.")]
    public static partial void ProcessingEnded(ILogger logger, string application, string worker, string shard);

    [LoggerMessage(EventId = 4303, EventName = "ShardProcessingStopped", Level = LogLevel.Information,
        Message = "{Application}: worker {Worker} stopped processing shard {Shard} ({Reason}).")]
    public static partial void ProcessingStopped(ILogger logger, string application, string worker, string shard, string reason);

    [LoggerMessage(EventId = 4304, EventName = "ShardProcessingFailed", Level = LogLevel.Error,
        Message = "{Application}: processing shard {Shard} failed on worker {Worker}; its lease is released so that it is retried.")]
    public static partial void ProcessingFailed(ILogger logger, string application, string worker, string shard, Exception exception);

    [LoggerMessage(EventId = 4305, EventName = "CheckpointFenced", Level = LogLevel.Warning,
        Message = "{Application}: a checkpoint of shard {Shard} was not saved: worker {Worker} no longer holds its lease.")]
    public static partial void CheckpointFenced(ILogger logger, string application, string worker, string shard);
}
