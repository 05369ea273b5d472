using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// The health of one hosted pipeline: whether it runs or is faulted (last failure, restarts), how old its checkpoint is
/// while records wait for one, how far it is behind the newest record, and its watermark lag.
/// </summary>
internal sealed class StreamPipelineHealthCheck(
    string pipelineName,
    StreamPipelineMonitor monitor,
    IOptionsMonitor<StreamPipelineHostOptions> options,
    ILogger logger) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var status = monitor.GetStatus(pipelineName);
        var settings = options.Get(pipelineName);
        var result = Evaluate(status, settings, context.Registration.FailureStatus);
        var previous = monitor.Tracker(pipelineName).ExchangeHealth(result.Status);
        if (previous != result.Status)
        {
            var level = result.Status == HealthStatus.Healthy ? LogLevel.Information : LogLevel.Warning;
            string before = previous?.ToString() ?? "unknown";
            string after = result.Status.ToString();
            HostingLog.HealthChanged(logger, level, pipelineName, before, after, result.Description ?? "");
        }

        return Task.FromResult(result);
    }

    internal static HealthCheckResult Evaluate(StreamPipelineStatus status, StreamPipelineHostOptions settings, HealthStatus failureStatus)
    {
        var data = Data(status);
        var worst = HealthStatus.Healthy;
        var reasons = new List<string>();
        void Report(HealthStatus level, string reason)
        {
            worst = level < worst ? level : worst;
            reasons.Add(reason);
        }

        string Failure() => status.LastFailure is null ? "" : $": {status.LastFailure.GetType().Name}: {status.LastFailure.Message}";
        switch (status.State)
        {
            case StreamPipelineState.NotStarted:
                Report(HealthStatus.Degraded, "not started yet");
                break;
            case StreamPipelineState.WaitingToRestart:
                Report(failureStatus, string.Create(CultureInfo.InvariantCulture, $"faulted: {status.LastFailureKind} failure, {status.ConsecutiveFailures} in a row; restarting from the last checkpoint at {status.NextRestartAt:O}{Failure()}"));
                break;
            case StreamPipelineState.Faulted:
                Report(failureStatus, $"faulted and not restarted{Failure()}");
                break;
            case StreamPipelineState.Stopped:
                reasons.Add("stopped");
                break;
            case StreamPipelineState.Completed:
                reasons.Add("completed: the source ended");
                break;
            default:
                JudgeRun(status, settings, failureStatus, Report, Failure());
                if (reasons.Count == 0)
                {
                    reasons.Add("running");
                }

                break;
        }

        var exception = worst == HealthStatus.Healthy ? null : status.LastFailure;
        return new HealthCheckResult(worst, string.Join("; ", reasons), worst == failureStatus ? exception : null, data);
    }

    private static void JudgeRun(StreamPipelineStatus status, StreamPipelineHostOptions settings, HealthStatus failureStatus, Action<HealthStatus, string> report, string failure)
    {
        var health = settings.Health;
        if (status.ConsecutiveFailures > 0)
        {
            report(HealthStatus.Degraded, $"recovering: restarted after a {status.LastFailureKind} failure, no checkpoint saved since{failure}");
        }

        var maxAge = health.EffectiveMaxCheckpointAge(settings.CheckpointInterval);
        if (status.HasUncheckpointedRecords && status.CheckpointAge is { } age && age > maxAge)
        {
            report(failureStatus, string.Create(CultureInfo.InvariantCulture, $"checkpoint stale: none saved for {age} while records read since wait for one (threshold {maxAge})"));
        }

        if (status.MaxBehindLatest is { } behind && behind > health.MaxBehindLatest)
        {
            report(HealthStatus.Degraded, string.Create(CultureInfo.InvariantCulture, $"behind latest: {behind.TotalMilliseconds:F0} ms behind the newest record (threshold {health.MaxBehindLatest.TotalMilliseconds:F0} ms)"));
        }

        if (health.MaxWatermarkLag is { } maxLag && status.WatermarkLag is { } lag && lag > maxLag)
        {
            report(HealthStatus.Degraded, string.Create(CultureInfo.InvariantCulture, $"watermark lag: {lag} behind the clock (threshold {maxLag})"));
        }
    }

    private static Dictionary<string, object> Data(StreamPipelineStatus status)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["state"] = status.State.ToString(),
            ["runs"] = status.Runs,
            ["restarts"] = status.Restarts,
            ["consecutiveFailures"] = status.ConsecutiveFailures,
            ["uncheckpointedRecords"] = status.HasUncheckpointedRecords,
        };
        Add(data, "lastFailure", status.LastFailure is { } failure ? $"{failure.GetType().Name}: {failure.Message}" : null);
        Add(data, "lastFailureKind", status.LastFailureKind?.ToString());
        Add(data, "lastFailureAt", status.LastFailureAt);
        Add(data, "nextRestartAt", status.NextRestartAt);
        Add(data, "checkpointId", status.LastCheckpoint?.Id);
        Add(data, "checkpointAgeSeconds", status.CheckpointAge?.TotalSeconds);
        Add(data, "millisBehindLatest", status.MaxBehindLatest?.TotalMilliseconds);
        Add(data, "watermarkLagSeconds", status.WatermarkLag?.TotalSeconds);
        if (status.Statistics is { } statistics)
        {
            data["recordsIn"] = statistics.RecordsIn;
            data["resultsOut"] = statistics.ResultsOut;
            data["lateRecords"] = statistics.LateRecords;
            data["deadLetters"] = statistics.DeadLetters;
            data["resultDeadLetters"] = statistics.ResultDeadLetters;
        }

        return data;
    }

    private static void Add(Dictionary<string, object> data, string key, object? value)
    {
        if (value is not null)
        {
            data[key] = value;
        }
    }
}
