namespace Analytics.Streaming.Testing;

/// <summary>
/// Drives a pipeline's engine synchronously, without channels or sinks: push batches, move a manual clock or the
/// watermark, and inspect results, late records, dead letters and the checkpoints that would be safe if every
/// output were flushed after each step.
/// </summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <example>
/// <code>
/// var driver = new PipelineTestDriver&lt;Click, string, long&gt;(pipeline);
/// driver.Push(new Click("home", t0), new Click("home", t0.AddSeconds(70)));
/// driver.Complete();
/// Assert.Equal(2, driver.LatestResults.Count);
/// </code>
/// </example>
public sealed class PipelineTestDriver<TEvent, TKey, TResult> : IWindowOutput<TEvent, TKey, TResult>
    where TKey : notnull
{
    private readonly List<WindowResult<TKey, TResult>> _results = [];
    private readonly List<LateRecord<TEvent>> _late = [];
    private readonly List<DeadLetter> _deadLetters = [];
    private readonly Dictionary<string, WindowResult<TKey, TResult>> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _sequences = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Checkpoint> _checkpoints = new(StringComparer.Ordinal);
    private readonly CheckpointTracker _tracker = new();

    /// <summary>Creates a driver with a fresh engine built from <paramref name="pipeline"/>.</summary>
    /// <param name="pipeline">The pipeline whose settings to use.</param>
    /// <param name="time">The clock; a new <see cref="ManualTimeProvider"/> when <see langword="null"/>.</param>
    public PipelineTestDriver(StreamPipeline<TEvent, TKey, TResult> pipeline, ManualTimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        Time = time ?? new ManualTimeProvider();
        Processor = pipeline.CreateProcessor(Time);
    }

    /// <summary>Gets the manual clock the engine reads.</summary>
    public ManualTimeProvider Time { get; }

    /// <summary>Gets the engine.</summary>
    public WindowProcessor<TEvent, TKey, TResult> Processor { get; }

    /// <summary>Gets every result in emission order.</summary>
    public IReadOnlyList<WindowResult<TKey, TResult>> Results => _results;

    /// <summary>Gets the table an idempotent sink would hold: the newest result per identity, with superseded session extents deleted.</summary>
    public IReadOnlyDictionary<string, WindowResult<TKey, TResult>> LatestResults => _latest;

    /// <summary>Gets every late record in order.</summary>
    public IReadOnlyList<LateRecord<TEvent>> LateRecords => _late;

    /// <summary>Gets every dead letter in order.</summary>
    public IReadOnlyList<DeadLetter> DeadLetters => _deadLetters;

    /// <summary>Gets the safe checkpoint of each partition, as if every output were flushed after each step.</summary>
    public IReadOnlyDictionary<string, Checkpoint> SafeCheckpoints => _checkpoints;

    /// <summary>Gets the engine's watermark.</summary>
    public DateTimeOffset Watermark => Processor.Watermark;

    /// <summary>Pushes events as one batch of partition <c>"0"</c>, numbered after the partition's previous records.</summary>
    /// <param name="events">The events.</param>
    public void Push(params TEvent[] events) => Push("0", events);

    /// <summary>Pushes events as one batch of <paramref name="partitionId"/>, numbered after the partition's previous records.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <param name="events">The events.</param>
    public void Push(string partitionId, params TEvent[] events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _sequences.TryGetValue(partitionId, out long sequence);
        var records = new StreamRecord<TEvent>[events.Length];
        for (int i = 0; i < events.Length; i++)
        {
            records[i] = new StreamRecord<TEvent>(events[i], SequenceNumber.FromInt64(++sequence));
        }

        _sequences[partitionId] = sequence;
        Push(new RecordBatch<TEvent>(partitionId, records));
    }

    /// <summary>Pushes a batch as a source would deliver it.</summary>
    /// <param name="batch">The batch.</param>
    public void Push(RecordBatch<TEvent> batch)
    {
        Processor.Process(batch, this);
        _tracker.Add(Processor.LastReceipt);
        TakeCheckpoints();
    }

    /// <summary>Moves the clock forward and lets the engine see it (idle partitions, processing-time windows).</summary>
    /// <param name="delta">How far.</param>
    public void AdvanceTime(TimeSpan delta)
    {
        Time.Advance(delta);
        Processor.AdvanceTime(this);
        TakeCheckpoints();
    }

    /// <summary>Moves the watermark forward (never back), closing windows that ended.</summary>
    /// <param name="watermark">The new watermark.</param>
    public void AdvanceWatermark(DateTimeOffset watermark)
    {
        Processor.AdvanceWatermark(watermark, this);
        TakeCheckpoints();
    }

    /// <summary>Ends the input: every open window is closed and emitted.</summary>
    public void Complete()
    {
        Processor.Complete(this);
        TakeCheckpoints();
    }

    /// <inheritdoc />
    void IWindowOutput<TEvent, TKey, TResult>.OnResult(in WindowResult<TKey, TResult> result)
    {
        _results.Add(result);
        if (result.Replaces is not null)
        {
            foreach (var replaced in result.Replaces)
            {
                _latest.Remove(WindowResult<TKey, TResult>.FormatId(result.Pipeline, result.Key, replaced));
            }
        }

        _latest[result.Id] = result;
    }

    /// <inheritdoc />
    void IWindowOutput<TEvent, TKey, TResult>.OnLateRecord(in LateRecord<TEvent> record) => _late.Add(record);

    /// <inheritdoc />
    void IWindowOutput<TEvent, TKey, TResult>.OnDeadLetter(DeadLetter deadLetter) => _deadLetters.Add(deadLetter);

    private void TakeCheckpoints()
    {
        foreach (var checkpoint in _tracker.TakeSafe(Processor.DoneBeforeTicks))
        {
            _checkpoints[checkpoint.Position.PartitionId] = checkpoint;
        }
    }
}
