using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Reads every shard of a Kinesis data stream, as an <see cref="IEventSource{T}"/> of raw records: one
/// <see cref="RecordBatch{T}"/> per GetRecords response (or enhanced fan-out event) of a shard. Chain
/// <c>.Decode(decoder)</c> to get events.
/// </summary>
/// <remarks>
/// <para>
/// <b>Shards.</b> The consumer lists the stream's shards (ListShards, every page) when it starts, every
/// <see cref="KinesisConsumerOptions.ShardDiscoveryInterval"/>, and whenever a shard reader reaches the end of a
/// closed shard. Each shard gets its own reader task; a polling reader stays within the shard's read limits
/// (<see cref="KinesisConsumerOptions.MaxGetRecordsCallsPerSecond"/>, <see cref="KinesisConsumerOptions.MaxBytesPerSecond"/>),
/// an enhanced fan-out reader (<see cref="KinesisConsumerOptions.EnhancedFanOutConsumerName"/>) subscribes with
/// SubscribeToShard.
/// </para>
/// <para>
/// <b>Sharing a stream.</b> Given an <see cref="IShardAssignment"/> (a lease coordinator), the consumer reads only the
/// shards assigned to it, stops a shard's reader when the shard is taken away, treats a parent another consumer
/// finished as finished, and resumes a shard the pipeline has no checkpoint for from the assignment's checkpoint.
/// </para>
/// <para>
/// <b>Checkpoints and resharding.</b> The consumer never touches a checkpoint store: the pipeline owns it and hands
/// the consumer a <see cref="SourceContext"/>. A shard with a resume position restarts with <c>AT_SEQUENCE_NUMBER</c>
/// and drops the records at or before it (including the processed part of a KPL aggregate); a finished shard
/// (<see cref="SourceContext.IsFinished"/>: read to its end and delivered) is not read again; and a child shard starts
/// only when every parent is finished (or the parent is no longer listed, or was skipped by a
/// <see cref="KinesisStartingPositionType.Latest"/> start). While a child waits, the consumer looks again every
/// <see cref="KinesisConsumerOptions.ParentCheckpointPollInterval"/>; the pipeline marks a parent finished once a saved
/// checkpoint covers its end. So per-key order holds across splits and merges, and a child is never read while its
/// parent's records are still in flight. Every shard the consumer will read is announced to the pipeline as soon as
/// ListShards returns it, so the watermark waits for shards that have not delivered yet. Code that enumerates the
/// consumer without a pipeline calls <see cref="SourceContext.MarkFinished"/> when it has handled a shard's last batch
/// (<see cref="RecordBatch{T}.IsEndOfPartition"/>), or children never start.
/// </para>
/// <para>
/// <b>Failures.</b> Throttling, 5xx and connection failures are retried per call (the client retries first) through
/// <see cref="KinesisConsumerOptions.Retry"/>: exponential back-off with full jitter, bounded by attempts and time; an
/// expired iterator is renewed after the last record handed out. A bad KPL aggregate becomes a dead letter of its
/// batch. A failure that is not transient (a missing stream, no permission), or that outlasts the retry budget, ends
/// the enumeration with that exception; once the stream has been listed, a periodic listing that outlasts the budget
/// is logged and tried again at the next <see cref="KinesisConsumerOptions.ShardDiscoveryInterval"/> instead, while
/// the known shards are read on. Discovery, resharding, iterator renewals, retries and bad aggregates are logged
/// (<see cref="KinesisConsumerOptions.LoggerFactory"/>, event ids 2200-2299) and counted
/// (<see cref="KinesisTelemetry"/>).
/// </para>
/// <para>
/// <b>Threading.</b> <see cref="ReadBatchesAsync"/> may be enumerated by one consumer at a time per instance;
/// batches of one shard arrive in shard order, batches of different shards interleave. Shard readers pause when
/// <see cref="KinesisConsumerOptions.MaxBufferedBatches"/> batches wait. Disposing or cancelling the enumeration
/// stops every reader.
/// </para>
/// </remarks>
public sealed class KinesisShardConsumer : IEventSource<RawRecord>
{
    private readonly IKinesisClient _client;
    private readonly KinesisConsumerOptions _options;
    private readonly IShardAssignment? _assignment;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, TimeSpan> _behindLatest = new(StringComparer.Ordinal);

    /// <summary>Creates a consumer; nothing is read until <see cref="ReadBatchesAsync"/> is enumerated.</summary>
    /// <param name="client">The Kinesis client (shared; thread-safe).</param>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and how to fix it.</exception>
    public KinesisShardConsumer(IKinesisClient client, KinesisConsumerOptions options)
        : this(client, options, null)
    {
    }

    /// <summary>Creates a consumer that reads only the shards an <see cref="IShardAssignment"/> gives it; nothing is read until <see cref="ReadBatchesAsync"/> is enumerated.</summary>
    /// <param name="client">The Kinesis client (shared; thread-safe).</param>
    /// <param name="options">The settings; validated here. One options instance may serve several consumers.</param>
    /// <param name="assignment">
    /// Which shards this consumer may read (a lease coordinator, so that several processes share the stream); <see langword="null"/> to read every shard.
    /// </param>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and how to fix it.</exception>
    /// <remarks>
    /// With an assignment, a shard is announced to the pipeline when it is first assigned, read only while it is
    /// assigned (its reader stops when the shard is taken away; batches already handed out stay delivered), treated as
    /// finished when the assignment says another consumer finished it, and resumed from the assignment's checkpoint
    /// when the pipeline has none.
    /// </remarks>
    public KinesisShardConsumer(IKinesisClient client, KinesisConsumerOptions options, IShardAssignment? assignment)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
        _assignment = assignment;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<KinesisShardConsumer>();
    }

    /// <inheritdoc />
    /// <remarks>Always <see langword="true"/>: shards resume after the positions in the <see cref="SourceContext"/>.</remarks>
    public bool CanResume => true;

    /// <summary>Gets, per shard, how far its reader was behind the newest record at its last read (MillisBehindLatest); while a read is retried, that lag plus the time since the read.</summary>
    /// <remarks>A snapshot; shards that have not been read yet are absent.</remarks>
    public IReadOnlyDictionary<string, TimeSpan> BehindLatest => new Dictionary<string, TimeSpan>(_behindLatest, StringComparer.Ordinal);

    /// <inheritdoc />
    /// <remarks>
    /// Runs until <paramref name="cancellationToken"/> is cancelled or the enumeration is disposed: a stream can
    /// always get new records. Non-retryable failures are thrown from the enumerator.
    /// </remarks>
    public async IAsyncEnumerable<RecordBatch<RawRecord>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<RecordBatch<RawRecord>>(new BoundedChannelOptions(_options.MaxBufferedBatches)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var coordinator = new Coordinator(this, context, channel.Writer);
        var run = coordinator.RunAsync(stop.Token);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var batch))
                {
                    if (batch.BehindLatest is { } lag)
                    {
                        _behindLatest[batch.PartitionId] = lag;
                    }

                    yield return batch;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping is the expected way out.
            }
        }
    }

    private enum ShardStatus
    {
        /// <summary>Listed; waiting for its parents.</summary>
        Waiting,

        /// <summary>A reader is running.</summary>
        Reading,

        /// <summary>The shard was taken away from this consumer; its reader is stopping.</summary>
        Stopping,

        /// <summary>Read to its end here; waiting for the pipeline to checkpoint the end.</summary>
        Ended,

        /// <summary>Checkpointed as finished (or skipped): its children may start.</summary>
        Finished,
    }

    private sealed class ShardState(KinesisShard shard)
    {
        private KinesisShard _shard = shard;

        /// <summary>Gets or sets the shard as last listed (read by its reader, which needs to know when it closes).</summary>
        public KinesisShard Shard
        {
            get => Volatile.Read(ref _shard);
            set => Volatile.Write(ref _shard, value);
        }

        public ShardStatus Status { get; set; }

        /// <summary>Gets or sets what stops this shard's reader alone (when the shard is taken away).</summary>
        public CancellationTokenSource? ReaderStop { get; set; }

        /// <summary>Gets or sets the running reader.</summary>
        public Task? Reader { get; set; }

        /// <summary>Gets or sets a value indicating whether the shard was announced to the pipeline.</summary>
        public bool Announced { get; set; }

        /// <summary>Gets or sets the end of the last batch of this shard handed on in this enumeration (a shard taken away and given back resumes after it).</summary>
        public StreamPosition? Delivered { get; set; }
    }

    /// <summary>Discovers shards, starts readers when their parents are finished, and forwards reader failures.</summary>
    private sealed class Coordinator(KinesisShardConsumer owner, SourceContext context, ChannelWriter<RecordBatch<RawRecord>> output)
    {
        private readonly Dictionary<string, ShardState> _shards = new(StringComparer.Ordinal);
        private readonly List<Task> _readers = [];
        private readonly Channel<bool> _wake = Channel.CreateUnbounded<bool>();
        private readonly ConcurrentQueue<ShardState> _ended = new();
        private readonly ResiliencePipeline _retry = RetryPipelineFactory.Create(
            owner._options.Retry,
            owner._options.TimeProvider,
            KinesisErrors.IsTransientOrInUse,
            notice => KinesisLog.DiscoveryRetrying(owner._logger, owner._options.StreamLabel, notice.FailedAttempt, notice.Delay, notice.Outcome.Exception!));

        private readonly ShardReaderContext _readerContext = new(owner._client, owner._options, owner._logger);
        private string? _consumerArn;
        private bool _listed;
        private bool _startedOnce;
        private long _lastListing;

        private KinesisConsumerOptions Options => owner._options;

        private IShardAssignment? Assignment => owner._assignment;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            Exception? failure = null;
            using var readersStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            EventHandler onChange = (_, _) => _wake.Writer.TryWrite(false);
            if (Assignment is { } assignment)
            {
                assignment.Changed += onChange;
            }

            try
            {
                await LoopAsync(readersStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped.
            }
            catch (Exception e)
            {
                failure = e;
            }

            await readersStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(_readers).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Readers stop by cancellation; a reader failure was already reported through the loop (the first
                // failure is the one that counts), and after a cancellation nothing more is reported.
            }

            if (Assignment is { } subscribed)
            {
                subscribed.Changed -= onChange;
            }

            foreach (var state in _shards.Values)
            {
                state.ReaderStop?.Dispose();
            }

            output.TryComplete(failure);
        }

        private async Task LoopAsync(CancellationToken cancellationToken)
        {
            if (Options.EnhancedFanOutConsumerName is not null)
            {
                _consumerArn = await EnhancedFanOut.EnsureConsumerAsync(owner._client, Options, _retry, owner._logger, cancellationToken).ConfigureAwait(false);
            }

            bool listNow = true;
            while (true)
            {
                while (_ended.TryDequeue(out var ended))
                {
                    ended.Status = ShardStatus.Ended;
                }

                if (listNow || Options.TimeProvider.GetElapsedTime(_lastListing) >= Options.ShardDiscoveryInterval)
                {
                    try
                    {
                        await _retry.ExecuteAsync(static (coordinator, token) => new ValueTask(coordinator.DiscoverAsync(token)), this, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (_listed && !cancellationToken.IsCancellationRequested && KinesisErrors.IsTransientOrInUse(e))
                    {
                        // The stream was listed before: keep reading the known shards and list again after the interval.
                        _lastListing = Options.TimeProvider.GetTimestamp();
                        KinesisLog.DiscoveryFailed(owner._logger, Options.StreamLabel, Options.ShardDiscoveryInterval, e);
                    }
                }

                StartReadyShards(cancellationToken);
                ThrowIfReaderFailed();
                if (Assignment is { EndsWithShards: true } && AssignedShardsDone())
                {
                    // A pipeline per shard: its source ends with its shard, so that its windows close.
                    return;
                }

                bool waitingOnParents = false;
                foreach (var state in _shards.Values)
                {
                    waitingOnParents |= state.Status == ShardStatus.Ended;
                }

                var wait = Options.ShardDiscoveryInterval - Options.TimeProvider.GetElapsedTime(_lastListing);
                if ((waitingOnParents || Assignment is not null) && wait > Options.ParentCheckpointPollInterval)
                {
                    wait = Options.ParentCheckpointPollInterval;
                }

                listNow = false;
                if (wait > TimeSpan.Zero)
                {
                    using var timeout = new CancellationTokenSource(wait, Options.TimeProvider);
                    using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                    try
                    {
                        listNow |= await _wake.Reader.ReadAsync(timer.Token).ConfigureAwait(false);
                        while (_wake.Reader.TryRead(out bool more))
                        {
                            listNow |= more;
                        }
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The wait is over.
                    }
                }
            }
        }

        private async Task DiscoverAsync(CancellationToken cancellationToken)
        {
            var shards = await owner._client.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = Options.StreamName, StreamArn = Options.StreamArn }, cancellationToken).ConfigureAwait(false);
            _lastListing = Options.TimeProvider.GetTimestamp();
            bool first = !_listed;
            _listed = true;
            List<string>? announced = null;
            foreach (var shard in shards)
            {
                if (_shards.TryGetValue(shard.ShardId, out var known))
                {
                    known.Shard = shard;
                    continue;
                }

                var state = new ShardState(shard);
                _shards.Add(shard.ShardId, state);
                if (context.IsFinished(shard.ShardId) || (Assignment?.GetShard(shard.ShardId).IsFinished ?? false))
                {
                    state.Status = ShardStatus.Finished;
                }
                else if (Assignment is null && first && !context.IsResuming && shard.IsClosed
                    && Options.InitialPosition.Type == KinesisStartingPositionType.Latest
                    && !Options.ShardStartingPositions.ContainsKey(shard.ShardId))
                {
                    // Starting afresh at LATEST: a shard closed before the consumer started holds only older records.
                    // (Not when resuming: it may have closed while the pipeline was stopped. With an assignment, the
                    // assignment decides: a lease coordinator marks such shards finished.)
                    state.Status = ShardStatus.Finished;
                }
                else if (Assignment is null)
                {
                    // With an assignment, a shard is announced when it is first assigned (StartReadyShards).
                    (announced ??= []).Add(shard.ShardId);
                    state.Announced = true;
                }
            }

            if (announced is not null)
            {
                context.AnnouncePartitions(announced);
                KinesisLog.ShardsDiscovered(owner._logger, Options.StreamLabel, announced.Count, _shards.Count);
            }
            else if (first && Assignment is not null)
            {
                KinesisLog.ShardsDiscovered(owner._logger, Options.StreamLabel, _shards.Count, _shards.Count);
            }
        }

        private void StartReadyShards(CancellationToken cancellationToken)
        {
            // Parents that ended here become finished once the pipeline has checkpointed their end.
            foreach (var state in _shards.Values)
            {
                if (state.Status == ShardStatus.Ended && context.IsFinished(state.Shard.ShardId))
                {
                    state.Status = ShardStatus.Finished;
                }
            }

            if (Assignment is not null)
            {
                StopRevokedShards();
            }

            bool initialRound = !_startedOnce;
            List<string>? announced = null;
            foreach (var state in _shards.Values)
            {
                if (state.Status != ShardStatus.Waiting)
                {
                    continue;
                }

                var assigned = Assignment?.GetShard(state.Shard.ShardId);
                if (assigned is { IsFinished: true })
                {
                    state.Status = ShardStatus.Finished;
                    continue;
                }

                if (assigned is { IsAssigned: false })
                {
                    continue;
                }

                if (!state.Announced)
                {
                    (announced ??= []).Add(state.Shard.ShardId);
                    state.Announced = true;
                }

                if (!ParentsFinished(state.Shard))
                {
                    continue;
                }

                if (context.IsFinished(state.Shard.ShardId))
                {
                    state.Status = ShardStatus.Finished;
                    continue;
                }

                if (!initialRound && state.Shard.ParentShardId is not null)
                {
                    KinesisLog.ChildShardReady(owner._logger, Options.StreamLabel, state.Shard.ShardId);
                }

                var resumeAfter = Later(context.GetResumePosition(state.Shard.ShardId) ?? assigned?.ResumeAfter, state.Delivered);
                // A shard whose parent the checkpoint has finished started at the trim horizon in an earlier run (or
                // has not started yet): it is not one of the shards the initial position was meant for.
                bool parentFinished = state.Shard.ParentShardIds.Any(context.IsFinished);
                var plan = ShardReadPlan.Choose(state.Shard, resumeAfter, Options, useInitialPosition: initialRound && !parentFinished, assigned?.StartingPosition);
                state.Status = ShardStatus.Reading;
                if (Assignment is not null)
                {
                    state.ReaderStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    state.Reader = RunReaderAsync(state, plan, state.ReaderStop.Token, cancellationToken);
                }
                else
                {
                    state.Reader = RunReaderAsync(state, plan, cancellationToken, cancellationToken);
                }

                _readers.Add(state.Reader);
            }

            if (announced is not null)
            {
                context.AnnouncePartitions(announced);
            }

            _startedOnce = true;
        }

        /// <summary>Stops the readers of shards taken away from this consumer; a stopped shard may be read again once it is assigned again.</summary>
        private void StopRevokedShards()
        {
            foreach (var state in _shards.Values)
            {
                if (state.Status == ShardStatus.Reading && !Assignment!.GetShard(state.Shard.ShardId).IsAssigned)
                {
                    KinesisLog.ShardRevoked(owner._logger, Options.StreamLabel, state.Shard.ShardId);
                    state.Status = ShardStatus.Stopping;
                    state.ReaderStop?.Cancel();
                }

                if (state.Status == ShardStatus.Stopping && state.Reader is { IsCompleted: true })
                {
                    _readers.Remove(state.Reader);
                    state.ReaderStop?.Dispose();
                    state.ReaderStop = null;
                    state.Reader = null;
                    state.Status = ShardStatus.Waiting;
                }
            }
        }

        /// <summary>
        /// Whether a consumer whose assignment ends with its shards is done: no reader runs or stops, no assigned shard
        /// waits to be read, and some assigned shard was read to its end (or was already finished).
        /// </summary>
        private bool AssignedShardsDone()
        {
            bool someDone = false;
            foreach (var state in _shards.Values)
            {
                switch (state.Status)
                {
                    case ShardStatus.Reading or ShardStatus.Stopping:
                        return false;
                    case ShardStatus.Waiting when Assignment!.GetShard(state.Shard.ShardId).IsAssigned:
                        return false;
                    case ShardStatus.Ended:
                        someDone = true;
                        break;
                    case ShardStatus.Finished when Assignment!.GetShard(state.Shard.ShardId).IsAssigned:
                        someDone = true;
                        break;
                }
            }

            return someDone;
        }

        private bool ParentsFinished(KinesisShard shard) => IsFinished(shard.ParentShardId) && IsFinished(shard.AdjacentParentShardId);

        private bool IsFinished(string? parentId)
        {
            if (parentId is null || !_shards.TryGetValue(parentId, out var parent))
            {
                // No parent, or a parent past retention (no longer listed): nothing to wait for.
                return true;
            }

            if (parent.Status == ShardStatus.Finished)
            {
                return true;
            }

            if (context.IsFinished(parentId) || (Assignment?.GetShard(parentId).IsFinished ?? false))
            {
                parent.Status = ShardStatus.Finished;
                return true;
            }

            return false;
        }

        private async Task RunReaderAsync(ShardState state, ShardReadPlan plan, CancellationToken cancellationToken, CancellationToken consumerStop)
        {
            await Task.Yield();
            ShardReaderBase reader = _consumerArn is null
                ? new PollingShardReader(_readerContext, plan, output)
                : new FanOutShardReader(_readerContext, _consumerArn, plan, () => state.Shard.IsClosed, output);
            try
            {
                await reader.RunAsync(cancellationToken).ConfigureAwait(false);
                _ended.Enqueue(state);
                _wake.Writer.TryWrite(true);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !consumerStop.IsCancellationRequested)
            {
                // The shard was taken away from this consumer: its reader stops quietly, and if the shard comes back,
                // the next reader resumes after what this one handed on.
                state.Delivered = reader.Delivered ?? state.Delivered;
                _wake.Writer.TryWrite(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception)
            {
                _wake.Writer.TryWrite(false);
                throw;
            }
        }

        private static StreamPosition? Later(StreamPosition? a, StreamPosition? b) => a is { } x && b is { } y ? (x.CompareTo(y) >= 0 ? x : y) : a ?? b;

        private void ThrowIfReaderFailed()
        {
            foreach (var reader in _readers)
            {
                if (reader.IsFaulted)
                {
                    reader.GetAwaiter().GetResult();
                }
            }
        }
    }
}
