namespace Analytics.Streaming;

/// <summary>
/// Windows fed by windows: every result of the upstream processor's last stage is handed, when its window closes, to
/// a further window stage as a record whose event time is the last instant of its window; the further stage's
/// watermark follows the upstream watermark. Late records and dead letters of the upstream go to the pipeline's
/// outputs; only the last stage's results do.
/// </summary>
/// <remarks>
/// The upstream stage emits each window once (no allowed lateness, emission on close; the builder checks it), so the
/// further stage never counts a window twice. A checkpoint nests: the upstream checkpoint carries this stage's (and any
/// stage after it) in its downstream part. A result this stage's aggregator throws on stops the run, as a record
/// does; the pipeline remembers its id, and the runs after it send that result to the dead letters instead.
/// </remarks>
internal sealed class ChainedProcessor<TSource, TUpKey, TUpResult, TKey, TResult> : WindowProcessor<TSource, TKey, TResult>
{
    private readonly WindowProcessor<TSource, TUpKey, TUpResult> _upstream;
    private readonly WindowProcessor<WindowResult<TUpKey, TUpResult>, TKey, TResult> _next;
    private readonly Handoff _handoff = new();
    private readonly Forwarder _forwarder = new();

    public ChainedProcessor(WindowProcessor<TSource, TUpKey, TUpResult> upstream, WindowProcessor<WindowResult<TUpKey, TUpResult>, TKey, TResult> next)
    {
        _upstream = upstream;
        _next = next;

        // The results partition never idles: it holds the further stage's watermark only until the first result, and
        // the upstream watermark moves it from there.
        _next.AnnouncePartitions([DeadLetter.WindowResultsPartition]);
    }

    public override long OpenWindowCount => _upstream.OpenWindowCount + _next.OpenWindowCount;

    public override bool SnapshotsWindowState => _upstream.SnapshotsWindowState;

    public override long LastCheckpointId => _upstream.LastCheckpointId;

    internal override long WatermarkTicks => _upstream.WatermarkTicks;

    internal override bool CanSnapshotState => _upstream.CanSnapshotState && _next.CanSnapshotState;

    // Stages nest to the left (the upstream holds every stage but this one), so the forwarder sees only this stage's.
    internal override long ResultDeadLetters => _upstream.ResultDeadLetters + _forwarder.DeadLetters + _handoff.DeadLetters;

    internal override int UseSetAside(SetAsideRecords setAside)
    {
        _handoff.SetAside = setAside;
        _handoff.Stage = _upstream.UseSetAside(setAside) + 1;
        return _handoff.Stage;
    }

    internal override StreamPosition? ReplayThrough(string partitionId) => _upstream.ReplayThrough(partitionId);

    public override BatchReceipt Process(RecordBatch<TSource> batch, IWindowOutput<TSource, TKey, TResult> output)
    {
        _handoff.Target = output;
        var receipt = _upstream.Process(batch, _handoff);
        return receipt with { ResultsEmitted = Forward(output) };
    }

    public override int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output)
    {
        _handoff.Target = output;
        _upstream.AdvanceTime(_handoff);
        return Forward(output);
    }

    public override int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output)
    {
        _handoff.Target = output;
        _upstream.AdvanceWatermark(watermark, _handoff);
        return Forward(output);
    }

    public override int Complete(IWindowOutput<TSource, TKey, TResult> output)
    {
        _handoff.Target = output;
        _upstream.Complete(_handoff);
        int emitted = Forward(output);
        _forwarder.Target = output;
        return emitted + _next.Complete(_forwarder);
    }

    public override void AnnouncePartitions(IEnumerable<string> partitionIds) => _upstream.AnnouncePartitions(partitionIds);

    public override PipelineCheckpoint CreateCheckpoint() => CreateCheckpoint(null);

    internal override PipelineCheckpoint CreateCheckpoint(byte[]? tail) => _upstream.CreateCheckpoint(_next.CreateCheckpoint(tail).ToBytes());

    internal override byte[]? RestoreTail(PipelineCheckpoint checkpoint)
    {
        byte[] next = _upstream.RestoreTail(checkpoint)
            ?? throw new InvalidOperationException(
                $"Checkpoint {checkpoint.Id} of pipeline '{checkpoint.PipelineName}' has no state for this pipeline's windows fed by windows; give the changed pipeline a new name (or delete its checkpoint) to start over.");
        var nextCheckpoint = PipelineCheckpoint.Parse(next);
        _handoff.Sequence = nextCheckpoint.FindPartition(DeadLetter.WindowResultsPartition)?.ProcessedThrough is { } position && position.Sequence.TryToInt64(out long sequence) ? sequence : 0;
        return _next.RestoreTail(nextCheckpoint);
    }

    internal override void UseStateSnapshots(bool enabled)
    {
        _upstream.UseStateSnapshots(enabled);

        // The further stage's input cannot be replayed (it is derived), so its windows are always saved.
        _next.UseStateSnapshots(true);
    }

    internal override void UseIdleClock(IdleClock clock)
    {
        _upstream.UseIdleClock(clock);
        _next.UseIdleClock(clock);
    }

    /// <summary>Hands the upstream results gathered since the last call to the next stage, then moves its watermark to the upstream one.</summary>
    private int Forward(IWindowOutput<TSource, TKey, TResult> output)
    {
        _forwarder.Target = output;
        int emitted = 0;
        if (_handoff.Count > 0)
        {
            try
            {
                emitted += _next.Process(new RecordBatch<WindowResult<TUpKey, TUpResult>>(DeadLetter.WindowResultsPartition, _handoff.Records), _forwarder).ResultsEmitted;
            }
            catch (AggregationFailedException ex) when (ex.InnerException is { } aggregatorException)
            {
                // The stage may hold part of the result. Its position only numbers this run's results: the pipeline
                // remembers the result by its stage and id, which the run after this one meets again.
                throw new AggregationFailedException(ex.Position, _handoff.Stage, _handoff.ResultAt(ex.Position.Sequence).Id, aggregatorException);
            }
            finally
            {
                _handoff.Clear();
            }
        }

        if (_upstream.WatermarkTicks > _next.WatermarkTicks)
        {
            emitted += _next.AdvanceWatermark(_upstream.Watermark, _forwarder);
        }

        return emitted;
    }

    /// <summary>
    /// Collects the upstream results for the next stage as its records, numbered in the order they arrive (one buffer,
    /// reused for every batch); passes late records and dead letters to the pipeline's output.
    /// </summary>
    private sealed class Handoff : IWindowOutput<TSource, TUpKey, TUpResult>
    {
        private StreamRecord<WindowResult<TUpKey, TUpResult>>[] _records = new StreamRecord<WindowResult<TUpKey, TUpResult>>[16];

        public IWindowOutput<TSource, TKey, TResult> Target { get; set; } = null!;

        /// <summary>Gets or sets what the pipeline has set aside; <see langword="null"/> for a processor made outside a pipeline.</summary>
        public SetAsideRecords? SetAside { get; set; }

        /// <summary>Gets or sets the place of the stage fed by windows that this handoff feeds (1 for the second window stage), the same in every run.</summary>
        public int Stage { get; set; }

        /// <summary>Gets or sets the number of the last result handed over (restored from the checkpoint).</summary>
        public long Sequence { get; set; }

        public int Count { get; private set; }

        /// <summary>Gets the number of results sent to the dead letters because they were set aside.</summary>
        public long DeadLetters { get; private set; }

        /// <summary>Gets the result handed over with a sequence number.</summary>
        public WindowResult<TUpKey, TUpResult> ResultAt(SequenceNumber sequence)
        {
            foreach (var record in _records.AsSpan(0, Count))
            {
                if (record.Sequence == sequence)
                {
                    return record.Value;
                }
            }

            throw new InvalidOperationException($"No result numbered {sequence} was handed to the stage; this is a bug, please report it.");
        }

        public ReadOnlyMemory<StreamRecord<WindowResult<TUpKey, TUpResult>>> Records => _records.AsMemory(0, Count);

        public void Clear()
        {
            _records.AsSpan(0, Count).Clear();
            Count = 0;
        }

        public void OnResult(in WindowResult<TUpKey, TUpResult> result)
        {
            if (SetAside is { HasResults: true } setAside && setAside.FindResult(Stage, result.Id) is { } deadLetter)
            {
                DeadLetters++;
                Target.OnDeadLetter(deadLetter);
                return;
            }

            if (Count == _records.Length)
            {
                Array.Resize(ref _records, Count * 2);
            }

            _records[Count++] = new StreamRecord<WindowResult<TUpKey, TUpResult>>(result, SequenceNumber.FromInt64(++Sequence));
        }

        public void OnLateRecord(in LateRecord<TSource> record) => Target.OnLateRecord(record);

        public void OnDeadLetter(DeadLetter deadLetter) => Target.OnDeadLetter(deadLetter);
    }

    /// <summary>Passes the next stage's results and dead letters to the pipeline's output, counting the dead letters.</summary>
    private sealed class Forwarder : IWindowOutput<WindowResult<TUpKey, TUpResult>, TKey, TResult>
    {
        public IWindowOutput<TSource, TKey, TResult> Target { get; set; } = null!;

        public long DeadLetters { get; private set; }

        public void OnResult(in WindowResult<TKey, TResult> result) => Target.OnResult(result);

        public void OnLateRecord(in LateRecord<WindowResult<TUpKey, TUpResult>> record)
            => throw new InvalidOperationException($"The result {record.Event.Id} reached the window stage it feeds after that stage's windows closed; this is a bug, please report it.");

        public void OnDeadLetter(DeadLetter deadLetter)
        {
            DeadLetters++;
            Target.OnDeadLetter(deadLetter);
        }
    }
}
