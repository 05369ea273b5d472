using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Hosting.Tests;

public sealed class StreamPipelineOptionsBindingTests
{
    private const string Pipeline = "clicks";

    [Fact]
    public async Task AddStreamPipeline_ConfigurationSection_BindsEveryValueIntoThePipelineOptions()
    {
        string folder = TestHosts.TempFolder();
        var time = new FakeTimeProvider(TestHosts.T0);
        var config = new Dictionary<string, string?>
        {
            ["Analytics:Pipelines:clicks:CheckpointInterval"] = "00:00:02",
            ["Analytics:Pipelines:clicks:ShutdownTimeout"] = "00:00:07",
            ["Analytics:Pipelines:clicks:TickInterval"] = "00:00:00.250",
            ["Analytics:Pipelines:clicks:ChannelCapacity"] = "4",
            ["Analytics:Pipelines:clicks:WindowState"] = "Always",
            ["Analytics:Pipelines:clicks:AllowNonResumableSource"] = "true",
            ["Analytics:Pipelines:clicks:MaxEventTimeAhead"] = "01:00:00",
            ["Analytics:Pipelines:clicks:CheckpointFolder"] = folder,
            ["Analytics:Pipelines:clicks:Restart:BaseDelay"] = "00:00:03",
            ["Analytics:Pipelines:clicks:Restart:MaxDelay"] = "00:05:00",
            ["Analytics:Pipelines:clicks:Restart:MaxAttempts"] = "5",
            ["Analytics:Pipelines:clicks:Health:MaxCheckpointAge"] = "00:02:00",
            ["Analytics:Pipelines:clicks:Health:MaxBehindLatest"] = "00:00:45",
            ["Analytics:Pipelines:clicks:Health:MaxWatermarkLag"] = "00:30:00",
            ["Analytics:Pipelines:other:CheckpointInterval"] = "00:01:00",
        };
        StreamPipelineOptions? seen = null;
        IServiceProvider? seenServices = null;
        using var host = TestHosts.Build(config, null, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddStreamPipeline(Pipeline, (provider, options) =>
                {
                    seen = options;
                    seenServices = provider;
                    return TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>());
                })
                .ReadFrom(_ => new LogSource<Click>("a"));
            services.AddStreamPipeline("other", (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom(_ => new LogSource<Click>("a"));
        });
        await host.StartQuicklyAsync();

        Assert.NotNull(seen);
        Assert.Equal(Pipeline, seen.Name);
        Assert.Equal(TimeSpan.FromSeconds(2), seen.CheckpointInterval);
        Assert.Equal(TimeSpan.FromSeconds(7), seen.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), seen.TickInterval);
        Assert.Equal(4, seen.ChannelCapacity);
        Assert.Equal(WindowStateMode.Always, seen.WindowState);
        Assert.True(seen.AllowNonResumableSource);
        Assert.Equal(TimeSpan.FromHours(1), seen.MaxEventTimeAhead);
        Assert.Equal(folder, Assert.IsType<FileCheckpointStore>(seen.CheckpointStore).Folder);
        Assert.Same(time, seen.TimeProvider);
        Assert.Same(host.Services.GetRequiredService<ILoggerFactory>(), seen.LoggerFactory);
        Assert.Same(host.Services.GetRequiredService<StreamPipelineMonitor>(), seenServices!.GetRequiredService<StreamPipelineMonitor>());

        var bound = host.Services.GetRequiredService<IOptionsMonitor<StreamPipelineHostOptions>>().Get(Pipeline);
        Assert.Equal(TimeSpan.FromSeconds(3), bound.Restart.BaseDelay);
        Assert.Equal(TimeSpan.FromMinutes(5), bound.Restart.MaxDelay);
        Assert.Equal(5, bound.Restart.MaxAttempts);
        Assert.Equal(TimeSpan.FromMinutes(2), bound.Health.MaxCheckpointAge);
        Assert.Equal(TimeSpan.FromSeconds(45), bound.Health.MaxBehindLatest);
        Assert.Equal(TimeSpan.FromMinutes(30), bound.Health.MaxWatermarkLag);

        var other = host.Services.GetRequiredService<IOptionsMonitor<StreamPipelineHostOptions>>().Get("other");
        Assert.Equal(TimeSpan.FromMinutes(1), other.CheckpointInterval);
        Assert.Null(other.CheckpointFolder);
        Assert.Equal(new[] { Pipeline, "other" }, host.Services.GetRequiredService<StreamPipelineMonitor>().PipelineNames);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void StreamPipelineHostOptions_Defaults_AreTheCoreDefaultsWithAShutdownTimeoutInsideTheHosts()
    {
        var hosted = new StreamPipelineHostOptions();
        var core = new StreamPipelineOptions();
        Assert.Equal(core.CheckpointInterval, hosted.CheckpointInterval);
        Assert.Equal(core.TickInterval, hosted.TickInterval);
        Assert.Equal(core.ChannelCapacity, hosted.ChannelCapacity);
        Assert.Equal(core.WindowState, hosted.WindowState);
        Assert.Equal(core.AllowNonResumableSource, hosted.AllowNonResumableSource);
        Assert.Equal(core.MaxEventTimeAhead, hosted.MaxEventTimeAhead);
        Assert.Null(hosted.CheckpointFolder);
        Assert.Equal(TimeSpan.FromSeconds(20), hosted.ShutdownTimeout);

        // The generic host waits 30 s for its services to stop: the pipeline's final flush must fit inside, with room for what is in flight.
        Assert.True(hosted.ShutdownTimeout < new HostOptions().ShutdownTimeout);
        Assert.Null(hosted.Restart.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), hosted.Restart.BaseDelay);
        Assert.Equal(TimeSpan.FromMinutes(1), hosted.Restart.MaxDelay);
        Assert.Equal(TimeSpan.FromMinutes(1), hosted.Health.EffectiveMaxCheckpointAge(hosted.CheckpointInterval));
        Assert.Equal(TimeSpan.FromMinutes(8), hosted.Health.EffectiveMaxCheckpointAge(TimeSpan.FromMinutes(2)));
    }

    [Theory]
    [InlineData("CheckpointInterval", "00:00:00")]
    [InlineData("TickInterval", "-00:00:01")]
    [InlineData("ShutdownTimeout", "00:00:00")]
    [InlineData("ChannelCapacity", "0")]
    [InlineData("MaxEventTimeAhead", "00:00:00")]
    public async Task StartAsync_InvalidConfiguredValue_FailsWithTheMessageBuildGives(string setting, string value)
    {
        var config = new Dictionary<string, string?> { [$"Analytics:Pipelines:{Pipeline}:{setting}"] = value };
        bool built = false;
        using var host = TestHosts.Build(config, null, services => services
            .AddStreamPipeline(Pipeline, (_, options) =>
            {
                built = true;
                return TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>());
            })
            .ReadFrom(_ => new LogSource<Click>("a")));

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        // The same options given to Build() directly fail with the same message.
        var direct = new StreamPipelineOptions { Name = Pipeline };
        var bound = new StreamPipelineHostOptions();
        Set(bound, setting, value);
        bound.ApplyTo(direct);
        var expected = Assert.ThrowsAny<ArgumentException>(() => TestHosts.ClicksPipeline(direct, new TableSink<string, (long, long)>()));
        Assert.Equal([expected.Message], failure.Failures);
        Assert.Equal(Pipeline, failure.OptionsName);
        Assert.Contains($"StreamPipelineOptions.{setting}", failure.Message, StringComparison.Ordinal);
        Assert.False(built);
    }

    [Theory]
    [InlineData("Restart:BaseDelay", "00:00:00", "Analytics:Pipelines:clicks:Restart:BaseDelay must be longer than zero")]
    [InlineData("Restart:MaxDelay", "00:00:00.500", "Analytics:Pipelines:clicks:Restart:MaxDelay must be at least Restart:BaseDelay")]
    [InlineData("Restart:MaxAttempts", "0", "Analytics:Pipelines:clicks:Restart:MaxAttempts must be at least 1")]
    [InlineData("Health:MaxCheckpointAge", "-00:00:01", "Analytics:Pipelines:clicks:Health:MaxCheckpointAge must be longer than zero")]
    [InlineData("Health:MaxBehindLatest", "00:00:00", "Analytics:Pipelines:clicks:Health:MaxBehindLatest must be longer than zero")]
    public async Task StartAsync_InvalidHostingValue_FailsNamingTheSetting(string setting, string value, string message)
    {
        var config = new Dictionary<string, string?> { [$"Analytics:Pipelines:{Pipeline}:{setting}"] = value };
        using var host = TestHosts.Build(config, null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
            .ReadFrom(_ => new LogSource<Click>("a")));

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains(failure.Failures, f => f.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_ValueThatIsNoTimeSpan_FailsNamingThePath()
    {
        var config = new Dictionary<string, string?> { [$"Analytics:Pipelines:{Pipeline}:CheckpointInterval"] = "five seconds" };
        using var host = TestHosts.Build(config, null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
            .ReadFrom(_ => new LogSource<Click>("a")));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Analytics:Pipelines:clicks:CheckpointInterval", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configure_InCode_WinsOverConfiguration()
    {
        var config = new Dictionary<string, string?> { [$"Analytics:Pipelines:{Pipeline}:CheckpointInterval"] = "00:00:02" };
        StreamPipelineOptions? seen = null;
        using var host = TestHosts.Build(config, null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(seen = options, new TableSink<string, (long, long)>()))
            .ReadFrom(_ => new LogSource<Click>("a"))
            .Configure(o => o.CheckpointInterval = TimeSpan.FromSeconds(9)));
        await host.StartQuicklyAsync();
        Assert.Equal(TimeSpan.FromSeconds(9), seen!.CheckpointInterval);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task StartAsync_PipelineThatCannotBeBuilt_FailsWithItsMessage()
    {
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => StreamPipeline.Create<Click>(options)
                .KeyBy(c => c.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                .Aggregate(a => a.Count())
                .To(new TableSink<string, long>())
                .Build())
            .ReadFrom(_ => new LogSource<Click>("a")));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith("Pipeline 'clicks' could not be built: Choose the time of the windows", failure.Message, StringComparison.Ordinal);
        Assert.Equal(StreamPipelineState.Faulted, host.Services.GetRequiredService<StreamPipelineMonitor>().GetStatus(Pipeline).State);
    }

    [Fact]
    public async Task StartAsync_NoSourceRegistered_FailsSayingHowToGiveOne()
    {
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services => services
            .AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>())));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("has no source: register an IEventSource<Click>", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadFrom_SourceRegisteredInTheContainer_IsUsed()
    {
        var source = new LogSource<Click>("a");
        source.Append("a", TestHosts.Clicks(3, seed: 0));
        source.Complete();
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services =>
        {
            services.AddSingleton(source);
            services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()))
                .ReadFrom<LogSource<Click>>();
        });
        await host.StartQuicklyAsync();
        var monitor = host.Services.GetRequiredService<StreamPipelineMonitor>();
        await Eventually.WaitUntilAsync(() => monitor.GetStatus(Pipeline).State == StreamPipelineState.Completed, "the pipeline completes");
        Assert.Equal(3, monitor.GetStatus(Pipeline).Statistics!.RecordsIn);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task StartAsync_DelegateIgnoresTheGivenOptions_FailsSayingToPassThem()
    {
        using var host = TestHosts.Build(new Dictionary<string, string?>(), null, services => services
            .AddStreamPipeline(Pipeline, (_, _) => TestHosts.ClicksPipeline(new StreamPipelineOptions(), new TableSink<string, (long, long)>()))
            .ReadFrom(_ => new LogSource<Click>("a")));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("pass the StreamPipelineOptions it receives to StreamPipeline.Create", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddStreamPipeline_SameNameTwice_Throws()
    {
        var services = new ServiceCollection();
        services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>()));
        var failure = Assert.Throws<ArgumentException>(() => services.AddStreamPipeline(Pipeline, (_, options) => TestHosts.ClicksPipeline(options, new TableSink<string, (long, long)>())));
        Assert.Contains("already registered", failure.Message, StringComparison.Ordinal);
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
    }

    private static void Set(StreamPipelineHostOptions options, string setting, string value)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        switch (setting)
        {
            case "CheckpointInterval": options.CheckpointInterval = TimeSpan.Parse(value, invariant); break;
            case "TickInterval": options.TickInterval = TimeSpan.Parse(value, invariant); break;
            case "ShutdownTimeout": options.ShutdownTimeout = TimeSpan.Parse(value, invariant); break;
            case "ChannelCapacity": options.ChannelCapacity = int.Parse(value, invariant); break;
            case "MaxEventTimeAhead": options.MaxEventTimeAhead = TimeSpan.Parse(value, invariant); break;
            default: throw new ArgumentOutOfRangeException(nameof(setting), setting, null);
        }
    }
}
