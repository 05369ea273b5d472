using System.Buffers;
using System.Text;
using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Writes records to a Kinesis stream in PutRecords batches: by count, bytes and linger time, with optional KPL
/// aggregation, resending only the records that failed, with a bounded buffer that pushes back on callers.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="AddAsync"/> and <see cref="TryAdd"/> validate and copy a record into the buffer and return; one
/// background task batches and sends. They may be called from any number of threads. When the buffer holds
/// <see cref="KinesisProducerOptions.MaxBufferedRecords"/> records, <see cref="AddAsync"/> waits for room.
/// </para>
/// <para>
/// Ordering: PutRecords does not keep order across failures (a failed record is resent after later ones), and
/// several calls may be in flight (<see cref="KinesisProducerOptions.MaxConcurrentRequests"/>); set it to 1 for the
/// best per-key order, and use <see cref="IKinesisClient.PutRecordAsync"/> with <c>SequenceNumberForOrdering</c>
/// when strict order matters. Retries and timeouts can write a record twice: consumers must be idempotent.
/// </para>
/// <para>
/// Failures: per-record errors (throttling, internal failure) and retryable call failures are retried with
/// exponential backoff and full jitter up to <see cref="KinesisProducerOptions.MaxRecordAttempts"/> sends. Records
/// given up on are reported by the next <see cref="FlushAsync"/> as a <see cref="KinesisProducerException"/>.
/// <see cref="DisposeAsync"/> sends everything still buffered and waits for it; it does not throw for failed
/// records (flush first to observe them).
/// </para>
/// </remarks>
public sealed class KinesisProducer : IAsyncDisposable
{
    private readonly IKinesisClient _client;
    private readonly KinesisProducerOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<Pending> _channel;
    private readonly KinesisStreamRequest _stream;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _failuresLock = new();
    private readonly List<KinesisProducerFailure> _failures = [];

    // Loop state: touched only by the send loop.
    private readonly Queue<Unit> _ready = new();
    private readonly List<(Unit Unit, long Due)> _retries = [];
    private readonly List<Task<BatchOutcome>> _inFlight = [];
    private readonly Dictionary<string, KplAggregateBuilder> _aggregators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Pending>> _aggregateMembers = new(StringComparer.Ordinal);
    private readonly List<TaskCompletionSource> _flushWaiters = [];
    private ShardMap? _shardMap;
    private long _shardMapLoaded;
    private bool _shardMapStale = true;
    private long _lingerStart = -1;

    private long _records;
    private long _bytes;
    private long _batches;
    private long _kinesisRecords;
    private long _retryCount;
    private long _throttles;
    private long _failureCount;
    private long _latencyTicks;
    private int _disposed;

    /// <summary>Creates a producer and starts its send loop.</summary>
    /// <param name="client">The Kinesis client (shared; not disposed by the producer).</param>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which and what to change.</exception>
    public KinesisProducer(IKinesisClient client, KinesisProducerOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
        _time = options.TimeProvider;
        _stream = new KinesisStreamRequest { StreamName = options.StreamName, StreamArn = options.StreamArn };
        _channel = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.MaxBufferedRecords)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Gets the running totals of this producer.</summary>
    public KinesisProducerStatistics Statistics => new(
        Interlocked.Read(ref _records),
        Interlocked.Read(ref _bytes),
        Interlocked.Read(ref _batches),
        Interlocked.Read(ref _kinesisRecords),
        Interlocked.Read(ref _retryCount),
        Interlocked.Read(ref _throttles),
        Interlocked.Read(ref _failureCount),
        TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks)));

    /// <summary>Adds a record to the buffer, waiting for room when the buffer is full.</summary>
    /// <param name="data">The payload (copied before the method returns).</param>
    /// <param name="partitionKey">The partition key, 1 to 256 characters.</param>
    /// <param name="explicitHashKey">An explicit hash key (decimal, 0 to 2^128-1) to route by instead of the partition key's MD5; optional.</param>
    /// <param name="cancellationToken">Cancels the wait for room.</param>
    /// <returns>A task that completes when the record is buffered (not yet written: see <see cref="FlushAsync"/>).</returns>
    /// <exception cref="ArgumentException">
    /// The partition key is empty or longer than 256 characters, the record (data plus UTF-8 partition key) is larger
    /// than <see cref="KinesisProducerOptions.MaxRecordSize"/>, or the explicit hash key is malformed.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The producer is disposed.</exception>
    public ValueTask AddAsync(ReadOnlyMemory<byte> data, string partitionKey, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var pending = CreatePending(data.Span, partitionKey, explicitHashKey);
        if (_channel.Writer.TryWrite(pending))
        {
            return ValueTask.CompletedTask;
        }

        return WriteSlowAsync(pending, cancellationToken);
    }

    /// <summary>Adds a record to the buffer when there is room, without waiting.</summary>
    /// <param name="data">The payload (copied before the method returns).</param>
    /// <param name="partitionKey">The partition key, 1 to 256 characters.</param>
    /// <param name="explicitHashKey">An explicit hash key (decimal); optional.</param>
    /// <returns><see langword="true"/> when the record was buffered; <see langword="false"/> when the buffer is full.</returns>
    /// <exception cref="ArgumentException">The record breaks a limit (see <see cref="AddAsync"/>).</exception>
    /// <exception cref="ObjectDisposedException">The producer is disposed.</exception>
    public bool TryAdd(ReadOnlySpan<byte> data, string partitionKey, string? explicitHashKey = null)
    {
        var pending = CreatePending(data, partitionKey, explicitHashKey);
        if (_channel.Writer.TryWrite(pending))
        {
            return true;
        }

        pending.Release();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return false;
    }

    /// <summary>Sends every record added before the call and waits until each is written or given up on.</summary>
    /// <param name="cancellationToken">Cancels the wait (the records are still sent).</param>
    /// <returns>A task that completes when the records are written.</returns>
    /// <exception cref="KinesisProducerException">Records failed for good since the previous flush; they are listed.</exception>
    /// <exception cref="ObjectDisposedException">The producer is disposed.</exception>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _channel.Writer.WriteAsync(new Pending(null, 0, string.Empty, null, 0, marker), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException exception)
        {
            throw new ObjectDisposedException("The producer is disposed.", exception);
        }

        await marker.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowFailures();
    }

    /// <summary>Sends everything still buffered, waits for it, and stops the send loop.</summary>
    /// <returns>A task that completes when the producer has stopped.</returns>
    /// <remarks>Records that fail for good during the drain are counted (<see cref="Statistics"/>) but not thrown; call <see cref="FlushAsync"/> first to observe them.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _channel.Writer.TryComplete();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stop.Dispose();
        foreach (var aggregator in _aggregators.Values)
        {
            aggregator.Dispose();
        }
    }

    private void ThrowFailures()
    {
        KinesisProducerFailure[] failures;
        lock (_failuresLock)
        {
            if (_failures.Count == 0)
            {
                return;
            }

            failures = [.. _failures];
            _failures.Clear();
        }

        throw new KinesisProducerException(
            $"{failures.Length} record(s) could not be written to Kinesis; the first failed with {failures[0].ErrorCode}: {failures[0].ErrorMessage}",
            failures);
    }

    private async ValueTask WriteSlowAsync(Pending pending, CancellationToken cancellationToken)
    {
        try
        {
            await _channel.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException exception)
        {
            pending.Release();
            if (_loop.IsFaulted)
            {
                throw new KinesisProducerException("The producer's send loop failed; see the inner exception.", _loop.Exception!.GetBaseException());
            }

            throw new ObjectDisposedException("The producer is disposed.", exception);
        }
        catch
        {
            pending.Release();
            throw;
        }
    }

    private Pending CreatePending(ReadOnlySpan<byte> data, string partitionKey, string? explicitHashKey)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ArgumentNullException.ThrowIfNull(partitionKey);
        if (partitionKey.Length is 0 or > 256)
        {
            throw new ArgumentException($"A Kinesis partition key must be 1 to 256 characters; got {partitionKey.Length}.", nameof(partitionKey));
        }

        int keyBytes = Encoding.UTF8.GetByteCount(partitionKey);
        if ((long)data.Length + keyBytes > _options.MaxRecordSize)
        {
            throw new ArgumentException(
                $"The record is {data.Length + keyBytes} bytes (data {data.Length} + partition key {keyBytes}), above the limit of {_options.MaxRecordSize} bytes (KinesisProducerOptions.MaxRecordSize): split or compress it.",
                nameof(data));
        }

        if (explicitHashKey is not null && !KinesisHashKey.TryParse(explicitHashKey, out _))
        {
            throw new ArgumentException($"The explicit hash key '{explicitHashKey}' is not a decimal number from 0 to 2^128-1.", nameof(explicitHashKey));
        }

        byte[] copy = data.Length == 0 ? [] : ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(copy);
        return new Pending(copy, data.Length, partitionKey, explicitHashKey, keyBytes, null);
    }

    // ---- send loop ---------------------------------------------------------------------------------------------

    private async Task RunAsync()
    {
        Task<bool>? waitToRead = null;
        bool completed = false;
        Task? timer = null;
        long timerDue = long.MaxValue;
        CancellationTokenSource? timerCancel = null;
        try
        {
            while (true)
            {
                bool draining = completed || _flushWaiters.Count > 0;

                // 1. Read what is available (unless a flush is draining or enough is waiting).
                while (!draining && ReadyRecordCount() < _options.MaxBatchRecords * (_options.MaxConcurrentRequests + 1)
                       && _channel.Reader.TryRead(out var pending))
                {
                    if (pending.FlushMarker is { } marker)
                    {
                        _flushWaiters.Add(marker);
                        draining = true;
                        break;
                    }

                    await AcceptAsync(pending).ConfigureAwait(false);
                }

                // 2. Settle finished calls.
                for (int i = _inFlight.Count - 1; i >= 0; i--)
                {
                    if (_inFlight[i].IsCompleted)
                    {
                        var outcome = await _inFlight[i].ConfigureAwait(false);
                        _inFlight.RemoveAt(i);
                        Settle(outcome);
                    }
                }

                // 3. Due retries become ready again.
                long now = _time.GetTimestamp();
                for (int i = 0; i < _retries.Count; i++)
                {
                    if (_retries[i].Due <= now)
                    {
                        EnqueueReady(_retries[i].Unit);
                    }
                }

                _retries.RemoveAll(r => r.Due <= now);

                if (_shardMapStale && _aggregateMembersPendingResend.Count > 0)
                {
                    await RefreshShardMapAsync().ConfigureAwait(false);
                    foreach (var member in _aggregateMembersPendingResend)
                    {
                        await AcceptAsync(member).ConfigureAwait(false);
                    }

                    _aggregateMembersPendingResend.Clear();
                }

                // 4. Linger or drain: close the open aggregates.
                bool lingerExpired = _lingerStart >= 0 && _time.GetElapsedTime(_lingerStart) >= _options.Linger;
                if (draining || lingerExpired)
                {
                    CloseAllAggregates();
                }

                // 5. Send.
                while (_inFlight.Count < _options.MaxConcurrentRequests && _ready.Count > 0
                       && (draining || lingerExpired || FullBatchReady()))
                {
                    _inFlight.Add(SendBatchAsync(TakeBatch()));
                }

                if (_ready.Count == 0 && OpenAggregateCount() == 0)
                {
                    _lingerStart = -1;
                }

                // 6. Drained?
                if (draining && _ready.Count == 0 && _inFlight.Count == 0 && _retries.Count == 0 && OpenAggregateCount() == 0
                    && _aggregateMembersPendingResend.Count == 0)
                {
                    foreach (var waiter in _flushWaiters)
                    {
                        waiter.TrySetResult();
                    }

                    _flushWaiters.Clear();
                    if (completed)
                    {
                        return;
                    }

                    continue;
                }

                // 7. Wait for something to do.
                var waits = new List<Task>(_inFlight.Count + 2);
                foreach (var call in _inFlight)
                {
                    waits.Add(call);
                }

                if (!draining && !completed && ReadyRecordCount() < _options.MaxBatchRecords * (_options.MaxConcurrentRequests + 1))
                {
                    waitToRead ??= _channel.Reader.WaitToReadAsync().AsTask();
                    waits.Add(waitToRead);
                }

                long due = NextDue();
                if (due != long.MaxValue)
                {
                    if (timer is null || timer.IsCompleted || due < timerDue)
                    {
                        timerCancel?.Cancel();
                        timerCancel?.Dispose();
                        timerCancel = new CancellationTokenSource();
                        TimeSpan delay = TimeSpan.FromTicks(Math.Max(0, (long)((due - _time.GetTimestamp()) * ((double)TimeSpan.TicksPerSecond / _time.TimestampFrequency))));
                        timer = Task.Delay(delay, _time, timerCancel.Token);
                        timerDue = due;
                    }

                    waits.Add(timer);
                }

                if (waits.Count == 0)
                {
                    // Nothing to wait for but work is pending: loop again.
                    continue;
                }

                await Task.WhenAny(waits).ConfigureAwait(false);
                if (waitToRead is { IsCompleted: true })
                {
                    bool more = await waitToRead.ConfigureAwait(false);
                    waitToRead = null;
                    if (!more)
                    {
                        completed = true;
                    }
                }
            }
        }
        catch (Exception exception)
        {
            foreach (var waiter in _flushWaiters)
            {
                waiter.TrySetException(exception);
            }

            _channel.Writer.TryComplete(exception);
            throw;
        }
        finally
        {
            timerCancel?.Cancel();
            timerCancel?.Dispose();
        }
    }

    /// <summary>How many times the user records of an aggregate that landed on an unexpected shard are sent again.</summary>
    private const int MaxRedirects = 2;

    private readonly List<Pending> _aggregateMembersPendingResend = [];

    private int _readyRecords;

    private int ReadyRecordCount() => _readyRecords + OpenAggregateCount();

    private int OpenAggregateCount()
    {
        int count = 0;
        foreach (var aggregator in _aggregators.Values)
        {
            count += aggregator.Count;
        }

        return count;
    }

    private long NextDue()
    {
        long due = long.MaxValue;
        if (_lingerStart >= 0)
        {
            due = _lingerStart + (long)(_options.Linger.TotalSeconds * _time.TimestampFrequency);
        }

        foreach (var (_, retryDue) in _retries)
        {
            due = Math.Min(due, retryDue);
        }

        return due;
    }

    private async ValueTask AcceptAsync(Pending pending)
    {
        if (_lingerStart < 0)
        {
            _lingerStart = _time.GetTimestamp();
        }

        if (!_options.AggregationEnabled || pending.Length + KplFormat.Overhead + pending.KeyBytes + 16 > _options.AggregationMaxSize)
        {
            EnqueueReady(Unit.Single(pending));
            return;
        }

        if (_shardMapStale || _time.GetElapsedTime(_shardMapLoaded) >= _options.ShardMapRefreshInterval)
        {
            await RefreshShardMapAsync().ConfigureAwait(false);
        }

        UInt128 hashKey = KinesisHashKey.Of(pending.PartitionKey, pending.ExplicitHashKey);
        string? shard = _shardMap?.Find(hashKey);
        if (shard is null)
        {
            EnqueueReady(Unit.Single(pending));
            return;
        }

        if (!_aggregators.TryGetValue(shard, out var aggregator))
        {
            aggregator = new KplAggregateBuilder(_options.AggregationMaxSize);
            _aggregators.Add(shard, aggregator);
            _aggregateMembers.Add(shard, []);
        }

        if (!aggregator.TryAdd(pending.Span, pending.PartitionKey, pending.ExplicitHashKey))
        {
            CloseAggregate(shard, aggregator);
            aggregator.TryAdd(pending.Span, pending.PartitionKey, pending.ExplicitHashKey);
        }

        _aggregateMembers[shard].Add(pending);
    }

    private async ValueTask RefreshShardMapAsync()
    {
        _shardMapLoaded = _time.GetTimestamp();
        _shardMapStale = false;
        try
        {
            var shards = await _client.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = _stream.StreamName, StreamArn = _stream.StreamArn }, _stop.Token).ConfigureAwait(false);
            _shardMap = ShardMap.From(shards);
        }
        catch (KinesisException)
        {
            // Without a shard map records are sent unaggregated; the map is tried again at the next refresh.
            _shardMap = null;
        }

        // Aggregates built for the old map are closed so no aggregate mixes shards of two maps.
        CloseAllAggregates();
    }

    private void CloseAllAggregates()
    {
        foreach (var (shard, aggregator) in _aggregators)
        {
            if (aggregator.Count > 0)
            {
                CloseAggregate(shard, aggregator);
            }
        }
    }

    private void CloseAggregate(string shard, KplAggregateBuilder aggregator)
    {
        var members = _aggregateMembers[shard];
        if (members.Count == 1)
        {
            EnqueueReady(Unit.Single(members[0]));
        }
        else
        {
            byte[] data = new byte[aggregator.Size];
            aggregator.WriteTo(data);
            EnqueueReady(Unit.Aggregate(data, aggregator.AggregateExplicitHashKey, shard, [.. members]));
        }

        members.Clear();
        aggregator.Clear();
    }

    private void EnqueueReady(Unit unit)
    {
        if (_lingerStart < 0)
        {
            _lingerStart = _time.GetTimestamp();
        }

        _ready.Enqueue(unit);
        _readyRecords += unit.UserRecordCount;
    }

    private bool FullBatchReady()
    {
        if (_ready.Count >= _options.MaxBatchRecords)
        {
            return true;
        }

        long bytes = 0;
        foreach (var unit in _ready)
        {
            bytes += unit.Size;
            if (bytes > _options.MaxBatchBytes)
            {
                return true;
            }
        }

        return false;
    }

    private List<Unit> TakeBatch()
    {
        var batch = new List<Unit>(Math.Min(_ready.Count, _options.MaxBatchRecords));
        long bytes = 0;
        while (_ready.Count > 0 && batch.Count < _options.MaxBatchRecords)
        {
            var next = _ready.Peek();
            if (batch.Count > 0 && bytes + next.Size > _options.MaxBatchBytes)
            {
                break;
            }

            _ready.Dequeue();
            _readyRecords -= next.UserRecordCount;
            bytes += next.Size;
            batch.Add(next);
        }

        if (_ready.Count == 0)
        {
            _lingerStart = OpenAggregateCount() > 0 ? _time.GetTimestamp() : -1;
        }

        return batch;
    }

    private async Task<BatchOutcome> SendBatchAsync(List<Unit> batch)
    {
        var entries = new KinesisPutRecordsEntry[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            var unit = batch[i];
            unit.Attempts++;
            entries[i] = new KinesisPutRecordsEntry(unit.Data.AsMemory(0, unit.Length), unit.PartitionKey, unit.ExplicitHashKey);
        }

        long started = _time.GetTimestamp();
        try
        {
            var response = await _client.PutRecordsAsync(
                new KinesisPutRecordsRequest { StreamName = _stream.StreamName, StreamArn = _stream.StreamArn, Records = entries },
                _stop.Token).ConfigureAwait(false);
            return new BatchOutcome(batch, response, null, _time.GetElapsedTime(started));
        }
        catch (KinesisException exception)
        {
            return new BatchOutcome(batch, null, exception, _time.GetElapsedTime(started));
        }
    }

    private void Settle(BatchOutcome outcome)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _latencyTicks, outcome.Elapsed.Ticks);
        KinesisTelemetry.ProducerRequests.Add(1);
        KinesisTelemetry.ProducerRequestDuration.Record(outcome.Elapsed.TotalSeconds);
        var batch = outcome.Batch;
        int retryCount = 0;
        int retryAttempts = 1;
        for (int i = 0; i < batch.Count; i++)
        {
            var unit = batch[i];
            string? code;
            string? message;
            if (outcome.Failure is { } failure)
            {
                code = failure.ErrorCode;
                message = failure.Message;
                if (!failure.IsRetryable)
                {
                    GiveUp(unit, code, message);
                    continue;
                }
            }
            else
            {
                var result = outcome.Response!.Records[i];
                if (result.IsSuccess)
                {
                    Succeeded(unit, result.ShardId);
                    continue;
                }

                code = result.ErrorCode!;
                message = result.ErrorMessage ?? code;
            }

            if (code == KinesisErrors.ProvisionedThroughputExceeded)
            {
                Interlocked.Increment(ref _throttles);
                KinesisTelemetry.ProducerThrottles.Add(1);
            }

            if (unit.Attempts >= _options.MaxRecordAttempts)
            {
                GiveUp(unit, code, message);
                continue;
            }

            Interlocked.Increment(ref _retryCount);
            KinesisTelemetry.ProducerRetries.Add(1);
            retryAttempts = Math.Max(retryAttempts, unit.Attempts);
            _retries.Add((unit, long.MinValue));
            retryCount++;
        }

        if (retryCount > 0)
        {
            // One backoff per failed call, so the records that failed together are resent together.
            double ceiling = Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks * Math.Pow(2, Math.Min(retryAttempts - 1, 30)));
            long due = _time.GetTimestamp() + (long)(ceiling * Random.Shared.NextDouble() / TimeSpan.TicksPerSecond * _time.TimestampFrequency);
            for (int i = _retries.Count - retryCount; i < _retries.Count; i++)
            {
                _retries[i] = (_retries[i].Unit, due);
            }
        }
    }

    private void Succeeded(Unit unit, string? shardId)
    {
        Interlocked.Increment(ref _kinesisRecords);
        Interlocked.Add(ref _records, unit.UserRecordCount);
        Interlocked.Add(ref _bytes, unit.UserBytes);
        KinesisTelemetry.ProducerRecords.Add(unit.UserRecordCount);
        KinesisTelemetry.ProducerBytes.Add(unit.UserBytes);
        if (unit.Members is { } members && shardId is not null && unit.PredictedShard is not null
            && !string.Equals(shardId, unit.PredictedShard, StringComparison.Ordinal)
            && members[0].Redirects < MaxRedirects)
        {
            // The shard map was stale (a reshard): consumers drop aggregates whose records fall outside the
            // shard, so the user records are sent again with a fresh map, as the KPL does. This copy stays.
            Interlocked.Add(ref _records, -unit.UserRecordCount);
            Interlocked.Add(ref _bytes, -unit.UserBytes);
            _shardMapStale = true;
            foreach (var member in members)
            {
                _aggregateMembersPendingResend.Add(member with { Redirects = member.Redirects + 1 });
            }

            return;
        }

        unit.Release();
    }

    private void GiveUp(Unit unit, string code, string message)
    {
        if (unit.Members is { } members)
        {
            foreach (var member in members)
            {
                AddFailure(member.Span.ToArray(), member.PartitionKey, member.ExplicitHashKey, code, message, unit.Attempts);
            }
        }
        else
        {
            AddFailure(unit.Data.AsSpan(0, unit.Length).ToArray(), unit.PartitionKey, unit.ExplicitHashKey, code, message, unit.Attempts);
        }

        Interlocked.Add(ref _failureCount, unit.UserRecordCount);
        KinesisTelemetry.ProducerFailures.Add(unit.UserRecordCount);
        unit.Release();
    }

    private void AddFailure(byte[] data, string partitionKey, string? explicitHashKey, string code, string message, int attempts)
    {
        lock (_failuresLock)
        {
            _failures.Add(new KinesisProducerFailure(data, partitionKey, explicitHashKey, code, message, attempts));
        }
    }

    /// <summary>A user record copied into the buffer (or a flush marker).</summary>
    private readonly record struct Pending(byte[]? Data, int Length, string PartitionKey, string? ExplicitHashKey, int KeyBytes, TaskCompletionSource? FlushMarker, int Redirects = 0)
    {
        public ReadOnlySpan<byte> Span => Data.AsSpan(0, Length);

        public void Release()
        {
            if (Data is { Length: > 0 } data)
            {
                ArrayPool<byte>.Shared.Return(data);
            }
        }
    }

    /// <summary>One Kinesis record to send: a user record, or an aggregate of several.</summary>
    private sealed class Unit
    {
        private Unit(byte[] data, int length, string partitionKey, string? explicitHashKey, Pending[]? members, string? predictedShard, int userRecordCount, long userBytes, Pending single)
        {
            Data = data;
            Length = length;
            PartitionKey = partitionKey;
            ExplicitHashKey = explicitHashKey;
            Members = members;
            PredictedShard = predictedShard;
            UserRecordCount = userRecordCount;
            UserBytes = userBytes;
            SingleRecord = single;
        }

        public byte[] Data { get; }

        public int Length { get; }

        public string PartitionKey { get; }

        public string? ExplicitHashKey { get; }

        public Pending[]? Members { get; }

        public string? PredictedShard { get; }

        public int UserRecordCount { get; }

        public long UserBytes { get; }

        public int Attempts { get; set; }

        public long Size => Length + Encoding.UTF8.GetByteCount(PartitionKey);

        private Pending SingleRecord { get; }

        public static Unit Single(Pending pending) =>
            new(pending.Data ?? [], pending.Length, pending.PartitionKey, pending.ExplicitHashKey, null, null, 1, pending.Length + pending.KeyBytes, pending);

        public static Unit Aggregate(byte[] data, string explicitHashKey, string shard, Pending[] members)
        {
            long bytes = 0;
            foreach (var member in members)
            {
                bytes += member.Length + member.KeyBytes;
            }

            return new(data, data.Length, KplFormat.AggregatePartitionKey, explicitHashKey, members, shard, members.Length, bytes, default);
        }

        public void Release()
        {
            if (Members is { } members)
            {
                foreach (var member in members)
                {
                    member.Release();
                }
            }
            else
            {
                SingleRecord.Release();
            }
        }
    }

    private sealed record BatchOutcome(List<Unit> Batch, KinesisPutRecordsResponse? Response, KinesisException? Failure, TimeSpan Elapsed);
}
