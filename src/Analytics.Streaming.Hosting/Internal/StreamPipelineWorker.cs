using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// Runs every registered pipeline for as long as the host runs: builds them when the host starts, runs each from its
/// last checkpoint, restarts failed runs after a backoff, and on stop cancels them so that each delivers, flushes and
/// saves its final checkpoint.
/// </summary>
/// <remarks>
/// Building happens in <see cref="StartAsync"/> (synchronous, no I/O: the application's build delegates and
/// factories), so a pipeline that cannot be built stops the host from starting, like invalid options do.
/// <see cref="ExecuteAsync"/> yields before anything else, so the host's start never waits for a source or a
/// checkpoint store. Pipelines run concurrently and independently; all of them stop together.
/// </remarks>
internal sealed class StreamPipelineWorker : BackgroundService
{
    private readonly IServiceProvider _services;
    private readonly IReadOnlyList<StreamPipelineRegistration> _registrations;
    private readonly StreamPipelineMonitor _monitor;
    private readonly IOptionsMonitor<StreamPipelineHostOptions> _options;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;
    private readonly List<Unit> _units = [];
    private readonly List<IDisposable> _owned = [];

    public StreamPipelineWorker(
        IServiceProvider services,
        IEnumerable<StreamPipelineRegistration> registrations,
        StreamPipelineMonitor monitor,
        IOptionsMonitor<StreamPipelineHostOptions> options)
    {
        _services = services;
        _registrations = [.. registrations];
        _monitor = monitor;
        _options = options;
        _lifetime = services.GetService<IHostApplicationLifetime>();
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        _log = _loggerFactory.CreateLogger(HostingLog.Category);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var registration in _registrations)
        {
            var tracker = _monitor.Tracker(registration.Name);
            var options = _options.Get(registration.Name);
            try
            {
                var pipeline = Build(registration, options);
                tracker.Attach(pipeline);
                _units.Add(new Unit(registration, tracker, options) { Pipeline = pipeline });
            }
            catch (Exception ex)
            {
                tracker.OnFaulted(ex, _time.GetUtcNow());
                HostingLog.BuildFailed(_log, ex, registration.Name);
                throw new InvalidOperationException($"Pipeline '{registration.Name}' could not be built: {ex.Message}", ex);
            }
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (ExecuteTask is { IsCompleted: false })
        {
            foreach (var unit in _units)
            {
                if (_monitor.GetStatus(unit.Pipeline.Name).State == StreamPipelineState.Running)
                {
                    HostingLog.ShutdownAbandoned(_log, unit.Pipeline.Name, unit.Options.ShutdownTimeout);
                }
            }
        }
    }

    public override void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Nothing before this: the host's start must never wait for a source, a store or a sink.
        await Task.Yield();
        var runs = new Task[_units.Count];
        for (int i = 0; i < runs.Length; i++)
        {
            // Each on its own thread: a pipeline blocked synchronously (a checkpoint store that does not yield) must
            // not hold back the others.
            var unit = _units[i];
            runs[i] = Task.Run(() => SuperviseAsync(unit, stoppingToken), CancellationToken.None);
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
    }

    private IHostedPipeline Build(StreamPipelineRegistration registration, StreamPipelineHostOptions hostOptions)
    {
        var store = registration.CheckpointStoreFactory?.Invoke(_services);
        if (store is null && hostOptions.CheckpointFolder is { Length: > 0 } folder)
        {
            var files = CreateFileStore(folder);
            _owned.Add(files);
            store = files;
        }

        var options = new StreamPipelineOptions
        {
            Name = registration.Name,
            TimeProvider = _time,
            LoggerFactory = _loggerFactory,
            CheckpointStore = store,
        };
        hostOptions.ApplyTo(options);
        var pipeline = registration.Create(_services, options);
        if (!string.Equals(pipeline.Name, registration.Name, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The delegate built a pipeline named '{pipeline.Name}': pass the StreamPipelineOptions it receives to StreamPipeline.Create " +
                "unchanged in name, so that configuration, the checkpoint store, the clock and logging apply.");
        }

        return pipeline;
    }

    [SuppressMessage("Reliability", "CA2000:Dispose objects before losing scope", Justification = "The worker owns the store and disposes it with itself.")]
    private FileCheckpointStore CreateFileStore(string folder)
    {
        string root = _services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
        return new FileCheckpointStore(Path.IsPathRooted(folder) ? folder : Path.Combine(root, folder));
    }

    private async Task SuperviseAsync(Unit unit, CancellationToken stoppingToken)
    {
        var (pipeline, tracker, options) = (unit.Pipeline, unit.Tracker, unit.Options);
        var tag = new KeyValuePair<string, object?>("pipeline", pipeline.Name);
        bool restart = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            int readsBefore = pipeline.Observation.Reads;
            int run = tracker.OnRunStarting(_time.GetUtcNow(), restart);
            HostingLog.Starting(_log, pipeline.Name, run);
            AnalyticsStreamingTelemetry.Runs.Add(1, tag);
            if (restart)
            {
                AnalyticsStreamingTelemetry.Restarts.Add(1, tag);
            }

            Exception? failure = null;
            try
            {
                await pipeline.RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Cancelled before the run got going (while loading its checkpoint): nothing to deliver.
            }
#pragma warning disable CA1031 // Every failure of a run is recorded and restarted; the worker itself must not die of it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
            }

            var now = _time.GetUtcNow();
            if (failure is null)
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    tracker.OnStopped(now);
                    HostingLog.Stopped(_log, pipeline.Name);
                }
                else
                {
                    tracker.OnCompleted(now);
                    HostingLog.Completed(_log, pipeline.Name);
                }

                return;
            }

            var kind = Classify(failure, pipeline, readsBefore);
            int inARow = tracker.OnRunFailed(failure, kind, now);
            AnalyticsStreamingTelemetry.Failures.Add(1, tag, new KeyValuePair<string, object?>("kind", kind.ToString()));
            if (stoppingToken.IsCancellationRequested)
            {
                tracker.OnStopped(now);
                HostingLog.StopFailed(_log, failure, pipeline.Name, kind);
                return;
            }

            HostingLog.Failed(_log, failure, pipeline.Name, kind, inARow);
            if (options.Restart.MaxAttempts is { } max && inARow >= max)
            {
                tracker.OnFaulted(null, now);
                HostingLog.GaveUp(_log, pipeline.Name, inARow);

                // The process ends as a failure (unless the application chose its own code), so that a supervisor
                // restarting only failed processes restarts it.
                if (Environment.ExitCode == 0)
                {
                    Environment.ExitCode = 1;
                }

                _lifetime?.StopApplication();
                return;
            }

            // The timer starts before the wait is announced, so whoever reads NextRestartAt can rely on it.
            var delay = RestartBackoff.Delay(options.Restart, inARow, Jitter());
            var wait = Task.Delay(delay, _time, stoppingToken);
            tracker.OnWaitingToRestart(now + delay, now);
            HostingLog.RestartScheduled(_log, pipeline.Name, delay, now + delay);
            try
            {
                await wait.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                tracker.OnStopped(_time.GetUtcNow());
                HostingLog.Stopped(_log, pipeline.Name);
                return;
            }

            restart = true;
            if (kind == PipelineFailureKind.Sink && failure is not AggregationFailedException && Rebuild(unit) is { } rebuilt)
            {
                pipeline = rebuilt;
            }
        }

        tracker.OnStopped(_time.GetUtcNow());
    }

    /// <summary>
    /// Builds the pipeline again after a failure past its start: the library's sinks refuse every call once one has
    /// failed, so a restart needs the new ones the registration's factory makes. Not after an aggregator threw on a
    /// record: the pipeline object remembers that record, and its next run goes past it. When the factory throws, the
    /// old pipeline runs again.
    /// </summary>
    private IHostedPipeline? Rebuild(Unit unit)
    {
        try
        {
            var pipeline = Build(unit.Registration, unit.Options);
            unit.Tracker.Attach(pipeline);
            unit.Pipeline = pipeline;
            return pipeline;
        }
#pragma warning disable CA1031 // A factory failing now is logged; the pipeline built at start runs again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            HostingLog.BuildFailed(_log, ex, unit.Registration.Name);
            return null;
        }
    }

    private static PipelineFailureKind Classify(Exception failure, IHostedPipeline pipeline, int readsBefore)
    {
        if (ReferenceEquals(failure, pipeline.Observation.LastFailure))
        {
            return PipelineFailureKind.Source;
        }

        return pipeline.Observation.Reads == readsBefore ? PipelineFailureKind.Start : PipelineFailureKind.Sink;
    }

    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification = "Jitter spreads restarts; it protects nothing.")]
    private static double Jitter() => Random.Shared.NextDouble();

    private sealed record Unit(StreamPipelineRegistration Registration, PipelineTracker Tracker, StreamPipelineHostOptions Options)
    {
        /// <summary>Gets or sets the pipeline now run: built at start, and again after a run failed past its start.</summary>
        public required IHostedPipeline Pipeline { get; set; }
    }
}

/// <summary>The restart schedule (see <see cref="StreamPipelineRestartOptions"/>).</summary>
internal static class RestartBackoff
{
    /// <summary>The largest wait after the <paramref name="failuresInARow"/>-th failure in a row: min(MaxDelay, BaseDelay × 2^(n−1)).</summary>
    public static TimeSpan Ceiling(StreamPipelineRestartOptions options, int failuresInARow)
    {
        double ticks = options.BaseDelay.Ticks * Math.Pow(2, Math.Clamp(failuresInARow - 1, 0, 62));
        return ticks >= options.MaxDelay.Ticks ? options.MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The wait: uniform in [ceiling/2, ceiling] for <paramref name="jitter"/> uniform in [0, 1).</summary>
    public static TimeSpan Delay(StreamPipelineRestartOptions options, int failuresInARow, double jitter)
    {
        long ceiling = Ceiling(options, failuresInARow).Ticks;
        return TimeSpan.FromTicks((ceiling / 2) + (long)(ceiling / 2 * Math.Clamp(jitter, 0, 1)));
    }
}
