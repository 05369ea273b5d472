using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// The state of every hosted pipeline, as the worker sees it: running, waiting to restart, stopped, completed or
/// faulted; failures and restarts; checkpoint age and lag. Registered as a singleton by <c>AddStreamPipeline</c>;
/// the health checks read it, and so can a dashboard or a test.
/// </summary>
/// <remarks>Thread-safe. Each call returns a new snapshot.</remarks>
public sealed class StreamPipelineMonitor
{
    private readonly Dictionary<string, PipelineTracker> _trackers;
    private readonly TimeProvider _time;

    internal StreamPipelineMonitor(IEnumerable<StreamPipelineRegistration> registrations, TimeProvider timeProvider)
    {
        _time = timeProvider;
        _trackers = registrations.ToDictionary(r => r.Name, r => new PipelineTracker(r.Name), StringComparer.Ordinal);
        PipelineNames = [.. _trackers.Keys];
    }

    /// <summary>Gets the names of the registered pipelines, in registration order.</summary>
    public IReadOnlyList<string> PipelineNames { get; }

    /// <summary>Takes a snapshot of one pipeline.</summary>
    /// <param name="pipelineName">The name it was registered under.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="ArgumentException">No pipeline of that name is registered.</exception>
    public StreamPipelineStatus GetStatus(string pipelineName) => Tracker(pipelineName).Snapshot(_time.GetUtcNow());

    /// <summary>Takes a snapshot of every pipeline, in registration order.</summary>
    /// <returns>The snapshots.</returns>
    public IReadOnlyList<StreamPipelineStatus> GetStatuses()
    {
        var now = _time.GetUtcNow();
        return [.. PipelineNames.Select(name => _trackers[name].Snapshot(now))];
    }

    internal PipelineTracker Tracker(string pipelineName)
    {
        ArgumentNullException.ThrowIfNull(pipelineName);
        return _trackers.TryGetValue(pipelineName, out var tracker)
            ? tracker
            : throw new ArgumentException($"No pipeline named '{pipelineName}' is registered; registered: {string.Join(", ", PipelineNames)}.", nameof(pipelineName));
    }
}

/// <summary>The mutable state behind <see cref="StreamPipelineStatus"/>; written by the worker, read by anyone.</summary>
internal sealed class PipelineTracker(string name)
{
    private readonly Lock _gate = new();
    private IHostedPipeline? _pipeline;
    private PipelineStatistics? _statisticsBeforeRun;
    private StreamPipelineState _state;
    private DateTimeOffset? _since;
    private int _runs;
    private int _restarts;
    private int _consecutiveFailures;
    private Exception? _lastFailure;
    private PipelineFailureKind? _lastFailureKind;
    private DateTimeOffset? _lastFailureAt;
    private DateTimeOffset? _nextRestartAt;
    private DateTimeOffset? _runStartedAt;
    private HealthStatus? _health;

    public string Name { get; } = name;

    public void Attach(IHostedPipeline pipeline)
    {
        lock (_gate)
        {
            _pipeline = pipeline;
            _statisticsBeforeRun = pipeline.Statistics;
        }
    }

    /// <summary>Records the start of a run; returns its number (1 for the first).</summary>
    public int OnRunStarting(DateTimeOffset now, bool isRestart)
    {
        lock (_gate)
        {
            _statisticsBeforeRun = _pipeline?.Statistics;
            _runs++;
            _restarts += isRestart ? 1 : 0;
            _runStartedAt = now;
            _nextRestartAt = null;
            Enter(StreamPipelineState.Running, now);
            return _runs;
        }
    }

    /// <summary>Records a failed run; returns the number of failed runs in a row (1 when the run saved a checkpoint).</summary>
    public int OnRunFailed(Exception failure, PipelineFailureKind kind, DateTimeOffset now)
    {
        lock (_gate)
        {
            _consecutiveFailures = RunStatistics()?.LastCheckpoint is not null ? 1 : _consecutiveFailures + 1;
            _lastFailure = failure;
            _lastFailureKind = kind;
            _lastFailureAt = now;
            return _consecutiveFailures;
        }
    }

    public void OnWaitingToRestart(DateTimeOffset restartAt, DateTimeOffset now)
    {
        lock (_gate)
        {
            _nextRestartAt = restartAt;
            Enter(StreamPipelineState.WaitingToRestart, now);
        }
    }

    public void OnFaulted(Exception? failure, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (failure is not null)
            {
                _lastFailure = failure;
                _lastFailureKind = PipelineFailureKind.Start;
                _lastFailureAt = now;
            }

            _nextRestartAt = null;
            Enter(StreamPipelineState.Faulted, now);
        }
    }

    public void OnStopped(DateTimeOffset now)
    {
        lock (_gate)
        {
            _nextRestartAt = null;
            Enter(StreamPipelineState.Stopped, now);
        }
    }

    public void OnCompleted(DateTimeOffset now)
    {
        lock (_gate)
        {
            Enter(StreamPipelineState.Completed, now);
        }
    }

    /// <summary>Stores the status a health check reported; returns the previous one (null before the first check).</summary>
    public HealthStatus? ExchangeHealth(HealthStatus status)
    {
        lock (_gate)
        {
            var previous = _health;
            _health = status;
            return previous;
        }
    }

    public StreamPipelineStatus Snapshot(DateTimeOffset now)
    {
        IHostedPipeline? pipeline;
        StreamPipelineStatus status;
        PipelineCheckpoint? checkpoint;
        lock (_gate)
        {
            pipeline = _pipeline;
            var statistics = pipeline?.Statistics;
            var run = RunStatistics();
            checkpoint = run?.LastCheckpoint ?? run?.RestoredFrom;
            TimeSpan? age = null;
            if (_runStartedAt is { } started)
            {
                var from = checkpoint is not null && checkpoint.CreatedAt > started ? checkpoint.CreatedAt : started;
                age = now - from;
            }

            TimeSpan? watermarkLag = null;
            if (statistics is not null && statistics.Watermark != DateTimeOffset.MinValue && statistics.Watermark != DateTimeOffset.MaxValue)
            {
                watermarkLag = now - statistics.Watermark;
            }

            bool progressed = _state == StreamPipelineState.Running && run?.LastCheckpoint is not null;
            status = new StreamPipelineStatus(Name)
            {
                State = _state,
                Since = _since,
                Statistics = statistics,
                Runs = _runs,
                Restarts = _restarts,
                ConsecutiveFailures = progressed ? 0 : _consecutiveFailures,
                LastFailure = _lastFailure,
                LastFailureKind = _lastFailureKind,
                LastFailureAt = _lastFailureAt,
                NextRestartAt = _nextRestartAt,
                RunStartedAt = _runStartedAt,
                LastCheckpoint = checkpoint,
                CheckpointAge = age,
                WatermarkLag = watermarkLag,
            };
        }

        // Outside the lock: a pluggable lag reader is the application's code.
        if (pipeline is null)
        {
            return status;
        }

        status.HasUncheckpointedRecords = pipeline.Observation.HasRecordsAfter(checkpoint);
        status.BehindLatest = pipeline.Observation.BehindLatest();
        return status;
    }

    /// <summary>The statistics of the current or last run, or null when no run has created its own yet.</summary>
    private PipelineStatistics? RunStatistics()
    {
        var statistics = _pipeline?.Statistics;
        return statistics is null || ReferenceEquals(statistics, _statisticsBeforeRun) ? null : statistics;
    }

    private void Enter(StreamPipelineState state, DateTimeOffset now)
    {
        _state = state;
        _since = now;
    }
}
