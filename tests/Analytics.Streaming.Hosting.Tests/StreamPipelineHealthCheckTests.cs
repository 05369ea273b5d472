using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Hosting.Tests;

public sealed class StreamPipelineHealthCheckTests
{
    private const string Pipeline = "clicks";
    private const string CheckName = "analytics-streaming:clicks";

    [Fact]
    public async Task HealthCheck_SinkKeepsFailing_ReportsUnhealthyThenRecoversWhenItWorks()
    {
        var time = new FakeTimeProvider(TestHosts.T0);
        var table = new TableSink<string, (long Count, long Sum)> { Failing = true };
        var source = new LogSource<Click>("a");
        var logs = new ListLoggerProvider();
        var store = new InMemoryCheckpointStore();
        var config = new Dictionary<string, string?>
        {
            [$"Analytics:Pipelines:{Pipeline}:CheckpointInterval"] = "00:00:01",
            [$"Analytics:Pipelines:{Pipeline}:TickInterval"] = "00:00:00.100",
        };
        using var host = TestHosts.Build(config, logs, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddHealthChecks().AddStreamPipelineChecks();
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, table))
                .ReadFrom(_ => source)
                .UseCheckpointStore(_ => store);
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        await host.StartQuicklyAsync();
        await Eventually.WaitUntilAsync(() => source.IsWaiting, "the source waits for data");
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(health)).Status);

        // 30 s of clicks: the first windows close and go to the table, which is down. (The clock stands still, so
        // nothing restarts until the test moves it.)
        source.Append("a", TestHosts.Clicks(60, seed: 0));
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.WaitingToRestart, "the first run fails");
        var faulted = await CheckAsync(health);
        Assert.Equal(HealthStatus.Unhealthy, faulted.Status);
        Assert.Contains("faulted: Sink failure, 1 in a row", faulted.Description, StringComparison.Ordinal);
        Assert.Contains("The results table is unavailable.", faulted.Description, StringComparison.Ordinal);
        Assert.IsType<IOException>(faulted.Exception);
        Assert.Equal("Sink", faulted.Data["lastFailureKind"]);
        Assert.Equal(1, faulted.Data["consecutiveFailures"]);

        // It keeps failing: the restart fails the same way.
        time.Advance(monitor.GetStatus(Pipeline).NextRestartAt!.Value - time.GetUtcNow());
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline) is { State: StreamPipelineState.WaitingToRestart, Runs: 2 }, "the restart fails too");
        var stillFaulted = await CheckAsync(health);
        Assert.Equal(HealthStatus.Unhealthy, stillFaulted.Status);
        Assert.Equal(2, stillFaulted.Data["consecutiveFailures"]);
        Assert.Equal(1, stillFaulted.Data["restarts"]);

        // The table is back: the next run delivers, checkpoints, and the check recovers.
        table.Failing = false;
        time.Advance(monitor.GetStatus(Pipeline).NextRestartAt!.Value - time.GetUtcNow());
        await Eventually.DriveUntilAsync(time, TimeSpan.FromMilliseconds(200), () => monitor.GetStatus(Pipeline) is { State: StreamPipelineState.Running, LastCheckpoint: not null, ConsecutiveFailures: 0 }, "the third run saves a checkpoint");
        var recovered = await CheckAsync(health);
        Assert.Equal(HealthStatus.Healthy, recovered.Status);
        Assert.Equal("running", recovered.Description);
        Assert.Equal(60L, recovered.Data["recordsIn"]);
        Assert.NotEmpty(table.Rows);

        // Every change of status was logged.
        var changes = logs.Entries.Where(e => e.Id.Id == 8006).Select(e => e.Message).ToList();
        Assert.Contains(changes, m => m.Contains("from Healthy to Unhealthy", StringComparison.Ordinal));
        Assert.Contains(changes, m => m.Contains("from Unhealthy to Healthy", StringComparison.Ordinal));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task HealthCheck_CheckpointStaleWithUnsavedRecords_ReportsUnhealthyAndIdleIsHealthy()
    {
        var time = new FakeTimeProvider(TestHosts.T0);
        var table = new TableSink<string, (long Count, long Sum)>();
        var source = new LogSource<Click>("a");
        var config = new Dictionary<string, string?>
        {
            [$"Analytics:Pipelines:{Pipeline}:CheckpointInterval"] = "00:00:01",
            [$"Analytics:Pipelines:{Pipeline}:TickInterval"] = "00:00:00.100",
            [$"Analytics:Pipelines:{Pipeline}:Health:MaxCheckpointAge"] = "00:00:10",
        };
        using var host = TestHosts.Build(config, null, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddHealthChecks().AddStreamPipelineChecks(HealthStatus.Degraded, ["ready"]);
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, table))
                .ReadFrom(_ => source)
                .UseCheckpointStore(_ => new InMemoryCheckpointStore());
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        await host.StartQuicklyAsync();

        // Delivered and checkpointed: healthy, and staying idle for a long time does not change that.
        source.Append("a", TestHosts.Clicks(10, seed: 0));
        await Eventually.DriveUntilAsync(time, TimeSpan.FromMilliseconds(200), () => monitor.GetStatus(Pipeline) is { Statistics.RecordsIn: 10, HasUncheckpointedRecords: false }, "the records are checkpointed");
        time.Advance(TimeSpan.FromMinutes(5));
        var idle = await CheckAsync(health, "ready");
        Assert.Equal(HealthStatus.Healthy, idle.Status);
        Assert.True((double)idle.Data["checkpointAgeSeconds"] >= 300);

        // The table hangs on flush: new records wait for a checkpoint that never comes.
        table.HoldFlushes();
        source.Append("a", TestHosts.Clicks(30, seed: 0)[10..]);
        await Eventually.DriveUntilAsync(time, TimeSpan.FromMilliseconds(200), () => monitor.GetStatus(Pipeline) is { Statistics.RecordsIn: 30, HasUncheckpointedRecords: true }, "new records are read");
        time.Advance(TimeSpan.FromSeconds(11));
        var stale = await CheckAsync(health, "ready");
        Assert.Equal(HealthStatus.Degraded, stale.Status);
        Assert.Contains("checkpoint stale", stale.Description, StringComparison.Ordinal);
        Assert.Equal(true, stale.Data["uncheckpointedRecords"]);

        table.ReleaseFlushes();
        await Eventually.DriveUntilAsync(time, TimeSpan.FromMilliseconds(200), () => !monitor.GetStatus(Pipeline).HasUncheckpointedRecords, "the checkpoint is saved");
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(health, "ready")).Status);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task HealthCheck_BatchesBehindLatestBeyondThreshold_ReportsDegraded()
    {
        var source = new LogSource<Click>("a", "b") { BehindLatest = TimeSpan.FromMinutes(5) };
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services =>
        {
            services.AddHealthChecks().AddStreamPipelineChecks();
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => source);
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartQuicklyAsync();
        source.Append("a", TestHosts.Clicks(5, seed: 0));
        await Eventually.WaitUntilAsync(() => host.Services.GetRequiredService<StreamPipelineMonitor>().GetStatus(Pipeline).MaxBehindLatest is not null, "a batch reported its lag");

        var result = await CheckAsync(health);
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("behind latest: 300000 ms", result.Description, StringComparison.Ordinal);
        Assert.Equal(300_000d, result.Data["millisBehindLatest"]);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task HealthCheck_PluggableBehindLatestReader_UsesItsFigures()
    {
        var lag = new ShardLag();
        var source = new LogSource<Click>("a");
        var config = new Dictionary<string, string?> { [$"Analytics:Pipelines:{Pipeline}:Health:MaxBehindLatest"] = "00:00:30" };
        using var host = TestHosts.Build(config, null, services =>
        {
            services.AddSingleton(lag);
            services.AddHealthChecks().AddStreamPipelineChecks();
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => source)
                .ReadBehindLatestFrom<ShardLag>(l => l.PerShard);
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartQuicklyAsync();
        await Eventually.WaitUntilAsync(() => source.IsWaiting, "the source waits for data");

        lag.PerShard = new Dictionary<string, TimeSpan> { ["shardId-0"] = TimeSpan.FromSeconds(2), ["shardId-1"] = TimeSpan.FromSeconds(45) };
        var behind = await CheckAsync(health);
        Assert.Equal(HealthStatus.Degraded, behind.Status);
        Assert.Equal(45_000d, behind.Data["millisBehindLatest"]);

        lag.PerShard = new Dictionary<string, TimeSpan> { ["shardId-0"] = TimeSpan.Zero, ["shardId-1"] = TimeSpan.FromSeconds(1) };
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(health)).Status);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task HealthCheck_WatermarkLagThresholdSet_ReportsDegradedWhenExceeded()
    {
        var time = new FakeTimeProvider(TestHosts.T0.AddHours(1));
        var source = new LogSource<Click>("a");
        var config = new Dictionary<string, string?> { [$"Analytics:Pipelines:{Pipeline}:Health:MaxWatermarkLag"] = "00:10:00" };
        using var host = TestHosts.Build(config, null, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddHealthChecks().AddStreamPipelineChecks();
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => source);
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        await host.StartQuicklyAsync();
        source.Append("a", TestHosts.Clicks(5, seed: 0));
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).WatermarkLag is not null, "the watermark moved");

        var result = await CheckAsync(health);
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("watermark lag", result.Description, StringComparison.Ordinal);
        Assert.True((double)result.Data["watermarkLagSeconds"] > 3500);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task HealthCheck_BeforeTheHostStarts_ReportsDegradedNotStarted()
    {
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services =>
        {
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => new LogSource<Click>("a"));
            services.AddHealthChecks().AddStreamPipelineChecks();
        });
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);
        var entry = Assert.Single(report.Entries);
        Assert.Equal(CheckName, entry.Key);
        Assert.Equal(HealthStatus.Degraded, entry.Value.Status);
        Assert.Equal("not started yet", entry.Value.Description);
        Assert.Contains("analytics-streaming", entry.Value.Tags);
    }

    private static async Task<HealthReportEntry> CheckAsync(HealthCheckService health, string tag = "analytics-streaming")
    {
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(tag), TestContext.Current.CancellationToken);
        return report.Entries[CheckName];
    }

    private sealed class ShardLag
    {
        public IReadOnlyDictionary<string, TimeSpan> PerShard { get; set; } = new Dictionary<string, TimeSpan>();
    }
}
