using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming;

/// <summary>
/// A built pipeline: source, then event time, key, window and aggregate in one processing stage, then the sinks in a
/// delivery stage that flushes them and saves checkpoints. Stages are connected by bounded channels, so a slow sink
/// slows the source down instead of filling memory.
/// </summary>
/// <typeparam name="TSource">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <remarks>
/// <para>
/// Delivery is effectively once. Every <see cref="StreamPipelineOptions.CheckpointInterval"/> the processing stage
/// takes a <see cref="PipelineCheckpoint"/> between two batches; the delivery stage saves it only after every sink
/// flushed every result emitted before it. A restarted pipeline resumes from that checkpoint: watermarks and open
/// windows are restored, the source resumes each partition after its checkpointed position, and results carry
/// deterministic identities, so whatever was written after the checkpoint is overwritten with the same values.
/// </para>
/// <para>The pipeline flushes its sinks but does not dispose them; they belong to the caller.</para>
/// </remarks>
public sealed class StreamPipeline<TSource, TKey, TResult> : IStreamPipeline<TSource>
    where TKey : notnull
{
    private readonly StreamPipelineOptions _options;
    private readonly Func<TimeProvider, string?, WindowProcessor<TSource, TKey, TResult>> _factory;
    private readonly bool _snapshotState;
    private readonly ISink<WindowResult<TKey, TResult>>[] _sinks;
    private readonly ISink<LateRecord<TSource>>? _lateSink;
    private readonly ISink<DeadLetter>? _deadLetterSink;
    private readonly KeyValuePair<string, object?> _tag;
    private readonly ILogger _log;
    private readonly SetAsideRecords _setAside = new();
    private readonly HashSet<(StreamPosition Position, string? ResultId)> _ranAgainAfter = [];
    private int _running;

    internal StreamPipeline(
        StreamPipelineOptions options,
        Func<TimeProvider, string?, WindowProcessor<TSource, TKey, TResult>> factory,
        bool snapshotState,
        ISink<WindowResult<TKey, TResult>>[] sinks,
        ISink<LateRecord<TSource>>? lateSink,
        ISink<DeadLetter>? deadLetterSink)
    {
        _options = options;
        _factory = factory;
        _snapshotState = snapshotState;
        _sinks = sinks;
        _lateSink = lateSink;
        _deadLetterSink = deadLetterSink;
        _tag = new KeyValuePair<string, object?>("pipeline", options.Name);
        _log = options.LoggerFactory?.CreateLogger("Analytics.Streaming.StreamPipeline") ?? NullLogger.Instance;
    }

    /// <summary>Gets the pipeline name.</summary>
    public string Name => _options.Name;

    /// <summary>Gets a value indicating whether checkpoints carry the open windows (see <see cref="StreamPipelineOptions.WindowState"/>).</summary>
    public bool SnapshotsWindowState => _snapshotState;

    /// <summary>Gets the sinks the results go to (<c>To</c>), in the order they were added.</summary>
    /// <remarks>
    /// For hosts that drive the engine themselves (<see cref="CreateProcessor"/>), such as a Lambda handler: they write
    /// what the engine emits to these sinks and flush them before saving a checkpoint. <see cref="RunAsync"/> does
    /// that itself.
    /// </remarks>
    public IReadOnlyList<ISink<WindowResult<TKey, TResult>>> Sinks => _sinks;

    /// <summary>Gets the sink of late records (<c>LateTo</c>), or <see langword="null"/> when late records are only counted.</summary>
    public ISink<LateRecord<TSource>>? LateSink => _lateSink;

    /// <summary>Gets the sink of dead letters (<c>DeadLettersTo</c>), or <see langword="null"/> when dead letters are only counted.</summary>
    public ISink<DeadLetter>? DeadLetterSink => _deadLetterSink;

    /// <summary>Gets the checkpoint store of the pipeline's options (<see cref="StreamPipelineOptions.CheckpointStore"/>), or <see langword="null"/>.</summary>
    public ICheckpointStore? CheckpointStore => _options.CheckpointStore;

    /// <summary>Gets the counters of the current (or last) run.</summary>
    public PipelineStatistics Statistics { get; private set; } = new();

    /// <summary>
    /// Creates a synchronous engine with this pipeline's settings, for callers that drive batches themselves (a Lambda
    /// handler, a test). Sinks and checkpoints are then the caller's business: see the remarks of
    /// <see cref="WindowProcessor{TSource, TKey, TResult}"/>.
    /// </summary>
    /// <param name="checkpoint">A checkpoint of this pipeline (of this partition's engine) to continue from; <see langword="null"/> to start afresh.</param>
    /// <param name="timeProvider">Overrides the pipeline's clock (tests pass a fake clock).</param>
    /// <param name="partition">
    /// The one source partition the engine will see (a Lambda invocation's shard), or <see langword="null"/> (default:
    /// <see cref="StreamPipelineOptions.Partition"/>): its results carry it (<see cref="WindowResult{TKey, TValue}.Partition"/>)
    /// and its checkpoints are named <c>{pipeline}/{partition}</c>, so engines of different shards never mix.
    /// </param>
    /// <returns>The engine.</returns>
    /// <exception cref="InvalidOperationException">The checkpoint was taken with other windows, keys or aggregates.</exception>
    /// <exception cref="InvalidDataException">The checkpoint's window state cannot be read.</exception>
    public WindowProcessor<TSource, TKey, TResult> CreateProcessor(PipelineCheckpoint? checkpoint = null, TimeProvider? timeProvider = null, string? partition = null)
    {
        var processor = new SettingAsideProcessor<TSource, TKey, TResult>(_factory(timeProvider ?? _options.TimeProvider, partition ?? _options.Partition), _setAside);
        processor.UseStateSnapshots(_snapshotState);
        if (checkpoint is not null)
        {
            processor.Restore(checkpoint);
        }

        return processor;
    }

    /// <summary>Gets the name this pipeline's checkpoint is saved under: <see cref="Name"/>, or <c>{Name}/{Partition}</c> for a pipeline of one partition.</summary>
    public string CheckpointName => _options.Partition is { } partition ? $"{Name}/{partition}" : Name;

    /// <summary>
    /// Runs the pipeline until the source ends (every open window is then closed and emitted) or
    /// <paramref name="cancellationToken"/> is cancelled. In both cases the records already processed are delivered,
    /// the sinks flushed and a final checkpoint saved before the task completes, so the next run continues exactly
    /// where this one stopped.
    /// </summary>
    /// <param name="source">The source of batches; it resumes from the positions of the last checkpoint.</param>
    /// <param name="cancellationToken">Stops the pipeline gracefully; the task then completes without an exception.</param>
    /// <returns>A task that completes when the pipeline has stopped.</returns>
    /// <exception cref="InvalidOperationException">The pipeline is already running, or the source cannot resume although a checkpoint store is set.</exception>
    /// <exception cref="TimeoutException">The final flush and checkpoint did not finish within <see cref="StreamPipelineOptions.ShutdownTimeout"/>.</exception>
    /// <remarks>
    /// A source failure stops reading; what was read is delivered and checkpointed, then the source's exception is
    /// rethrown. A sink failure (after the sink's own retries) stops everything at once without checkpointing past
    /// it: the next run replays from the last checkpoint. A record an aggregator throws on stops the run the same way
    /// (<see cref="AggregationFailedException"/>); the pipeline then sets the record aside as a dead letter, and starts
    /// again from the last checkpoint by itself when it has a checkpoint store and the source resumes.
    /// </remarks>
    /// <exception cref="AggregationFailedException">An aggregator threw on a record, and the run could not start again by itself (no checkpoint store, a source that does not resume, a pipeline of a fan-out); the next run sets the record aside.</exception>
    public async Task RunAsync(IEventSource<TSource> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (_options.CheckpointStore is not null && !source.CanResume && !_options.AllowNonResumableSource)
        {
            throw new InvalidOperationException(
                $"Pipeline '{Name}' has a checkpoint store, but its source ({source.GetType().Name}) cannot resume from checkpointed positions: " +
                "after a crash the records between the last checkpoint and the crash would be lost. Use a source that resumes, " +
                "or set StreamPipelineOptions.AllowNonResumableSource to keep window state across restarts anyway.");
        }

        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException($"Pipeline '{Name}' is already running; build a second pipeline to run another source at the same time.");
        }

        try
        {
            while (true)
            {
                try
                {
                    await ExecuteAsync(source, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (AggregationFailedException failure) when (CanRunAgain(source, failure, cancellationToken))
                {
                    PipelineLog.RunningAgain(_log, Name, failure.Position);

                    // The sinks still hold what the stopped run delivered after its last checkpoint. Flushed, it is
                    // stored like any write of a checkpoint never saved: the listeners' restore in the next run undoes
                    // it, and sinks that write by identity overwrite it with the replay.
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Whether a run that stopped at a record an aggregator threw on starts over by itself, from the last checkpoint,
    /// now that the record is set aside: only with a checkpoint store and a source that resumes (without them a new run
    /// would not continue where this one stopped), not for a pipeline of a fan-out (its source is read once per run),
    /// and once per record (or window result).
    /// </summary>
    private bool CanRunAgain(IEventSource<TSource> source, AggregationFailedException failure, CancellationToken cancellationToken)
        => _options.CheckpointStore is not null
           && source.CanResume
           && source is not IReadOnceSource
           && !cancellationToken.IsCancellationRequested
           && _ranAgainAfter.Add((failure.Position, failure.ResultId));

    private async Task ExecuteAsync(IEventSource<TSource> source, CancellationToken cancellationToken)
    {
        var statistics = Statistics = new PipelineStatistics();
        var time = _options.TimeProvider;
        using var registration = StreamingTelemetry.Register(Name, statistics, time);
        var restored = _options.CheckpointStore is { } store ? await store.LoadAsync(CheckpointName, cancellationToken).ConfigureAwait(false) : null;
        var processor = CreateProcessor(restored);
        var clock = new IdleClock(time);
        var context = new SourceContext(restored?.Partitions ?? []) { Clock = clock };
        processor.UseIdleClock(clock);
        statistics.OnRestored(restored);
        if (restored is null)
        {
            PipelineLog.StartedAfresh(_log, Name);
        }
        else
        {
            PipelineLog.Restored(_log, Name, restored.Id, restored.Watermark, restored.Partitions.Count, restored.WindowStateSize);
        }

        foreach (var listener in Listeners())
        {
            await listener.RestoreAsync(Name, restored?.Id ?? 0, _options.CheckpointStore?.ClaimedFence ?? 0, cancellationToken).ConfigureAwait(false);
        }

        using var abort = new CancellationTokenSource();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abort.Token);
        var inputs = Channel.CreateBounded<Input>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var outputs = Channel.CreateBounded<OutputChunk<TSource, TKey, TResult>>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });

        var read = Task.Run(() => ReadAsync(source, context, clock, inputs.Writer, reading.Token), CancellationToken.None);
        using var ticker = time.CreateTimer(
            static state =>
            {
                var (writer, clock) = ((ChannelWriter<Input>, IdleClock))state!;
                writer.TryWrite(new Input(null, clock.Now()));
            },
            (inputs.Writer, clock),
            _options.TickInterval,
            _options.TickInterval);
        var process = Task.Run(() => ProcessAsync(processor, context, clock, inputs.Reader, outputs.Writer, read, statistics, abort.Token), CancellationToken.None);
        var deliver = Task.Run(() => DeliverAsync(outputs.Reader, context, statistics, abort.Token), CancellationToken.None);

        try
        {
            await deliver.ConfigureAwait(false);
            await process.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await abort.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(read, process).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            long checkpointId = statistics.LastCheckpoint?.Id ?? statistics.RestoredFrom?.Id ?? 0;
            if (ex is AggregationFailedException failure)
            {
                PipelineLog.AggregationFailed(_log, ex, Name, failure.Position, checkpointId);
            }
            else if (ex is not TimeoutException)
            {
                PipelineLog.SinkFailed(_log, ex, Name, checkpointId);
            }

            throw;
        }

        var sourceError = await read.ConfigureAwait(false);
        if (sourceError is not null)
        {
            PipelineLog.SourceFailed(_log, sourceError.SourceException, Name);
        }

        if (_log.IsEnabled(LogLevel.Information))
        {
            PipelineLog.Stopped(_log, Name, sourceError is not null ? "source failed" : cancellationToken.IsCancellationRequested ? "cancelled" : "source ended", statistics.RecordsIn, statistics.RecordsAccepted, statistics.LateRecords, statistics.DeadLetters, statistics.RecordsReplayed, statistics.ResultsOut);
        }

        sourceError?.Throw();
    }

    /// <summary>
    /// Reads the source into the input channel, each batch with the time it was read. While the channel is full, the
    /// pipeline holds its reading back, which is not idleness of the source's partitions (see <see cref="IdleClock"/>),
    /// and is counted in <c>analytics.streaming.reading.held_back</c>. Returns the source's failure, if any; cancellation
    /// is a normal end.
    /// </summary>
    private async Task<ExceptionDispatchInfo?> ReadAsync(IEventSource<TSource> source, SourceContext context, IdleClock clock, ChannelWriter<Input> writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in source.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
            {
                ArgumentNullException.ThrowIfNull(batch, "batch from IEventSource.ReadBatchesAsync");
                var input = new Input(batch, clock.Now());
                if (!writer.TryWrite(input))
                {
                    long began = _options.TimeProvider.GetTimestamp();
                    var waiting = clock.Begin();
                    try
                    {
                        await writer.WriteAsync(input, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        IdleClock.End(waiting);
                        StreamingTelemetry.ReadingHeldBack.Add(_options.TimeProvider.GetElapsedTime(began).TotalSeconds, _tag);
                    }
                }
            }

            // A source may end quietly when cancelled (a channel's reader does): that is a stop, not the end of the
            // stream, so open windows stay open.
            writer.TryComplete(cancellationToken.IsCancellationRequested ? new OperationCanceledException(cancellationToken) : null);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            writer.TryComplete(new OperationCanceledException(cancellationToken));
            return null;
        }
#pragma warning disable CA1031 // A failing source must not lose what was already read: it is rethrown after delivery.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            writer.TryComplete(new OperationCanceledException("The source failed.", ex));
            return ExceptionDispatchInfo.Capture(ex);
        }
    }

    private async Task ProcessAsync(
        WindowProcessor<TSource, TKey, TResult> processor,
        SourceContext context,
        IdleClock clock,
        ChannelReader<Input> reader,
        ChannelWriter<OutputChunk<TSource, TKey, TResult>> writer,
        Task<ExceptionDispatchInfo?> read,
        PipelineStatistics statistics,
        CancellationToken abortToken)
    {
        try
        {
            var time = _options.TimeProvider;
            var chunk = new OutputChunk<TSource, TKey, TResult>();
            long lastCheckpoint = time.GetTimestamp();
            bool changed = false;
            bool sourceEnded;
            while (true)
            {
                try
                {
                    if (!await reader.WaitToReadAsync(abortToken).ConfigureAwait(false))
                    {
                        sourceEnded = true;
                        break;
                    }
                }
                catch (OperationCanceledException) when (!abortToken.IsCancellationRequested)
                {
                    // The reader completed the channel because of cancellation or a source failure: do not close open windows.
                    sourceEnded = false;
                    break;
                }

                for (int taken = 0; taken < 64 && reader.TryRead(out var input); taken++)
                {
                    Announce(context, clock, processor);
                    clock.ReadTime = input.ReadTime;
                    var batch = input.Batch;
                    if (batch is null)
                    {
                        long before = processor.WatermarkTicks;
                        changed |= processor.AdvanceTime(chunk) > 0 || processor.WatermarkTicks != before;
                        continue;
                    }

                    var receipt = processor.Process(batch, chunk);
                    if (receipt.Replayed > 0)
                    {
                        PipelineLog.Replayed(_log, Name, receipt.PartitionId, receipt.Replayed);
                    }

                    changed |= receipt.Records > receipt.Replayed || receipt.ResultsEmitted > 0 || (batch.IsEndOfPartition && receipt.Replayed == 0);
                    statistics.OnBatch(receipt, processor.WatermarkTicks, processor.OpenWindowCount);
                    Count(receipt);
                }

                Progress(statistics, processor);
                if (changed && time.GetElapsedTime(lastCheckpoint) >= _options.CheckpointInterval)
                {
                    chunk.Checkpoint = processor.CreateCheckpoint();
                    lastCheckpoint = time.GetTimestamp();
                    changed = false;
                }

                if (chunk.HasContent)
                {
                    await writer.WriteAsync(chunk, abortToken).ConfigureAwait(false);
                    chunk = new OutputChunk<TSource, TKey, TResult>();
                }
            }

            if (sourceEnded && await read.ConfigureAwait(false) is null)
            {
                long before = processor.WatermarkTicks;
                processor.Complete(chunk);
                changed |= processor.WatermarkTicks != before;
            }

            Progress(statistics, processor);
            chunk.Checkpoint = changed ? processor.CreateCheckpoint() : null;
            chunk.IsFinal = true;
            await writer.WriteAsync(chunk, abortToken).ConfigureAwait(false);
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            throw;
        }
    }

    /// <summary>Registers the partitions the source announced, each at the time it was announced.</summary>
    private static void Announce(SourceContext context, IdleClock clock, WindowProcessor<TSource, TKey, TResult> processor)
    {
        while (context.TryTakeAnnouncement(out var announcement))
        {
            clock.ReadTime = announcement.ReadTime;
            processor.AnnouncePartitions([announcement.PartitionId]);
        }
    }

    private async Task DeliverAsync(ChannelReader<OutputChunk<TSource, TKey, TResult>> reader, SourceContext context, PipelineStatistics statistics, CancellationToken abortToken)
    {
        await foreach (var chunk in reader.ReadAllAsync(abortToken).ConfigureAwait(false))
        {
            if (!chunk.IsFinal)
            {
                await WriteAsync(chunk, statistics, abortToken).ConfigureAwait(false);
                if (chunk.Checkpoint is { } checkpoint)
                {
                    await CommitAsync(checkpoint, context, statistics, abortToken).ConfigureAwait(false);
                }

                continue;
            }

            // The last chunk: whatever the run ends with, its outputs and checkpoint get at most ShutdownTimeout.
            using var shutdown = new CancellationTokenSource(_options.ShutdownTimeout, _options.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token, abortToken);
            try
            {
                await WriteAsync(chunk, statistics, linked.Token).ConfigureAwait(false);
                if (chunk.Checkpoint is { } checkpoint)
                {
                    await CommitAsync(checkpoint, context, statistics, linked.Token).ConfigureAwait(false);
                }
                else
                {
                    await FlushAsync(linked.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException ex) when (shutdown.IsCancellationRequested && !abortToken.IsCancellationRequested)
            {
                PipelineLog.ShutdownTimedOut(_log, Name, _options.ShutdownTimeout);
                throw new TimeoutException(
                    $"Pipeline '{Name}' could not flush its sinks and save its final checkpoint within ShutdownTimeout ({_options.ShutdownTimeout}). " +
                    $"The next run resumes from checkpoint {statistics.LastCheckpoint?.Id ?? statistics.RestoredFrom?.Id ?? 0} and replays what came after it.",
                    ex);
            }
        }
    }

    private async ValueTask WriteAsync(OutputChunk<TSource, TKey, TResult> chunk, PipelineStatistics statistics, CancellationToken cancellationToken)
    {
        if (chunk.Results.Count > 0)
        {
            foreach (var sink in _sinks)
            {
                await sink.WriteAsync(chunk.Results.Memory, cancellationToken).ConfigureAwait(false);
            }

            statistics.OnResults(chunk.Results.Count);
            StreamingTelemetry.ResultsOut.Add(chunk.Results.Count, _tag);
        }

        if (chunk.LateRecords.Count > 0)
        {
            PipelineLog.LateRecords(_log, Name, chunk.LateRecords.Count);
            if (_lateSink is not null)
            {
                await _lateSink.WriteAsync(chunk.LateRecords.Memory, cancellationToken).ConfigureAwait(false);
            }
        }

        if (chunk.DeadLetters.Count > 0)
        {
            if (_log.IsEnabled(LogLevel.Warning))
            {
                foreach (var deadLetter in chunk.DeadLetters.Memory.Span)
                {
                    PipelineLog.DeadLetter(_log, Name, deadLetter.Position, deadLetter.Reason, deadLetter.Message);
                }
            }

            if (_deadLetterSink is not null)
            {
                await _deadLetterSink.WriteAsync(chunk.DeadLetters.Memory, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Flushes every sink, then saves the checkpoint and tells the source and the listening sinks.</summary>
    private async ValueTask CommitAsync(PipelineCheckpoint checkpoint, SourceContext context, PipelineStatistics statistics, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using var activity = StreamingTelemetry.ActivitySource.StartActivity("analytics.streaming.checkpoint");
        activity?.SetTag("pipeline", Name);
        activity?.SetTag("checkpoint.id", checkpoint.Id);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_options.CheckpointStore is { } store)
        {
            try
            {
                await store.SaveAsync(checkpoint, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsFenced(e))
            {
                await RefuseAsync(checkpoint.Id, e, cancellationToken).ConfigureAwait(false);
                throw;
            }
        }

        statistics.OnCheckpoint(checkpoint);
        foreach (var partition in checkpoint.Partitions)
        {
            if (partition.IsFinished)
            {
                context.MarkFinished(partition.PartitionId);
            }
        }

        foreach (var listener in Listeners())
        {
            await listener.CheckpointCompletedAsync(checkpoint.Id, cancellationToken).ConfigureAwait(false);
        }

        double elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        StreamingTelemetry.FlushDuration.Record(elapsed, _tag);
        PipelineLog.CheckpointSaved(_log, Name, checkpoint.Id, elapsed, checkpoint.Watermark, checkpoint.WindowStateSize);
    }

    /// <summary>Whether a save failed because another writer took the pipeline over (the refusal itself, or its cause).</summary>
    private static bool IsFenced(Exception e)
    {
        for (var cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is CheckpointFencedException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Tells the listening sinks that the checkpoint will never be saved by this run, so they undo what they wrote for
    /// it now rather than leave it to the new owner. A listener's failure is logged: the refusal is what stops the pipeline.
    /// </summary>
    private async ValueTask RefuseAsync(long checkpointId, Exception refusal, CancellationToken cancellationToken)
    {
        PipelineLog.CheckpointRefused(_log, Name, checkpointId, refusal.Message);
        foreach (var listener in Listeners())
        {
            try
            {
                await listener.CheckpointRefusedAsync(checkpointId, cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The refusal is rethrown by the caller; a sink that could not undo its writes leaves them to the new owner.
            catch (Exception e)
#pragma warning restore CA1031
            {
                PipelineLog.CheckpointRefusalNotUndone(_log, e, Name, checkpointId);
            }
        }
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var sink in _sinks)
        {
            await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_lateSink is not null)
        {
            await _lateSink.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_deadLetterSink is not null)
        {
            await _deadLetterSink.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private IEnumerable<ICheckpointListener> Listeners()
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (object? sink in _sinks.Cast<object>().Append(_lateSink).Append(_deadLetterSink))
        {
            if (sink is ICheckpointListener listener && seen.Add(sink))
            {
                yield return listener;
            }
        }
    }

    /// <summary>Passes the processor's watermark, open windows and new result dead letters to the statistics and the metrics.</summary>
    private void Progress(PipelineStatistics statistics, WindowProcessor<TSource, TKey, TResult> processor)
    {
        long resultDeadLetters = statistics.OnProgress(processor.WatermarkTicks, processor.OpenWindowCount, processor.ResultDeadLetters);
        if (resultDeadLetters > 0)
        {
            StreamingTelemetry.DeadLetters.Add(resultDeadLetters, _tag);
        }
    }

    private void Count(in BatchReceipt receipt)
    {
        StreamingTelemetry.RecordsIn.Add(receipt.Records, _tag);
        if (receipt.Late > 0)
        {
            StreamingTelemetry.LateRecords.Add(receipt.Late, _tag);
        }

        if (receipt.DeadLetters > 0)
        {
            StreamingTelemetry.DeadLetters.Add(receipt.DeadLetters, _tag);
        }

        if (receipt.Replayed > 0)
        {
            StreamingTelemetry.RecordsReplayed.Add(receipt.Replayed, _tag);
        }
    }

    /// <summary>An item of the input channel: a batch, or a clock tick (<see langword="null"/>), with the time on the idle clock when it was read.</summary>
    private readonly record struct Input(RecordBatch<TSource>? Batch, long ReadTime);
}
