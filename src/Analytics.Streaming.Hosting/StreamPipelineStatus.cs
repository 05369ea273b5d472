namespace Analytics.Streaming.Hosting;

/// <summary>Where a hosted pipeline is in its life.</summary>
public enum StreamPipelineState
{
    /// <summary>The host has not started it yet.</summary>
    NotStarted,

    /// <summary>A run is in progress (from restoring its checkpoint to its final flush).</summary>
    Running,

    /// <summary>The last run failed; the worker waits before restarting it from its last checkpoint (<see cref="StreamPipelineStatus.NextRestartAt"/>).</summary>
    WaitingToRestart,

    /// <summary>The host stopped it; its final checkpoint was saved unless <see cref="StreamPipelineStatus.LastFailure"/> says otherwise.</summary>
    Stopped,

    /// <summary>Its source ended and every window was emitted, flushed and checkpointed; it is not restarted.</summary>
    Completed,

    /// <summary>It could not be built, or it failed <see cref="StreamPipelineRestartOptions.MaxAttempts"/> times in a row; the worker gave up on it.</summary>
    Faulted,
}

/// <summary>Where a run's failure came from, as far as the host can tell.</summary>
public enum PipelineFailureKind
{
    /// <summary>
    /// The run failed before its source was read: loading or restoring the checkpoint (a damaged or incompatible
    /// checkpoint, an unreachable store), a sink's restore, or a source the pipeline refuses (cannot resume).
    /// </summary>
    Start,

    /// <summary>The source threw (after its own retries); what it had delivered was processed, flushed and checkpointed first.</summary>
    Source,

    /// <summary>
    /// Anything after the source: a sink (after its own retries), the checkpoint store while saving, a selector that
    /// threw, or a final flush that outlasted <see cref="StreamPipelineOptions.ShutdownTimeout"/>. The core logs these as
    /// event 1005 (SinkFailed); nothing after the last saved checkpoint is checkpointed.
    /// </summary>
    Sink,
}

/// <summary>A snapshot of a hosted pipeline: its state, its run counters, failures and restarts, checkpoint age and lag.</summary>
/// <remarks>Taken by <see cref="StreamPipelineMonitor.GetStatus"/> at one instant; the <see cref="Statistics"/> object stays live.</remarks>
public sealed class StreamPipelineStatus
{
    internal StreamPipelineStatus(string name)
    {
        Name = name;
    }

    /// <summary>Gets the pipeline name.</summary>
    public string Name { get; }

    /// <summary>Gets the state.</summary>
    public StreamPipelineState State { get; internal init; }

    /// <summary>Gets when the pipeline entered <see cref="State"/>; <see langword="null"/> before it started.</summary>
    public DateTimeOffset? Since { get; internal init; }

    /// <summary>Gets the live counters of the current (or last) run; <see langword="null"/> before the pipeline was built.</summary>
    public PipelineStatistics? Statistics { get; internal init; }

    /// <summary>Gets how many runs have started (the first and every restart).</summary>
    public int Runs { get; internal init; }

    /// <summary>Gets how many times the worker restarted the pipeline after a failure.</summary>
    public int Restarts { get; internal init; }

    /// <summary>
    /// Gets how many runs in a row failed without saving a checkpoint; 0 once a run saved one (the pipeline then made
    /// progress again).
    /// </summary>
    public int ConsecutiveFailures { get; internal init; }

    /// <summary>Gets the exception of the last failed run; <see langword="null"/> when no run failed.</summary>
    public Exception? LastFailure { get; internal init; }

    /// <summary>Gets where <see cref="LastFailure"/> came from.</summary>
    public PipelineFailureKind? LastFailureKind { get; internal init; }

    /// <summary>Gets when the last run failed.</summary>
    public DateTimeOffset? LastFailureAt { get; internal init; }

    /// <summary>Gets when the worker restarts the pipeline, while <see cref="State"/> is <see cref="StreamPipelineState.WaitingToRestart"/>.</summary>
    public DateTimeOffset? NextRestartAt { get; internal init; }

    /// <summary>Gets when the current (or last) run started.</summary>
    public DateTimeOffset? RunStartedAt { get; internal init; }

    /// <summary>Gets the checkpoint the current run saved last, or else the one it restored; <see langword="null"/> when it has neither.</summary>
    public PipelineCheckpoint? LastCheckpoint { get; internal init; }

    /// <summary>
    /// Gets the time since <see cref="LastCheckpoint"/> was taken, or since the run started when that is later;
    /// <see langword="null"/> when no run started.
    /// </summary>
    public TimeSpan? CheckpointAge { get; internal init; }

    /// <summary>Gets a value indicating whether the source delivered records that no checkpoint covers yet (what a crash now would replay).</summary>
    public bool HasUncheckpointedRecords { get; internal set; }

    /// <summary>Gets how far the watermark is behind the clock; <see langword="null"/> before the first event time.</summary>
    public TimeSpan? WatermarkLag { get; internal init; }

    /// <summary>Gets, per partition, how far its reader is behind the newest record, when the source reports it (see <see cref="IBehindLatestReader"/>).</summary>
    public IReadOnlyDictionary<string, TimeSpan> BehindLatest { get; internal set; } = new Dictionary<string, TimeSpan>();

    /// <summary>Gets the largest of <see cref="BehindLatest"/>; <see langword="null"/> when none is known.</summary>
    public TimeSpan? MaxBehindLatest => BehindLatest.Count == 0 ? null : BehindLatest.Values.Max();
}
