using Microsoft.Extensions.Logging;

namespace Analytics.Streaming;

/// <summary>Options of a <see cref="StreamPipeline{TEvent, TKey, TResult}"/>; validated when the pipeline is built.</summary>
public sealed class StreamPipelineOptions
{
    /// <summary>The default idle timeout of a partition: 30 seconds.</summary>
    public static TimeSpan DefaultIdleTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the pipeline name: part of every result identity and the <c>pipeline</c> tag of its metrics. Default <c>"pipeline"</c>.</summary>
    public string Name { get; set; } = "pipeline";

    /// <summary>Gets or sets the clock for processing time, idleness, checkpoint intervals and ticks. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets the one source partition this pipeline instance processes alone (a shard, when each shard gets its
    /// own pipeline: workers sharing a stream through leases, a Lambda function per shard). Its results carry it in
    /// their identity (<see cref="WindowResult{TKey, TValue}.Partition"/>), so partial results of the same key and
    /// window from different shards never overwrite each other, and its checkpoint is saved as <c>{Name}/{Partition}</c>.
    /// Default <see langword="null"/>: the pipeline's results cover every partition it reads.
    /// </summary>
    public string? Partition { get; set; }

    /// <summary>
    /// Gets or sets where the pipeline logs (start and restore, checkpoints, dead letters, failures; event ids
    /// 1000-1099, category <c>Analytics.Streaming.StreamPipeline</c>). Default <see langword="null"/>: no logging.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets how many batches each channel between stages holds before the stage in front waits
    /// (backpressure). Default 16.
    /// </summary>
    public int ChannelCapacity { get; set; } = 16;

    /// <summary>
    /// Gets or sets where checkpoints are saved and loaded (<see cref="InMemoryCheckpointStore"/>,
    /// <see cref="FileCheckpointStore"/>, the DynamoDB store); <see langword="null"/> (default) keeps the last one in
    /// <see cref="PipelineStatistics.LastCheckpoint"/> only, and every run starts afresh. The pipeline hands the
    /// positions to its source; nothing else reads the store.
    /// </summary>
    public ICheckpointStore? CheckpointStore { get; set; }

    /// <summary>
    /// Gets or sets how often a checkpoint is taken: the sinks are flushed, then the checkpoint saved. Default 5
    /// seconds. Shorter means less to redo after a crash and more flushes.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets whether checkpoints carry the open windows (keys, slices or sessions, accumulators and sketches).
    /// Default <see cref="WindowStateMode.Auto"/>.
    /// </summary>
    public WindowStateMode WindowState { get; set; } = WindowStateMode.Auto;

    /// <summary>
    /// Gets or sets whether a pipeline with a <see cref="CheckpointStore"/> accepts a source that cannot resume from
    /// checkpointed positions (<see cref="IEventSource{T}.CanResume"/> false, such as a live generator). Window state
    /// and watermarks are then restored, but records between the last checkpoint and a crash are lost. Default
    /// <see langword="false"/>: such a pipeline refuses to run.
    /// </summary>
    public bool AllowNonResumableSource { get; set; }

    /// <summary>
    /// Gets or sets how often processing time is fed to the engine while no batch arrives: it closes
    /// processing-time windows and lets idle partitions stop holding the watermark back. Default 1 second.
    /// </summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long the final flush and checkpoint may take when the run ends (cancelled or at the end of the
    /// source); past it <c>RunAsync</c> throws <see cref="TimeoutException"/>. Default 30 seconds.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how far ahead of the clock an event time may be before the record goes to the dead letters
    /// (protects the watermark from a bad timestamp in the far future). Default <see langword="null"/>: no limit.
    /// </summary>
    public TimeSpan? MaxEventTimeAhead { get; set; }

    /// <summary>
    /// Throws when an option is out of range, with the message that <c>Build()</c> gives for it: the same check
    /// <c>Build()</c> runs first, for hosts that validate options before any pipeline is built (for example at start-up).
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and says what to change.</exception>
    /// <remarks>Only the options themselves are checked; what depends on the pipeline's description (windows, time, sinks) is checked by <c>Build()</c>.</remarks>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("StreamPipelineOptions.Name must not be empty: it is part of every result identity.", nameof(Name));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        Positive(ChannelCapacity, nameof(ChannelCapacity));
        Positive(CheckpointInterval, nameof(CheckpointInterval));
        Positive(TickInterval, nameof(TickInterval));
        Positive(ShutdownTimeout, nameof(ShutdownTimeout));
        if (!Enum.IsDefined(WindowState))
        {
            throw new ArgumentOutOfRangeException(nameof(WindowState), WindowState, "StreamPipelineOptions.WindowState must be Auto, Always or Never.");
        }

        if (MaxEventTimeAhead is { } ahead)
        {
            Positive(ahead, nameof(MaxEventTimeAhead));
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"StreamPipelineOptions.{name} must be longer than zero.");
        }
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"StreamPipelineOptions.{name} must be at least 1.");
        }
    }
}

/// <summary>Whether a pipeline's checkpoints carry its open windows.</summary>
public enum WindowStateMode
{
    /// <summary>
    /// Save the open windows when replaying them would take long or cannot work: session windows, processing time,
    /// and tumbling or sliding windows whose size plus allowed lateness is at least the checkpoint interval; otherwise
    /// rebuild them from replayed records. Windows of an aggregator that cannot save its accumulators (a custom one
    /// without <see cref="IPersistentAggregator{TAccumulator}"/>) or keys without a codec are rebuilt where that works
    /// and refused at build time where it does not (sessions, processing time).
    /// </summary>
    Auto,

    /// <summary>Always save the open windows: a restart replays nothing, and recovery time does not grow with the window length.</summary>
    Always,

    /// <summary>
    /// Never save them: checkpoints hold positions and watermarks only, and each partition resumes before the first
    /// record of any window still open, whose records rebuild it. Only for tumbling and sliding windows on event time.
    /// </summary>
    Never,
}
