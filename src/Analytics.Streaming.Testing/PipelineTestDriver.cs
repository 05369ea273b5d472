using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Testing;

/// <summary>
/// Drives a pipeline's engine synchronously, without channels or sinks: push batches, move a fake clock or the
/// watermark, take checkpoints and start a new driver from one, and inspect results, late records and dead letters.
/// Uses only the engine's public API, so what passes here holds for a Lambda handler or any caller that drives the
/// engine itself.
/// </summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <example>
/// <code>
/// var driver = new PipelineTestDriver&lt;Click, string, long&gt;(pipeline);
/// driver.Push(new Click("home", t0), new Click("home", t0.AddSeconds(70)));
/// var checkpoint = driver.CreateCheckpoint();          // what a pipeline would save now
/// var resumed = new PipelineTestDriver&lt;Click, string, long&gt;(pipeline, driver.Time, checkpoint);
/// resumed.Complete();
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

    /// <summary>Creates a driver with a fresh engine built from <paramref name="pipeline"/>, or one restored from a checkpoint.</summary>
    /// <param name="pipeline">The pipeline whose settings to use.</param>
    /// <param name="time">The clock; a new <see cref="FakeTimeProvider"/> at 2026-01-01T00:00:00Z when <see langword="null"/>.</param>
    /// <param name="checkpoint">A checkpoint to continue from; <see langword="null"/> to start afresh.</param>
    public PipelineTestDriver(StreamPipeline<TEvent, TKey, TResult> pipeline, FakeTimeProvider? time = null, PipelineCheckpoint? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Processor = pipeline.CreateProcessor(checkpoint, Time);
        foreach (var partition in checkpoint?.Partitions ?? [])
        {
            // Pushed events continue the numbering after what the checkpoint covers, as a resumed source would.
            if (partition.ProcessedThrough is { } processed && processed.Sequence.TryToInt64(out long sequence))
            {
                _sequences[partition.PartitionId] = sequence;
            }
        }
    }

    /// <summary>Gets the fake clock the engine reads.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>Gets the engine.</summary>
    public WindowProcessor<TEvent, TKey, TResult> Processor { get; }

    /// <summary>Gets every result in emission order.</summary>
    public IReadOnlyList<WindowResult<TKey, TResult>> Results => _results;

    /// <summary>
    /// Gets the table a sink that writes by identity holds: per identity the result built from the most records (the
    /// newest one among equals), with superseded session extents deleted.
    /// </summary>
    public IReadOnlyDictionary<string, WindowResult<TKey, TResult>> LatestResults => _latest;

    /// <summary>Gets every late record in order.</summary>
    public IReadOnlyList<LateRecord<TEvent>> LateRecords => _late;

    /// <summary>Gets every dead letter in order.</summary>
    public IReadOnlyList<DeadLetter> DeadLetters => _deadLetters;

    /// <summary>Gets the receipt of the last pushed batch.</summary>
    public BatchReceipt LastReceipt { get; private set; }

    /// <summary>Gets the engine's watermark.</summary>
    public DateTimeOffset Watermark => Processor.Watermark;

    /// <summary>Pushes events as one batch of partition <c>"0"</c>, numbered after the partition's previous records.</summary>
    /// <param name="events">The events.</param>
    /// <returns>The batch's receipt.</returns>
    public BatchReceipt Push(params TEvent[] events) => Push("0", events);

    /// <summary>Pushes events as one batch of <paramref name="partitionId"/>, numbered after the partition's previous records (or after what the restored checkpoint covers).</summary>
    /// <param name="partitionId">The partition.</param>
    /// <param name="events">The events.</param>
    /// <returns>The batch's receipt.</returns>
    public BatchReceipt Push(string partitionId, params TEvent[] events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _sequences.TryGetValue(partitionId, out long sequence);
        var records = new StreamRecord<TEvent>[events.Length];
        for (int i = 0; i < events.Length; i++)
        {
            records[i] = new StreamRecord<TEvent>(events[i], SequenceNumber.FromInt64(++sequence));
        }

        _sequences[partitionId] = sequence;
        return Push(new RecordBatch<TEvent>(partitionId, records));
    }

    /// <summary>Pushes a batch as a source would deliver it.</summary>
    /// <param name="batch">The batch.</param>
    /// <returns>The batch's receipt.</returns>
    public BatchReceipt Push(RecordBatch<TEvent> batch)
    {
        LastReceipt = Processor.Process(batch, this);
        return LastReceipt;
    }

    /// <summary>Tells the engine which partitions a source will read (the watermark waits for them).</summary>
    /// <param name="partitionIds">The partitions.</param>
    public void Announce(params string[] partitionIds) => Processor.AnnouncePartitions(partitionIds);

    /// <summary>Moves the clock forward and lets the engine see it (idle partitions, processing-time windows).</summary>
    /// <param name="delta">How far.</param>
    public void AdvanceTime(TimeSpan delta)
    {
        Time.Advance(delta);
        Processor.AdvanceTime(this);
    }

    /// <summary>Moves the watermark forward (never back), closing windows that ended.</summary>
    /// <param name="watermark">The new watermark.</param>
    public void AdvanceWatermark(DateTimeOffset watermark) => Processor.AdvanceWatermark(watermark, this);

    /// <summary>Ends the input: every open window is closed and emitted.</summary>
    public void Complete() => Processor.Complete(this);

    /// <summary>Takes the checkpoint a pipeline would save now (after flushing everything this driver captured).</summary>
    /// <returns>The checkpoint.</returns>
    public PipelineCheckpoint CreateCheckpoint() => Processor.CreateCheckpoint();

    /// <inheritdoc />
    void IWindowOutput<TEvent, TKey, TResult>.OnResult(in WindowResult<TKey, TResult> result)
    {
        _results.Add(result);
        if (result.Replaces is not null)
        {
            foreach (var replaced in result.Replaces)
            {
                _latest.Remove((result with { Window = replaced, Replaces = null }).Id);
            }
        }

        if (!_latest.TryGetValue(result.Id, out var stored) || stored.RecordCount <= result.RecordCount)
        {
            _latest[result.Id] = result;
        }
    }

    /// <inheritdoc />
    void IWindowOutput<TEvent, TKey, TResult>.OnLateRecord(in LateRecord<TEvent> record) => _late.Add(record);

    /// <inheritdoc />
    void IWindowOutput<TEvent, TKey, TResult>.OnDeadLetter(DeadLetter deadLetter) => _deadLetters.Add(deadLetter);
}
