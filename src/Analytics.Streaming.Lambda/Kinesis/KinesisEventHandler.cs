using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Lambda;

/// <summary>
/// A Lambda handler for Kinesis events that drives a <see cref="StreamPipeline{TSource, TKey, TResult}"/>'s engine
/// once per invocation, per shard: restore the shard's checkpoint, deaggregate and decode the records, process them,
/// write the results to the pipeline's sinks, flush them, save the checkpoint, and answer with a partial batch response.
/// </summary>
/// <typeparam name="TEvent">The event type the decoder produces.</typeparam>
/// <typeparam name="TKey">The key type of the results.</typeparam>
/// <typeparam name="TResult">The aggregate result type.</typeparam>
/// <remarks>
/// <para>
/// <b>Windows that span invocations.</b> Each shard has its own checkpoint, filed under <c>{pipeline}/{shardId}</c>
/// (<see cref="KinesisEventHandlerOptions.GetCheckpointName"/>): the shard's position, watermark and open windows with
/// their accumulators (sketches in their binary form). Results are computed per shard and carry the shard id in
/// <see cref="WindowResult{TKey, TValue}.Partition"/>, so the partial results of two shards for the same key and
/// window have different identities and never overwrite each other; a sink or reader merges them (sums, sketch
/// merges). The pipeline must therefore save its window state in checkpoints (<see cref="StreamPipeline{TSource, TKey, TResult}.SnapshotsWindowState"/>):
/// Lambda cannot replay what came before a batch.
/// </para>
/// <para>
/// <b>Order of an invocation:</b> restore, process, write to the sinks, flush them, save the checkpoint, respond. A
/// batch Lambda sends again (a retry after a timeout, a crash after the checkpoint was saved, a bisected batch) is
/// recognised by sequence number: records at or before the checkpoint are replays (<see cref="BatchReceipt.Replayed"/>),
/// never counted twice.
/// </para>
/// <para>
/// <b>Failures.</b> Records the decoder refuses (it returns <see langword="false"/>) and bad KPL aggregates go to the
/// pipeline's dead letters with their position and reason, and never block the shard. A decoder that throws marks its
/// record failed: the records before it are processed, delivered and checkpointed, and the response lists that
/// record's sequence number (the first failure only), so Lambda retries from it, in order (enable
/// <c>ReportBatchItemFailures</c> on the event source mapping). A failure of a sink or of the checkpoint store fails
/// the invocation (the exception propagates): Lambda retries the batch, and the records the checkpoint covers are
/// recognised as replays. The library's sinks refuse every call once one has failed; a handler made from a pipeline
/// factory therefore builds the pipeline again after a sink failed, so the retry (often on the same warm instance)
/// gets new sinks. A handler given one pipeline keeps its sinks for the instance's life.
/// </para>
/// <para>
/// <b>Concurrency.</b> One batch per shard at a time: the event source mapping's <c>ParallelizationFactor</c> must be 1
/// (its default), since concurrent batches of one shard would race for its checkpoint. Batches of different shards
/// may run at once on one instance (sinks are then called one invocation at a time).
/// </para>
/// </remarks>
#pragma warning disable CA1001 // The semaphore's wait handle is never created; the handler lives as long as the function.
public sealed class KinesisEventHandler<TEvent, TKey, TResult>
#pragma warning restore CA1001
    where TKey : notnull
{
    private readonly Func<StreamPipeline<TEvent, TKey, TResult>>? _factory;
    private StreamPipeline<TEvent, TKey, TResult> _pipeline;
    private readonly IEventDecoder<TEvent> _decoder;
    private readonly ICheckpointStore _store;
    private readonly bool _deaggregate;
    private readonly TimeProvider? _time;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _sinkGate = new(1, 1);
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Creates a handler.</summary>
    /// <param name="pipeline">The pipeline: its windows, aggregates and sinks. It must save window state in checkpoints.</param>
    /// <param name="decoder">Turns each user record's bytes into an event (for JSON: <see cref="JsonEventDecoder{T}"/>).</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">The options are invalid, no checkpoint store is set, the pipeline does not save window state, or a sink needs checkpoint notifications.</exception>
    public KinesisEventHandler(StreamPipeline<TEvent, TKey, TResult> pipeline, IEventDecoder<TEvent> decoder, KinesisEventHandlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(decoder);
        options ??= new KinesisEventHandlerOptions();
        Validate(pipeline);
        _pipeline = pipeline;
        _decoder = decoder;
        _store = options.CheckpointStore ?? pipeline.CheckpointStore ?? throw new ArgumentException(
            $"The Kinesis handler of pipeline '{pipeline.Name}' needs a checkpoint store to carry each shard's windows from one invocation to the next: set KinesisEventHandlerOptions.CheckpointStore or StreamPipelineOptions.CheckpointStore.",
            nameof(options));
        _deaggregate = options.DeaggregateKplRecords;
        _time = options.TimeProvider;
        _log = options.LoggerFactory?.CreateLogger("Analytics.Streaming.Lambda.KinesisEventHandler") ?? NullLogger.Instance;
    }

    /// <summary>
    /// Creates a handler that builds its pipeline with <paramref name="pipelineFactory"/>: once now, and again after a
    /// sink failed, so that the retry of the failed batch gets new sinks (the library's sinks refuse every call once
    /// one has failed). Create the sinks inside the factory.
    /// </summary>
    /// <param name="pipelineFactory">Builds the pipeline: its windows, aggregates and sinks. Every pipeline it builds must have the same name and save window state in checkpoints.</param>
    /// <param name="decoder">Turns each user record's bytes into an event (for JSON: <see cref="JsonEventDecoder{T}"/>).</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults. Without <see cref="KinesisEventHandlerOptions.CheckpointStore"/>, the first pipeline's store is used for good.</param>
    /// <exception cref="ArgumentException">The options are invalid, no checkpoint store is set, the pipeline does not save window state, or a sink needs checkpoint notifications.</exception>
    public KinesisEventHandler(Func<StreamPipeline<TEvent, TKey, TResult>> pipelineFactory, IEventDecoder<TEvent> decoder, KinesisEventHandlerOptions? options = null)
        : this(BuildFirst(pipelineFactory), decoder, options)
    {
        _factory = pipelineFactory;
    }

    private static StreamPipeline<TEvent, TKey, TResult> BuildFirst(Func<StreamPipeline<TEvent, TKey, TResult>> pipelineFactory)
    {
        ArgumentNullException.ThrowIfNull(pipelineFactory);
        return pipelineFactory() ?? throw new ArgumentException("The pipeline factory returned null.", nameof(pipelineFactory));
    }

    private static void Validate(StreamPipeline<TEvent, TKey, TResult> pipeline)
    {
        if (!pipeline.SnapshotsWindowState)
        {
            throw new ArgumentException(
                $"Pipeline '{pipeline.Name}' does not save its open windows in checkpoints, so a Lambda handler would lose them between invocations (Lambda cannot replay earlier batches). Set StreamPipelineOptions.WindowState = WindowStateMode.Always.",
                nameof(pipeline));
        }

        foreach (object? sink in pipeline.Sinks.Cast<object>().Append(pipeline.LateSink).Append(pipeline.DeadLetterSink))
        {
            if (sink is ICheckpointListener)
            {
                throw new ArgumentException(
                    $"Sink {sink.GetType().Name} of pipeline '{pipeline.Name}' undoes its writes through checkpoint notifications, which per-shard Lambda checkpoints do not give. Use sinks that write by result identity (WindowResult.Id).",
                    nameof(pipeline));
            }
        }
    }

    /// <summary>Gets the pipeline the handler drives: with a factory, the one it built last.</summary>
    public StreamPipeline<TEvent, TKey, TResult> Pipeline => _pipeline;

    /// <summary>
    /// Handles an invocation in the shape <c>Amazon.Lambda.RuntimeSupport</c> hosts (and the managed runtime accepts):
    /// the event's JSON in, the partial batch response's JSON out.
    /// </summary>
    /// <param name="input">The event JSON (a <see cref="KinesisStreamEvent"/>).</param>
    /// <param name="cancellationToken">Cancels the invocation (derive it from the function's remaining time).</param>
    /// <returns>The response JSON (a <see cref="KinesisStreamBatchResponse"/>), positioned at its start.</returns>
    /// <exception cref="JsonException">The input is not a Kinesis event.</exception>
    public async Task<Stream> HandleAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var kinesisEvent = await JsonSerializer.DeserializeAsync(input, LambdaJsonContext.Default.KinesisStreamEvent, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("The Kinesis event is JSON null.");
        var outcome = await ProcessAsync(kinesisEvent, cancellationToken).ConfigureAwait(false);
        var output = new MemoryStream();
        JsonSerializer.Serialize(output, outcome.Response, LambdaJsonContext.Default.KinesisStreamBatchResponse);
        output.Position = 0;
        return output;
    }

    /// <summary>Handles an invocation with the typed models.</summary>
    /// <param name="kinesisEvent">The event.</param>
    /// <param name="cancellationToken">Cancels the invocation.</param>
    /// <returns>The partial batch response.</returns>
    public async Task<KinesisStreamBatchResponse> HandleAsync(KinesisStreamEvent kinesisEvent, CancellationToken cancellationToken)
        => (await ProcessAsync(kinesisEvent, cancellationToken).ConfigureAwait(false)).Response;

    /// <summary>Handles an invocation and says what happened to its records.</summary>
    /// <param name="kinesisEvent">The event: records of one shard, in shard order.</param>
    /// <param name="cancellationToken">Cancels the invocation.</param>
    /// <returns>The response and the counts.</returns>
    /// <exception cref="ArgumentException">The event mixes shards, or a record has a malformed event id or sequence number.</exception>
    /// <exception cref="InvalidOperationException">Another batch of the same shard is in progress (<c>ParallelizationFactor</c> above 1).</exception>
    public async Task<KinesisBatchOutcome> ProcessAsync(KinesisStreamEvent kinesisEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kinesisEvent);
        var records = kinesisEvent.Records ?? [];
        if (records.Count == 0)
        {
            return new KinesisBatchOutcome(string.Empty, new KinesisStreamBatchResponse(), new BatchReceipt(string.Empty, null, 0, 0, 0, 0, 0), 0, 0, null, null, 0);
        }

        string shardId = KinesisBatchDecoder.ShardOf(records[0], 0);
        var sequences = KinesisBatchDecoder.ParseSequenceNumbers(records, shardId);
        if (!_inFlight.TryAdd(shardId, 0))
        {
            throw new InvalidOperationException(
                $"Two batches of {shardId} are being handled at once. Pipeline '{_pipeline.Name}' keeps one checkpoint per shard: set the event source mapping's ParallelizationFactor to 1.");
        }

        long started = Stopwatch.GetTimestamp();
        using var activity = LambdaTelemetry.ActivitySource.StartActivity("Lambda.Kinesis");
        activity?.SetTag("pipeline", _pipeline.Name);
        activity?.SetTag("shard", shardId);
        var tags = new TagList { { "pipeline", _pipeline.Name }, { "shard", shardId } };
        try
        {
            string name = KinesisEventHandlerOptions.GetCheckpointName(_pipeline.Name, shardId);
            var checkpoint = await _store.LoadAsync(name, cancellationToken).ConfigureAwait(false);
            var processor = _pipeline.CreateProcessor(checkpoint, _time, shardId);
            processor.AnnouncePartitions([shardId]);

            var values = new List<StreamRecord<TEvent>>(records.Count);
            var deadLetters = new List<DeadLetter>();
            int userRecords = 0;
            int decoded = KinesisBatchDecoder.Decode(records, sequences, 0, shardId, _decoder, _deaggregate, values, deadLetters, ref userRecords, out var failure);

            var receipt = new BatchReceipt(shardId, null, 0, 0, 0, 0, 0);
            long checkpointId = checkpoint?.Id ?? 0;
            if (decoded > 0)
            {
                var batch = new RecordBatch<TEvent>(shardId, values.ToArray(), deadLetters);
                var output = new Collector(shardId);
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        receipt = processor.Process(batch, output);
                        break;
                    }
                    catch (AggregationFailedException ex) when (attempt <= values.Count)
                    {
                        // The windows may hold part of the record: start again from the checkpoint. The pipeline now
                        // sets the record aside (a dead letter), and nothing was delivered or saved yet.
                        LambdaLog.KinesisRecordSetAside(_log, ex, _pipeline.Name, shardId, ex.Position.ToString());
                        processor = _pipeline.CreateProcessor(checkpoint, _time, shardId);
                        processor.AnnouncePartitions([shardId]);
                        output = new Collector(shardId);
                    }
                }

                if (receipt.Records > receipt.Replayed || receipt.ResultsEmitted > 0 || output.DeadLetters.Count > 0)
                {
                    await DeliverAsync(output, cancellationToken).ConfigureAwait(false);
                    var saved = processor.CreateCheckpoint();
                    await _store.SaveAsync(saved, cancellationToken).ConfigureAwait(false);
                    checkpointId = saved.Id;
                }

                if (receipt.Replayed > 0)
                {
                    LambdaLog.KinesisReplayed(_log, _pipeline.Name, shardId, receipt.Replayed, checkpoint?.Id ?? 0);
                    LambdaTelemetry.KinesisReplayed.Add(receipt.Replayed, tags);
                }

                LambdaTelemetry.KinesisDeadLetters.Add(output.DeadLetters.Count, tags);
                LambdaTelemetry.KinesisResults.Add(output.Results.Count, tags);
                LambdaLog.KinesisBatchProcessed(_log, _pipeline.Name, shardId, decoded, receipt.Accepted, receipt.Late, receipt.DeadLetters, receipt.Replayed, output.Results.Count, checkpointId);
            }

            var response = new KinesisStreamBatchResponse();
            string? failedSequence = null;
            if (failure is not null)
            {
                failedSequence = records[decoded].Kinesis.SequenceNumber;
                response.BatchItemFailures.Add(new KinesisStreamBatchItemFailure { ItemIdentifier = failedSequence });
                LambdaLog.KinesisRecordFailed(_log, failure, _pipeline.Name, shardId, failedSequence);
                LambdaTelemetry.KinesisFailures.Add(1, tags);
                activity?.SetTag("failed_sequence_number", failedSequence);
            }

            LambdaTelemetry.KinesisRecords.Add(records.Count, tags);
            LambdaTelemetry.KinesisUserRecords.Add(userRecords, tags);
            return new KinesisBatchOutcome(shardId, response, receipt, records.Count, userRecords, failedSequence, failure, checkpointId);
        }
        catch (Exception ex) when (Log(ex, shardId))
        {
            throw;
        }
        finally
        {
            LambdaTelemetry.KinesisInvocationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            _inFlight.TryRemove(shardId, out _);
        }
    }

    /// <summary>
    /// Ends a shard: emits every window still open in its checkpoint, delivers and flushes the results, and saves the
    /// checkpoint. Lambda's events never say that a shard ended, so the windows open when a parent shard closes
    /// (after a split or merge) are emitted only by this call; call it for closed shards (or at the end of a test).
    /// </summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of results emitted; 0 when the shard has no checkpoint.</returns>
    /// <remarks>Records of the shard handled after this call are late: every window of the shard is final.</remarks>
    public async Task<int> CompleteShardAsync(string shardId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        if (!_inFlight.TryAdd(shardId, 0))
        {
            throw new InvalidOperationException($"A batch of {shardId} is being handled; complete the shard after it.");
        }

        try
        {
            string name = KinesisEventHandlerOptions.GetCheckpointName(_pipeline.Name, shardId);
            var checkpoint = await _store.LoadAsync(name, cancellationToken).ConfigureAwait(false);
            if (checkpoint is null)
            {
                return 0;
            }

            var processor = _pipeline.CreateProcessor(checkpoint, _time, shardId);
            var output = new Collector(shardId);
            processor.Complete(output);
            await DeliverAsync(output, cancellationToken).ConfigureAwait(false);
            await _store.SaveAsync(processor.CreateCheckpoint(), cancellationToken).ConfigureAwait(false);
            LambdaLog.KinesisShardCompleted(_log, _pipeline.Name, shardId, output.Results.Count);
            return output.Results.Count;
        }
        finally
        {
            _inFlight.TryRemove(shardId, out _);
        }
    }

    private bool Log(Exception exception, string shardId)
    {
        if (exception is not OperationCanceledException)
        {
            LambdaLog.KinesisInvocationFailed(_log, exception, _pipeline.Name, shardId);
        }

        return false;
    }

    /// <summary>Writes everything the engine emitted to the pipeline's sinks and flushes them, one invocation at a time.</summary>
    private async Task DeliverAsync(Collector output, CancellationToken cancellationToken)
    {
        await _sinkGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (output.Results.Count > 0)
            {
                var results = output.Results.ToArray();
                foreach (var sink in _pipeline.Sinks)
                {
                    await sink.WriteAsync(results, cancellationToken).ConfigureAwait(false);
                }
            }

            if (output.LateRecords.Count > 0 && _pipeline.LateSink is { } lateSink)
            {
                await lateSink.WriteAsync(output.LateRecords.ToArray(), cancellationToken).ConfigureAwait(false);
            }

            if (output.DeadLetters.Count > 0)
            {
                if (_log.IsEnabled(LogLevel.Warning))
                {
                    foreach (var deadLetter in output.DeadLetters)
                    {
                        LambdaLog.KinesisDeadLetter(_log, _pipeline.Name, deadLetter.Position, deadLetter.Reason, deadLetter.Message);
                    }
                }

                if (_pipeline.DeadLetterSink is { } deadLetterSink)
                {
                    await deadLetterSink.WriteAsync(output.DeadLetters.ToArray(), cancellationToken).ConfigureAwait(false);
                }
            }

            foreach (var sink in _pipeline.Sinks)
            {
                await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_pipeline.LateSink is { } late)
            {
                await late.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_pipeline.DeadLetterSink is { } dead)
            {
                await dead.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch when (_factory is not null)
        {
            Rebuild(_factory);
            throw;
        }
        finally
        {
            _sinkGate.Release();
        }
    }

    /// <summary>
    /// Builds the pipeline again after one of its sinks failed (under the sink gate, so no invocation is writing). When
    /// the factory fails, or builds a pipeline this handler cannot drive, the old one stays, and the next failure tries again.
    /// </summary>
    private void Rebuild(Func<StreamPipeline<TEvent, TKey, TResult>> factory)
    {
        var old = _pipeline;
        try
        {
            var pipeline = factory() ?? throw new InvalidOperationException("The pipeline factory returned null.");
            if (!string.Equals(pipeline.Name, old.Name, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The pipeline factory built '{pipeline.Name}' instead of '{old.Name}': the shards' checkpoints are filed under the name.");
            }

            Validate(pipeline);
            _pipeline = pipeline;
            LambdaLog.KinesisPipelineRebuilt(_log, old.Name);
        }
#pragma warning disable CA1031 // The sink's failure is what the invocation reports; the factory's is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LambdaLog.KinesisPipelineRebuildFailed(_log, ex, old.Name);
        }
    }

    /// <summary>Collects one invocation's outputs; results carry the shard as their partition (the engine of a partition tags them; windows fed by windows are tagged here too).</summary>
    private sealed class Collector(string shardId) : IWindowOutput<TEvent, TKey, TResult>
    {
        public List<WindowResult<TKey, TResult>> Results { get; } = [];

        public List<LateRecord<TEvent>> LateRecords { get; } = [];

        public List<DeadLetter> DeadLetters { get; } = [];

        public void OnResult(in WindowResult<TKey, TResult> result) => Results.Add(result.Partition is null ? result with { Partition = shardId } : result);

        public void OnLateRecord(in LateRecord<TEvent> record) => LateRecords.Add(record);

        public void OnDeadLetter(DeadLetter deadLetter) => DeadLetters.Add(deadLetter);
    }
}

/// <summary>Creates Kinesis event handlers with the type arguments inferred from the pipeline.</summary>
public static class KinesisEventHandler
{
    /// <summary>Creates a handler that drives <paramref name="pipeline"/> per shard.</summary>
    /// <typeparam name="TEvent">The event type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TResult">The aggregate result type.</typeparam>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="decoder">The decoder of user records.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The handler.</returns>
    public static KinesisEventHandler<TEvent, TKey, TResult> Create<TEvent, TKey, TResult>(StreamPipeline<TEvent, TKey, TResult> pipeline, IEventDecoder<TEvent> decoder, KinesisEventHandlerOptions? options = null)
        where TKey : notnull
        => new(pipeline, decoder, options);

    /// <summary>
    /// Creates a handler that builds its pipeline with <paramref name="pipelineFactory"/>, now and again after a sink
    /// failed, so that retries get new sinks. Create the sinks inside the factory.
    /// </summary>
    /// <typeparam name="TEvent">The event type.</typeparam>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TResult">The aggregate result type.</typeparam>
    /// <param name="pipelineFactory">Builds the pipeline with its sinks; always with the same name.</param>
    /// <param name="decoder">The decoder of user records.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The handler.</returns>
    public static KinesisEventHandler<TEvent, TKey, TResult> Create<TEvent, TKey, TResult>(Func<StreamPipeline<TEvent, TKey, TResult>> pipelineFactory, IEventDecoder<TEvent> decoder, KinesisEventHandlerOptions? options = null)
        where TKey : notnull
        => new(pipelineFactory, decoder, options);
}
