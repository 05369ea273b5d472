using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// The hosting package's log events (ids 8000-8999), source-generated: nothing is formatted unless the level is
/// enabled. Category <c>Analytics.Streaming.Hosting</c>.
/// </summary>
internal static partial class HostingLog
{
    public const string Category = "Analytics.Streaming.Hosting";

    [LoggerMessage(EventId = 8000, EventName = "PipelineStarting", Level = LogLevel.Information, Message = "Pipeline {Pipeline} starting (run {Run}).")]
    public static partial void Starting(ILogger logger, string pipeline, int run);

    [LoggerMessage(EventId = 8001, EventName = "PipelineStopped", Level = LogLevel.Information, Message = "Pipeline {Pipeline} stopped with the host: delivered, flushed and checkpointed.")]
    public static partial void Stopped(ILogger logger, string pipeline);

    [LoggerMessage(EventId = 8002, EventName = "PipelineCompleted", Level = LogLevel.Information, Message = "Pipeline {Pipeline} completed: its source ended and every window was delivered; it is not restarted.")]
    public static partial void Completed(ILogger logger, string pipeline);

    [LoggerMessage(EventId = 8003, EventName = "PipelineFailed", Level = LogLevel.Error, Message = "Pipeline {Pipeline} failed ({Kind} failure, {FailuresInARow} in a row without a checkpoint).")]
    public static partial void Failed(ILogger logger, Exception exception, string pipeline, PipelineFailureKind kind, int failuresInARow);

    [LoggerMessage(EventId = 8004, EventName = "PipelineRestartScheduled", Level = LogLevel.Warning, Message = "Pipeline {Pipeline} restarts from its last checkpoint in {Delay} (at {RestartAt:O}).")]
    public static partial void RestartScheduled(ILogger logger, string pipeline, TimeSpan delay, DateTimeOffset restartAt);

    [LoggerMessage(EventId = 8005, EventName = "PipelineGaveUp", Level = LogLevel.Critical, Message = "Pipeline {Pipeline} failed {Attempts} runs in a row (Restart:MaxAttempts): giving up and stopping the application.")]
    public static partial void GaveUp(ILogger logger, string pipeline, int attempts);

    [LoggerMessage(EventId = 8006, EventName = "PipelineHealthChanged", Message = "Pipeline {Pipeline} health changed from {Previous} to {Current}: {Description}")]
    public static partial void HealthChanged(ILogger logger, LogLevel level, string pipeline, string previous, string current, string description);

    [LoggerMessage(EventId = 8007, EventName = "PipelineShutdownAbandoned", Level = LogLevel.Warning, Message = "The host stopped waiting for pipeline {Pipeline} before its final flush and checkpoint finished; the next run replays from its last saved checkpoint. Keep its ShutdownTimeout ({ShutdownTimeout}) shorter than the host's shutdown timeout.")]
    public static partial void ShutdownAbandoned(ILogger logger, string pipeline, TimeSpan shutdownTimeout);

    [LoggerMessage(EventId = 8008, EventName = "PipelineStopFailed", Level = LogLevel.Error, Message = "Pipeline {Pipeline} failed while stopping ({Kind} failure); the next run replays from its last saved checkpoint.")]
    public static partial void StopFailed(ILogger logger, Exception exception, string pipeline, PipelineFailureKind kind);

    [LoggerMessage(EventId = 8009, EventName = "PipelineBuildFailed", Level = LogLevel.Critical, Message = "Pipeline {Pipeline} could not be built; the host does not start.")]
    public static partial void BuildFailed(ILogger logger, Exception exception, string pipeline);
}
