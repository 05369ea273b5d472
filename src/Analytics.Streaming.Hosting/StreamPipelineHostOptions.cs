namespace Analytics.Streaming.Hosting;

/// <summary>
/// The settings of one hosted pipeline: the <see cref="StreamPipelineOptions"/> values that belong in configuration,
/// the checkpoint folder, how failed runs are restarted and what the health check judges. Bound from the
/// configuration section <c>Analytics:Pipelines:{name}</c> (<see cref="SectionName"/>) and validated when the host
/// starts.
/// </summary>
/// <remarks>
/// <para>
/// Every pipeline value defaults to the <see cref="StreamPipelineOptions"/> default except <see cref="ShutdownTimeout"/>
/// (20 seconds here, 30 in the core), which stays below the generic host's default shutdown timeout of 30 seconds.
/// Code can change them after binding with <c>Configure(...)</c> on the pipeline's registration; what code sets last wins.
/// </para>
/// <para>
/// The options are read once, when the host starts and builds the pipeline; changing the configuration later does not
/// affect a running pipeline. Validation at start runs <see cref="StreamPipelineOptions.Validate"/> on the values (the
/// messages are the ones <c>Build()</c> gives) and checks <see cref="Restart"/> and <see cref="Health"/>.
/// </para>
/// </remarks>
public sealed class StreamPipelineHostOptions
{
    /// <summary>The configuration section that holds one subsection per pipeline name: <c>Analytics:Pipelines</c>.</summary>
    public const string SectionName = "Analytics:Pipelines";

    private static readonly StreamPipelineOptions CoreDefaults = new();

    /// <summary>Gets the default of <see cref="ShutdownTimeout"/> for hosted pipelines: 20 seconds.</summary>
    public static TimeSpan DefaultShutdownTimeout => TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets <see cref="StreamPipelineOptions.CheckpointInterval"/>. Default 5 seconds.</summary>
    public TimeSpan CheckpointInterval { get; set; } = CoreDefaults.CheckpointInterval;

    /// <summary>
    /// Gets or sets <see cref="StreamPipelineOptions.ShutdownTimeout"/>: how long the final flush and checkpoint may take
    /// when the host stops the pipeline. Default 20 seconds.
    /// </summary>
    /// <remarks>
    /// Stopping a pipeline first delivers the batches already in flight (at most <see cref="ChannelCapacity"/> between
    /// each pair of stages), then flushes the sinks and saves the final checkpoint within this timeout. The host gives
    /// all its services <c>HostOptions.ShutdownTimeout</c> (30 seconds by default) to stop; keep this value shorter by a
    /// margin for that delivery. If the host stops waiting first, the worker logs it (event 8007) and the next run replays
    /// from the last saved checkpoint: nothing is lost, some work is repeated.
    /// </remarks>
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;

    /// <summary>Gets or sets <see cref="StreamPipelineOptions.TickInterval"/>. Default 1 second.</summary>
    public TimeSpan TickInterval { get; set; } = CoreDefaults.TickInterval;

    /// <summary>Gets or sets <see cref="StreamPipelineOptions.ChannelCapacity"/>. Default 16.</summary>
    public int ChannelCapacity { get; set; } = CoreDefaults.ChannelCapacity;

    /// <summary>Gets or sets <see cref="StreamPipelineOptions.WindowState"/> (<c>Auto</c>, <c>Always</c> or <c>Never</c>). Default <see cref="WindowStateMode.Auto"/>.</summary>
    public WindowStateMode WindowState { get; set; } = CoreDefaults.WindowState;

    /// <summary>Gets or sets <see cref="StreamPipelineOptions.AllowNonResumableSource"/>. Default <see langword="false"/>.</summary>
    public bool AllowNonResumableSource { get; set; } = CoreDefaults.AllowNonResumableSource;

    /// <summary>Gets or sets <see cref="StreamPipelineOptions.MaxEventTimeAhead"/>. Default <see langword="null"/>: no limit.</summary>
    public TimeSpan? MaxEventTimeAhead { get; set; } = CoreDefaults.MaxEventTimeAhead;

    /// <summary>
    /// Gets or sets the folder of a <see cref="FileCheckpointStore"/> for the pipeline (one file per pipeline name, so
    /// pipelines may share a folder). A relative path is resolved against the host's content root. Default
    /// <see langword="null"/>: no store unless the registration sets one (<c>UseCheckpointStore</c>, which wins over
    /// this), and every run starts afresh.
    /// </summary>
    public string? CheckpointFolder { get; set; }

    /// <summary>Gets or sets how a failed run is restarted (section <c>Restart</c>).</summary>
    public StreamPipelineRestartOptions Restart { get; set; } = new();

    /// <summary>Gets or sets what the pipeline's health check judges (section <c>Health</c>).</summary>
    public StreamPipelineHealthOptions Health { get; set; } = new();

    /// <summary>
    /// Copies the pipeline values (everything but <see cref="CheckpointFolder"/>, <see cref="Restart"/> and
    /// <see cref="Health"/>) onto <paramref name="options"/>.
    /// </summary>
    /// <param name="options">The pipeline options to change.</param>
    public void ApplyTo(StreamPipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CheckpointInterval = CheckpointInterval;
        options.ShutdownTimeout = ShutdownTimeout;
        options.TickInterval = TickInterval;
        options.ChannelCapacity = ChannelCapacity;
        options.WindowState = WindowState;
        options.AllowNonResumableSource = AllowNonResumableSource;
        options.MaxEventTimeAhead = MaxEventTimeAhead;
    }
}

/// <summary>How the worker restarts a pipeline whose run failed: from its last checkpoint, after a jittered exponential backoff.</summary>
/// <remarks>
/// <para>
/// <b>Schedule.</b> After the <c>n</c>-th failed run in a row the worker waits a time drawn uniformly from
/// <c>[c/2, c]</c>, where <c>c = min(MaxDelay, BaseDelay × 2^(n−1))</c>: with the defaults about 1, 2, 4, 8, 16, 32 and then
/// 60 seconds at most. The wait never drops below half its ceiling, so a failing pipeline always pauses, and the jitter
/// spreads the restarts of workers that failed together. Waits run on the host's <see cref="TimeProvider"/> (taken from
/// the container when one is registered) and end at once when the host stops.
/// </para>
/// <para>
/// <b>In a row</b> means without progress: a run that saved at least one checkpoint before failing starts the count
/// again at one. A run that ends because its source ended is not restarted.
/// </para>
/// <para>
/// <b>Bound.</b> With <see cref="MaxAttempts"/> unset (default) the worker restarts for as long as the host runs, never
/// waiting longer than <see cref="MaxDelay"/>; the health check reports the pipeline unhealthy meanwhile. With it set,
/// after that many failed runs in a row the pipeline is left faulted and the worker stops the application
/// (<c>IHostApplicationLifetime.StopApplication</c>), so that a process supervisor restarts it.
/// </para>
/// </remarks>
public sealed class StreamPipelineRestartOptions
{
    /// <summary>Gets the default of <see cref="BaseDelay"/>: 1 second.</summary>
    public static TimeSpan DefaultBaseDelay => TimeSpan.FromSeconds(1);

    /// <summary>Gets the default of <see cref="MaxDelay"/>: 1 minute.</summary>
    public static TimeSpan DefaultMaxDelay => TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the ceiling of the wait after the first failure; it doubles with every failure in a row. Default 1 second.</summary>
    public TimeSpan BaseDelay { get; set; } = DefaultBaseDelay;

    /// <summary>Gets or sets the largest ceiling of one wait. Default 1 minute.</summary>
    public TimeSpan MaxDelay { get; set; } = DefaultMaxDelay;

    /// <summary>
    /// Gets or sets how many runs in a row may fail before the worker gives up and stops the application; the first run
    /// counts. Default <see langword="null"/>: never give up.
    /// </summary>
    public int? MaxAttempts { get; set; }
}

/// <summary>What the health check of a hosted pipeline judges, besides whether it runs.</summary>
/// <remarks>
/// A pipeline that is waiting to restart after a failure, or that gave up, is reported with the check's failure status
/// (<see cref="Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy"/> unless registered otherwise), and
/// so is a running pipeline whose checkpoint is older than <see cref="MaxCheckpointAge"/> while it holds records that no
/// checkpoint covers yet. Lag beyond <see cref="MaxBehindLatest"/> or <see cref="MaxWatermarkLag"/> is reported
/// <see cref="Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded"/>: a restart would not cure it.
/// </remarks>
public sealed class StreamPipelineHealthOptions
{
    /// <summary>Gets the default of <see cref="MaxBehindLatest"/>: 1 minute.</summary>
    public static TimeSpan DefaultMaxBehindLatest => TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how old the last checkpoint may get while records read since are not covered by one. Default
    /// <see langword="null"/>: four checkpoint intervals, and at least one minute.
    /// </summary>
    /// <remarks>
    /// The age counts from the last checkpoint saved or restored in the current run, or from the start of the run when
    /// that is later. A pipeline with nothing new to save (an idle stream) is never judged stale, however old its
    /// checkpoint.
    /// </remarks>
    public TimeSpan? MaxCheckpointAge { get; set; }

    /// <summary>
    /// Gets or sets how far behind the newest record of its stream any partition may be (Kinesis <c>MillisBehindLatest</c>)
    /// before the pipeline is reported degraded. Default 1 minute. Only judged when the source reports it.
    /// </summary>
    public TimeSpan MaxBehindLatest { get; set; } = DefaultMaxBehindLatest;

    /// <summary>
    /// Gets or sets how far the watermark may be behind the clock before the pipeline is reported degraded. Default
    /// <see langword="null"/>: reported in the check's data but not judged, because the watermark of a healthy pipeline
    /// lags by its out-of-orderness, and by much more while it catches up on old records.
    /// </summary>
    public TimeSpan? MaxWatermarkLag { get; set; }

    internal TimeSpan EffectiveMaxCheckpointAge(TimeSpan checkpointInterval)
        => MaxCheckpointAge ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(1).Ticks, checkpointInterval.Ticks > long.MaxValue / 4 ? long.MaxValue : checkpointInterval.Ticks * 4));
}
