using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Analytics.Streaming;

/// <summary>
/// A built pipeline: source, then event time, key, window and aggregate in one processing stage, then the sinks in a
/// delivery stage that flushes them and checkpoints safe source positions. Stages are connected by bounded channels,
/// so a slow sink slows the source down instead of filling memory.
/// </summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <remarks>
/// <para>
/// Delivery is effectively once: results carry a deterministic identity that sinks write by, and a source position
/// is checkpointed only after every window holding an event at or before it has been emitted, purged and flushed
/// by every sink. After a crash the source resumes from the checkpoint and the replay rebuilds the open windows.
/// </para>
/// <para>The pipeline flushes its sinks but does not dispose them; they belong to the caller.</para>
/// </remarks>
public sealed class StreamPipeline<TEvent, TKey, TResult>
    where TKey : notnull
{
    private readonly StreamPipelineOptions _options;
    private readonly ProcessorSettings<TEvent, TKey> _settings;
    private readonly Func<ProcessorSettings<TEvent, TKey>, WindowProcessor<TEvent, TKey, TResult>> _factory;
    private readonly ISink<WindowResult<TKey, TResult>>[] _sinks;
    private readonly ISink<LateRecord<TEvent>>? _lateSink;
    private readonly ISink<DeadLetter>? _deadLetterSink;
    private readonly KeyValuePair<string, object?> _tag;
    private int _running;

    internal StreamPipeline(
        StreamPipelineOptions options,
        ProcessorSettings<TEvent, TKey> settings,
        Func<ProcessorSettings<TEvent, TKey>, WindowProcessor<TEvent, TKey, TResult>> factory,
        ISink<WindowResult<TKey, TResult>>[] sinks,
        ISink<LateRecord<TEvent>>? lateSink,
        ISink<DeadLetter>? deadLetterSink)
    {
        _options = options;
        _settings = settings;
        _factory = factory;
        _sinks = sinks;
        _lateSink = lateSink;
        _deadLetterSink = deadLetterSink;
        _tag = new KeyValuePair<string, object?>("pipeline", options.Name);
    }

    /// <summary>Gets the pipeline name.</summary>
    public string Name => _options.Name;

    /// <summary>Gets the counters of the current (or last) run.</summary>
    public PipelineStatistics Statistics { get; private set; } = new();

    /// <summary>
    /// Creates a fresh synchronous engine with this pipeline's settings, for callers that drive batches themselves
    /// (a Lambda handler, a test). Sinks and checkpoints are then the caller's business.
    /// </summary>
    /// <param name="timeProvider">Overrides the pipeline's clock (tests pass a manual clock).</param>
    /// <returns>The engine.</returns>
    public WindowProcessor<TEvent, TKey, TResult> CreateProcessor(TimeProvider? timeProvider = null)
        => _factory(timeProvider is null ? _settings : _settings with { TimeProvider = timeProvider });

    /// <summary>
    /// Runs the pipeline until the source ends (every open window is then closed and emitted) or
    /// <paramref name="cancellationToken"/> is cancelled (open windows stay unemitted and uncheckpointed, so the next run
    /// replays them). In both cases the records already processed are delivered, the sinks flushed and safe positions
    /// checkpointed before the task completes.
    /// </summary>
    /// <param name="source">The source of batches.</param>
    /// <param name="cancellationToken">Stops the pipeline gracefully; the task then completes without an exception.</param>
    /// <returns>A task that completes when the pipeline has stopped.</returns>
    /// <exception cref="InvalidOperationException">The pipeline is already running.</exception>
    /// <remarks>
    /// A source failure stops reading; what was read is delivered and checkpointed, then the source's exception is
    /// rethrown. A sink failure (after the sink's own retries) stops everything at once without checkpointing past it.
    /// </remarks>
    public async Task RunAsync(IEventSource<TEvent> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException($"Pipeline '{Name}' is already running; build a second pipeline to run another source at the same time.");
        }

        try
        {
            await ExecuteAsync(source, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task ExecuteAsync(IEventSource<TEvent> source, CancellationToken cancellationToken)
    {
        var statistics = Statistics = new PipelineStatistics();
        var time = _options.TimeProvider;
        using var registration = StreamingTelemetry.Register(Name, statistics, time);
        var processor = CreateProcessor();
        using var abort = new CancellationTokenSource();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abort.Token);
        var inputs = Channel.CreateBounded<RecordBatch<TEvent>?>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var outputs = Channel.CreateBounded<OutputChunk<TEvent, TKey, TResult>>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });

        var read = Task.Run(() => ReadAsync(source, inputs.Writer, reading.Token), CancellationToken.None);
        using var ticker = time.CreateTimer(
            static state => ((ChannelWriter<RecordBatch<TEvent>?>)state!).TryWrite(null),
            inputs.Writer,
            _options.TickInterval,
            _options.TickInterval);
        var process = Task.Run(() => ProcessAsync(processor, inputs.Reader, outputs.Writer, read, statistics, abort.Token), CancellationToken.None);
        var deliver = Task.Run(() => DeliverAsync(outputs.Reader, statistics, abort.Token), CancellationToken.None);

        try
        {
            await deliver.ConfigureAwait(false);
            await process.ConfigureAwait(false);
        }
        catch
        {
            await abort.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(read, process).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        var sourceError = await read.ConfigureAwait(false);
        sourceError?.Throw();
    }

    /// <summary>Reads the source into the input channel. Returns the source's failure, if any; cancellation is a normal end.</summary>
    private static async Task<ExceptionDispatchInfo?> ReadAsync(IEventSource<TEvent> source, ChannelWriter<RecordBatch<TEvent>?> writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in source.ReadBatchesAsync(cancellationToken).ConfigureAwait(false))
            {
                ArgumentNullException.ThrowIfNull(batch, "batch from IEventSource.ReadBatchesAsync");
                await writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            writer.TryComplete();
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
        WindowProcessor<TEvent, TKey, TResult> processor,
        ChannelReader<RecordBatch<TEvent>?> reader,
        ChannelWriter<OutputChunk<TEvent, TKey, TResult>> writer,
        Task<ExceptionDispatchInfo?> read,
        PipelineStatistics statistics,
        CancellationToken abortToken)
    {
        try
        {
            var chunk = new OutputChunk<TEvent, TKey, TResult>();
            long sentFrontier = long.MinValue;
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

                for (int taken = 0; taken < 64 && reader.TryRead(out var batch); taken++)
                {
                    if (batch is null)
                    {
                        processor.AdvanceTime(chunk);
                        continue;
                    }

                    processor.Process(batch, chunk);
                    var receipt = processor.LastReceipt;
                    chunk.Receipts.Add(receipt);
                    statistics.OnBatch(receipt, processor.WatermarkTicks, processor.OpenWindowCount);
                    Count(receipt);
                }

                chunk.Frontier = processor.DoneBeforeTicks;
                statistics.OnProgress(processor.WatermarkTicks, processor.OpenWindowCount);
                if (chunk.HasContent || chunk.Frontier != sentFrontier)
                {
                    sentFrontier = chunk.Frontier;
                    await writer.WriteAsync(chunk, abortToken).ConfigureAwait(false);
                    chunk = new OutputChunk<TEvent, TKey, TResult>();
                }
            }

            if (sourceEnded && await read.ConfigureAwait(false) is null)
            {
                processor.Complete(chunk);
                chunk.Frontier = processor.DoneBeforeTicks;
                statistics.OnProgress(processor.WatermarkTicks, processor.OpenWindowCount);
                await writer.WriteAsync(chunk, abortToken).ConfigureAwait(false);
            }

            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            throw;
        }
    }

    private async Task DeliverAsync(ChannelReader<OutputChunk<TEvent, TKey, TResult>> reader, PipelineStatistics statistics, CancellationToken abortToken)
    {
        var time = _options.TimeProvider;
        var tracker = new CheckpointTracker();
        long frontier = long.MinValue;
        long lastFlush = time.GetTimestamp();
        await foreach (var chunk in reader.ReadAllAsync(abortToken).ConfigureAwait(false))
        {
            await WriteAsync(chunk, statistics, abortToken).ConfigureAwait(false);
            foreach (var receipt in chunk.Receipts)
            {
                tracker.Add(receipt);
            }

            frontier = chunk.Frontier;
            if (time.GetElapsedTime(lastFlush) >= _options.CheckpointInterval)
            {
                await FlushAndCheckpointAsync(tracker, frontier, statistics, abortToken).ConfigureAwait(false);
                lastFlush = time.GetTimestamp();
            }
        }

        using var shutdown = new CancellationTokenSource(_options.ShutdownTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token, abortToken);
        await FlushAndCheckpointAsync(tracker, frontier, statistics, linked.Token).ConfigureAwait(false);
    }

    private async ValueTask WriteAsync(OutputChunk<TEvent, TKey, TResult> chunk, PipelineStatistics statistics, CancellationToken cancellationToken)
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

        if (chunk.LateRecords.Count > 0 && _lateSink is not null)
        {
            await _lateSink.WriteAsync(chunk.LateRecords.Memory, cancellationToken).ConfigureAwait(false);
        }

        if (chunk.DeadLetters.Count > 0 && _deadLetterSink is not null)
        {
            await _deadLetterSink.WriteAsync(chunk.DeadLetters.Memory, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask FlushAndCheckpointAsync(CheckpointTracker tracker, long frontier, PipelineStatistics statistics, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using var activity = StreamingTelemetry.ActivitySource.StartActivity("analytics.streaming.checkpoint");
        activity?.SetTag("pipeline", Name);
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

        var safe = tracker.TakeSafe(frontier);
        if (safe.Count > 0)
        {
            if (_options.CheckpointStore is { } store)
            {
                await store.SaveAsync(safe, cancellationToken).ConfigureAwait(false);
            }

            statistics.OnCheckpoints(safe);
        }

        StreamingTelemetry.FlushDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _tag);
    }

    private void Count(in BatchReceipt receipt)
    {
        StreamingTelemetry.RecordsIn.Add(receipt.Accepted + receipt.Late + receipt.DeadLetters, _tag);
        if (receipt.Late > 0)
        {
            StreamingTelemetry.LateRecords.Add(receipt.Late, _tag);
        }

        if (receipt.DeadLetters > 0)
        {
            StreamingTelemetry.DeadLetters.Add(receipt.DeadLetters, _tag);
        }
    }
}
