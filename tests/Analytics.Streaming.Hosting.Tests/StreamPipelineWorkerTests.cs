using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Hosting.Tests;

public sealed class StreamPipelineWorkerTests
{
    private const string Pipeline = "clicks";

    [Fact]
    public async Task Host_StoppedMidStreamAndStartedAgain_ResumesFromCheckpointAndEqualsUninterruptedRun()
    {
        var a = TestHosts.Clicks(300, seed: 0);
        var b = TestHosts.Clicks(300, seed: 3);
        var expected = await UninterruptedRunAsync(a, b);
        Assert.NotEmpty(expected);

        string folder = TestHosts.TempFolder();
        var table = new TableSink<string, (long Count, long Sum)>();
        var config = new Dictionary<string, string?>
        {
            [$"Analytics:Pipelines:{Pipeline}:CheckpointFolder"] = folder,
            [$"Analytics:Pipelines:{Pipeline}:CheckpointInterval"] = "00:00:00.050",
            [$"Analytics:Pipelines:{Pipeline}:TickInterval"] = "00:00:00.010",
        };

        // First host: the stream has nothing yet, so the source waits for data while the host starts.
        var first = new LogSource<Click>("a", "b");
        using (var host = TestHosts.Build(config, null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, table))
            .ReadFrom(_ => first)))
        {
            await host.StartQuicklyAsync();
            await Eventually.WaitUntilAsync(() => first.IsWaiting, "the source waits for data");
            var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
            Assert.Equal(StreamPipelineState.Running, monitor.GetStatus(Pipeline).State);

            first.Append("a", a[..150]);
            first.Append("b", b[..120]);
            await Eventually.WaitUntilAsync(
                () => monitor.GetStatus(Pipeline) is { Statistics.RecordsIn: 270, HasUncheckpointedRecords: false },
                "a checkpoint covers the first 270 records");

            // More records arrive, and the host stops in the middle of them.
            first.Append("a", a[150..200]);
            first.Append("b", b[120..180]);
            await host.StopAsync(TestContext.Current.CancellationToken);
            var stopped = monitor.GetStatus(Pipeline);
            Assert.Equal(StreamPipelineState.Stopped, stopped.State);
            Assert.Null(stopped.LastFailure);
        }

        Assert.True(File.Exists(Path.Combine(folder, "clicks.checkpoint")));

        // Second host, same folder and table: the whole stream is there now and ends.
        var second = new LogSource<Click>("a", "b");
        second.Append("a", a);
        second.Append("b", b);
        second.Complete();
        using (var host = TestHosts.Build(config, null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, table))
            .ReadFrom(_ => second)))
        {
            await host.StartQuicklyAsync();
            var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
            await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.Completed, "the second run completes");
            var status = monitor.GetStatus(Pipeline);
            Assert.NotNull(status.Statistics!.RestoredFrom);
            Assert.True(status.Statistics.RecordsIn <= 600 - 270, $"the second run read {status.Statistics.RecordsIn} records: it must resume after the checkpoint");
            await host.StopAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal(expected, Table(table));
    }

    [Fact]
    public async Task StartAsync_CheckpointStoreBlocksSynchronously_ReturnsBeforeThePipelineRuns()
    {
        using var blocked = new ManualResetEventSlim();
        var store = new BlockingStore(blocked);
        var source = new LogSource<Click>("a");
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
            .ReadFrom(_ => source)
            .UseCheckpointStore(_ => store));

        await host.StartQuicklyAsync();
        await Eventually.WaitUntilAsync(() => store.Loading, "the pipeline loads its checkpoint");
        Assert.Equal(0, source.Enumerations);

        blocked.Set();
        await Eventually.WaitUntilAsync(() => source.IsWaiting, "the source waits for data");
        await host.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal(StreamPipelineState.Stopped, host.Services.GetRequiredService<StreamPipelineMonitor>().GetStatus(Pipeline).State);
    }

    [Fact]
    public async Task Worker_OnePipelinesStoreBlocksSynchronously_TheOthersRunMeanwhile()
    {
        using var blocked = new ManualResetEventSlim();
        var store = new BlockingStore(blocked);
        var first = new LogSource<Click>("a");
        var second = new LogSource<Click>("a");
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services =>
        {
            services.AddStreamPipeline("blocked", (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => first)
                .UseCheckpointStore(_ => store);
            services.AddStreamPipeline("free", (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => second);
        });

        await host.StartQuicklyAsync();
        await Eventually.WaitUntilAsync(() => store.Loading, "the first pipeline loads its checkpoint");
        await Eventually.WaitUntilAsync(() => second.IsWaiting, "the second pipeline reads its source while the first is blocked");
        Assert.Equal(0, first.Enumerations);

        blocked.Set();
        await Eventually.WaitUntilAsync(() => first.IsWaiting, "the first pipeline reads its source once its store answers");
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Worker_RunKeepsFailing_BackoffGrowsAndIsBounded()
    {
        var time = new FakeTimeProvider(TestHosts.T0);
        var source = new FailingSource<Click>();
        var logs = new ListLoggerProvider();
        var config = new Dictionary<string, string?>
        {
            [$"Analytics:Pipelines:{Pipeline}:Restart:BaseDelay"] = "00:00:01",
            [$"Analytics:Pipelines:{Pipeline}:Restart:MaxDelay"] = "00:00:10",
        };
        using var host = TestHosts.Build(config, logs, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => source);
        });
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        await host.StartQuicklyAsync();

        var delays = new List<TimeSpan>();
        for (int failure = 1; failure <= 8; failure++)
        {
            await Eventually.WaitUntilAsync(
                () => monitor.GetStatus(Pipeline) is { State: StreamPipelineState.WaitingToRestart } s && s.Runs == failure,
                $"run {failure} failed and waits to restart");
            var status = monitor.GetStatus(Pipeline);
            Assert.Equal(failure, status.ConsecutiveFailures);
            Assert.Equal(PipelineFailureKind.Source, status.LastFailureKind);
            Assert.IsType<IOException>(status.LastFailure);
            var delay = status.NextRestartAt!.Value - time.GetUtcNow();
            var ceiling = TimeSpan.FromSeconds(Math.Min(10, Math.Pow(2, failure - 1)));
            Assert.InRange(delay, ceiling / 2, ceiling);
            delays.Add(delay);

            // The restart waits for the clock: a moment before its time it has not happened.
            time.Advance(delay - TimeSpan.FromMilliseconds(1));
            Assert.Equal(failure, source.Reads);
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Eventually.WaitUntilAsync(() => source.Reads == failure + 1, $"restart {failure} reads the source again");
        }

        Assert.True(delays[3] > delays[0] && delays[4] > delays[1], $"delays grow: {string.Join(", ", delays)}");
        Assert.All(delays, d => Assert.True(d <= TimeSpan.FromSeconds(10)));
        Assert.All(delays[4..], d => Assert.True(d >= TimeSpan.FromSeconds(5), $"capped delays stay between 5 and 10 s: {d}"));
        Assert.Equal(8, monitor.GetStatus(Pipeline).Restarts);
        Assert.Contains(logs.Entries, e => e.Id.Id == 8004 && e.Message.Contains("restarts from its last checkpoint", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Id.Id == 8003 && e.Level == Microsoft.Extensions.Logging.LogLevel.Error);

        // Stopping during a wait ends it at once.
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.WaitingToRestart, "the ninth run failed");
        await host.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal(StreamPipelineState.Stopped, monitor.GetStatus(Pipeline).State);
    }

    [Fact]
    public async Task Worker_SinkThatRefusesEverythingOnceItFailed_TheRestartBuildsANewOne()
    {
        // The library's sinks (S3, DynamoDB, OpenSearch) refuse every call once one failed: a restart with the same
        // pipeline object could never deliver again. The factory makes a new sink for each pipeline it builds.
        var time = new FakeTimeProvider(TestHosts.T0);
        var table = new TableSink<string, (long Count, long Sum)> { Failing = true };
        var source = new LogSource<Click>("a");
        var store = new InMemoryCheckpointStore();
        int built = 0;
        var config = new Dictionary<string, string?>
        {
            [$"Analytics:Pipelines:{Pipeline}:CheckpointInterval"] = "00:00:01",
            [$"Analytics:Pipelines:{Pipeline}:TickInterval"] = "00:00:00.100",
        };
        using var host = TestHosts.Build(config, new ListLoggerProvider(), services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddStreamPipeline(Pipeline, (_, options) =>
            {
                Interlocked.Increment(ref built);
                return TestHosts.ClicksPipeline(options, new BrokenForGood<WindowResult<string, (long, long)>>(table));
            })
                .ReadFrom(_ => source)
                .UseCheckpointStore(_ => store);
        });
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        await host.StartQuicklyAsync();
        await Eventually.WaitUntilAsync(() => source.IsWaiting, "the source waits for data");
        source.Append("a", TestHosts.Clicks(60, seed: 0));
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.WaitingToRestart, "the first run fails");

        table.Failing = false;
        time.Advance(monitor.GetStatus(Pipeline).NextRestartAt!.Value - time.GetUtcNow());
        await Eventually.DriveUntilAsync(time, TimeSpan.FromMilliseconds(200), () => monitor.GetStatus(Pipeline) is { State: StreamPipelineState.Running, LastCheckpoint: not null, ConsecutiveFailures: 0 }, "the restart delivers and saves a checkpoint");

        Assert.Equal(2, built);
        Assert.NotEmpty(table.Rows);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A sink that, once a call failed, refuses every later call, as the library's sinks do.</summary>
    private sealed class BrokenForGood<T>(ISink<T> inner) : ISink<T>
    {
        private Exception? _fault;

        public async ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
        {
            ThrowIfBroken();
            try
            {
                await inner.WriteAsync(items, cancellationToken);
            }
            catch (Exception ex)
            {
                _fault = ex;
                throw;
            }
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            ThrowIfBroken();
            try
            {
                await inner.FlushAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                _fault = ex;
                throw;
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private void ThrowIfBroken()
        {
            if (_fault is not null)
            {
                throw new InvalidOperationException("The sink failed earlier; create a new sink.", _fault);
            }
        }
    }

    [Fact]
    public async Task Worker_MaxAttemptsFailedInARow_GivesUpAndStopsTheApplication()
    {
        var time = new FakeTimeProvider(TestHosts.T0);
        var source = new FailingSource<Click>();
        var logs = new ListLoggerProvider();
        var config = new Dictionary<string, string?> { [$"Analytics:Pipelines:{Pipeline}:Restart:MaxAttempts"] = "2" };
        using var host = TestHosts.Build(config, logs, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => source);
        });
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        await host.StartQuicklyAsync();

        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.WaitingToRestart, "the first run failed");
        time.Advance(monitor.GetStatus(Pipeline).NextRestartAt!.Value - time.GetUtcNow());
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.Faulted, "the worker gives up");

        // The worker reports Faulted, logs that it gave up, then stops the application: wait for the last of the three.
        await Eventually.WaitUntilAsync(() => lifetime.ApplicationStopping.IsCancellationRequested, "the application is stopped");
        try
        {
            Assert.Equal(2, source.Reads);
            Assert.Contains(logs.Entries, e => e.Id.Id == 8005);

            // A supervisor that restarts only failed processes (systemd Restart=on-failure, a Windows service's
            // recovery, a Kubernetes Job) must see a failure.
            Assert.Equal(1, Environment.ExitCode);
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
        finally
        {
            Environment.ExitCode = 0;
        }
    }

    [Fact]
    public async Task Worker_SourceEnds_CompletesWithoutRestart()
    {
        var source = new LogSource<Click>("a");
        source.Append("a", TestHosts.Clicks(40, seed: 1));
        source.Complete();
        var table = new TableSink<string, (long Count, long Sum)>();
        var logs = new ListLoggerProvider();
        using var host = TestHosts.Build(new Dictionary<string, string?>(), logs, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, table))
            .ReadFrom(_ => source));
        await host.StartQuicklyAsync();
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.Completed, "the pipeline completes");

        var status = monitor.GetStatus(Pipeline);
        Assert.Equal(1, status.Runs);
        Assert.Equal(0, status.Restarts);
        Assert.Equal(40, status.Statistics!.RecordsIn);
        Assert.Equal(40, table.Rows.Values.Sum(r => r.Value.Count));
        Assert.Contains(logs.Entries, e => e.Id.Id == 8000);
        Assert.Contains(logs.Entries, e => e.Id.Id == 8002);

        // The pipeline logs through the host's logger factory (core events 1000-1099).
        Assert.Contains(logs.Entries, e => e.Category == "Analytics.Streaming.StreamPipeline" && e.Id.Id == 1000);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<List<(string Id, long Count, long Sum, long Records)>> UninterruptedRunAsync(List<Click> a, List<Click> b)
    {
        var table = new TableSink<string, (long Count, long Sum)>();
        var source = new LogSource<Click>("a", "b");
        source.Append("a", a);
        source.Append("b", b);
        source.Complete();
        var pipeline = TestHosts.ClicksPipeline(new StreamPipelineOptions { Name = Pipeline }, table);
        await pipeline.RunAsync(source, TestContext.Current.CancellationToken);
        return Table(table);
    }

    private static List<(string Id, long Count, long Sum, long Records)> Table(TableSink<string, (long Count, long Sum)> table)
        => [.. table.Rows.Values.OrderBy(r => r.Id, StringComparer.Ordinal).Select(r => (r.Id, r.Value.Count, r.Value.Sum, r.RecordCount))];

    private sealed class BlockingStore(ManualResetEventSlim gate) : ICheckpointStore
    {
        private volatile bool _loading;

        public bool Loading => _loading;

        public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
        {
            _loading = true;

            // Synchronous on purpose: a store that blocks its caller must still not hold up the host's start.
            gate.Wait(cancellationToken);
            return ValueTask.FromResult<PipelineCheckpoint?>(null);
        }

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
