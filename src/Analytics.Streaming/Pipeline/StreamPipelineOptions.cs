namespace Analytics.Streaming;

/// <summary>Options of a <see cref="StreamPipeline{TEvent, TKey, TResult}"/>; validated when the pipeline is built.</summary>
public sealed class StreamPipelineOptions
{
    /// <summary>Gets or sets the pipeline name: part of every result identity and the <c>pipeline</c> tag of its metrics. Default <c>"pipeline"</c>.</summary>
    public string Name { get; set; } = "pipeline";

    /// <summary>Gets or sets the clock for processing time, idleness, checkpoint intervals and ticks. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets how many batches each channel between stages holds before the stage in front waits
    /// (backpressure). Default 16.
    /// </summary>
    public int ChannelCapacity { get; set; } = 16;

    /// <summary>
    /// Gets or sets where safe source positions are saved; <see langword="null"/> (default) keeps them in
    /// <see cref="PipelineStatistics.SafeCheckpoints"/> only. Sources read their start positions from the same store.
    /// </summary>
    public ICheckpointStore? CheckpointStore { get; set; }

    /// <summary>
    /// Gets or sets how often sinks are flushed and safe positions checkpointed. Default 5 seconds. Shorter means
    /// less replay after a crash and more flushes.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how often processing time is fed to the engine while no batch arrives: it closes
    /// processing-time windows and lets idle partitions stop holding the watermark back. Default 1 second.
    /// </summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long the final flush and checkpoint may take after cancellation. Default 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how far ahead of the clock an event time may be before the record goes to the dead letters
    /// (protects the watermark from a bad timestamp in the far future). Default <see langword="null"/>: no limit.
    /// </summary>
    public TimeSpan? MaxEventTimeAhead { get; set; }

    internal void Validate()
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
