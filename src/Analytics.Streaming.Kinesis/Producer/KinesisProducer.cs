using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Writes records to a Kinesis stream in PutRecords batches: by count, bytes and linger time, with optional KPL
/// aggregation, resending only the records that failed, with a bounded buffer that pushes back on callers.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="AddAsync"/> and <see cref="TryAdd"/> validate and copy a record and return; the records then move through
/// stages that each do one job: the intake (validation, the buffer bound), the shard map and the aggregator (KPL
/// aggregation per shard), the batch queue (count, bytes, linger), and the sender (one PutRecords call per batch, up to
/// <see cref="KinesisProducerOptions.MaxConcurrentRequests"/> at once, retries). They may be called from any number of
/// threads. The producer holds at most <see cref="KinesisProducerOptions.MaxBufferedRecords"/> records at once (waiting,
/// aggregating or being sent); then <see cref="AddAsync"/> waits for room and <see cref="TryAdd"/> refuses.
/// </para>
/// <para>
/// Ordering: PutRecords does not keep order across failures (a failed record is resent after later ones), and
/// several calls may be in flight; set <see cref="KinesisProducerOptions.MaxConcurrentRequests"/> to 1 for the best
/// per-key order, and use <see cref="IKinesisClient.PutRecordAsync"/> with <c>SequenceNumberForOrdering</c> when strict
/// order matters. Retries and timeouts can write a record twice: consumers must be idempotent.
/// </para>
/// <para>
/// Failures: entries that fail inside a PutRecords answer (throttling, internal failure) and calls that fail as a whole
/// with a retryable error are resent per <see cref="KinesisProducerOptions.Retry"/> (exponential backoff with full
/// jitter, bounded by attempts and time). Records given up on are reported by the next <see cref="FlushAsync"/> as a
/// <see cref="KinesisProducerException"/>. <see cref="DisposeAsync"/> sends everything still buffered and waits for
/// it; it does not throw for failed records (flush first to observe them). Retries, throttling, given-up records, shard
/// map loads and resends after a reshard are logged (<see cref="KinesisProducerOptions.LoggerFactory"/>, event ids
/// 2100-2199) and counted (<see cref="KinesisTelemetry"/>).
/// </para>
/// </remarks>
public sealed class KinesisProducer : IAsyncDisposable
{
    private readonly Channel<ProducerSignal> _signals = Channel.CreateUnbounded<ProducerSignal>(new UnboundedChannelOptions { SingleReader = true });
    private readonly RecordIntake _intake;
    private readonly ProducerPump _pump;
    private readonly ProducerCounters _counters;
    private readonly ProducerFailures _failures = new();
    private readonly Task _run;
    private readonly KinesisProducerOptions _options;
    private int _disposed;

    /// <summary>Creates a producer and starts its stages.</summary>
    /// <param name="client">The Kinesis client (shared; not disposed by the producer).</param>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which and what to change.</exception>
    public KinesisProducer(IKinesisClient client, KinesisProducerOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<KinesisProducer>();
        var stream = new StreamAddress { StreamName = options.StreamName, StreamArn = options.StreamArn };
        string label = options.StreamName ?? options.StreamArn!;
        _counters = new ProducerCounters(label);
        _intake = new RecordIntake(options, _signals.Writer);
        var shardMap = new ShardMapCache(client, stream, label, options.ShardMapRefreshInterval, options.TimeProvider, logger);
        var sender = new BatchSender(client, stream, label, options.Retry, options.TimeProvider, _counters, logger);
        _pump = new ProducerPump(options, _signals, _intake, shardMap, sender, _counters, _failures, logger);
        _run = Task.Run(_pump.RunAsync);
    }

    /// <summary>Gets the largest record the producer takes (data plus UTF-8 partition key), <see cref="KinesisProducerOptions.MaxRecordSize"/>.</summary>
    internal int MaxRecordSize => _options.MaxRecordSize;

    /// <summary>Gets the running totals of this producer.</summary>
    public KinesisProducerStatistics Statistics => _counters.Snapshot;

    /// <summary>Adds a record, waiting for room when the producer holds <see cref="KinesisProducerOptions.MaxBufferedRecords"/> records.</summary>
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
    public ValueTask AddAsync(ReadOnlyMemory<byte> data, string partitionKey, string? explicitHashKey = null, CancellationToken cancellationToken = default) =>
        _intake.AddAsync(data, partitionKey, explicitHashKey, owner: null, cancellationToken);

    /// <summary>Adds a record whose failure only <paramref name="owner"/>'s flush reports (<see cref="FlushOwnedAsync"/>).</summary>
    internal ValueTask AddOwnedAsync(ReadOnlyMemory<byte> data, string partitionKey, object owner, CancellationToken cancellationToken) =>
        _intake.AddAsync(data, partitionKey, explicitHashKey: null, owner, cancellationToken);

    /// <summary>Adds a record when there is room, without waiting.</summary>
    /// <param name="data">The payload (copied before the method returns).</param>
    /// <param name="partitionKey">The partition key, 1 to 256 characters.</param>
    /// <param name="explicitHashKey">An explicit hash key (decimal); optional.</param>
    /// <returns><see langword="true"/> when the record was buffered; <see langword="false"/> when the producer is full.</returns>
    /// <exception cref="ArgumentException">The record breaks a limit (see <see cref="AddAsync"/>).</exception>
    /// <exception cref="ObjectDisposedException">The producer is disposed.</exception>
    public bool TryAdd(ReadOnlySpan<byte> data, string partitionKey, string? explicitHashKey = null) =>
        _intake.TryAdd(data, partitionKey, explicitHashKey);

    /// <summary>Sends every record added before the call and waits until each is written or given up on.</summary>
    /// <param name="cancellationToken">Cancels the wait (the records are still sent).</param>
    /// <returns>A task that completes when the records are written.</returns>
    /// <remarks>Records added while a flush drains wait for it to finish, so that a steady stream of new records cannot hold a flush back.</remarks>
    /// <exception cref="KinesisProducerException">Records failed for good since the previous flush; they are listed. The failures of a dead-letter sink sharing the producer (<see cref="DeadLetterStreamSinks.KinesisStream"/>) are that sink's flush's, never this one's.</exception>
    /// <exception cref="ObjectDisposedException">The producer is disposed.</exception>
    public Task FlushAsync(CancellationToken cancellationToken) => FlushOwnedAsync(owner: null, cancellationToken);

    /// <summary>Flushes, then throws the failures of <paramref name="owner"/>'s records (for <see langword="null"/>: those added through the public members).</summary>
    internal async Task FlushOwnedAsync(object? owner, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _intake.Flush(marker);
        await marker.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        _failures.ThrowIfAny(owner);
    }

    /// <summary>Sends everything still buffered, waits for it, and stops the producer.</summary>
    /// <returns>A task that completes when the producer has stopped.</returns>
    /// <remarks>
    /// Records that fail for good during the drain are counted (<see cref="Statistics"/>) and logged but not thrown;
    /// call <see cref="FlushAsync"/> first to observe them. A record still being retried keeps the drain waiting for
    /// as long as <see cref="KinesisProducerOptions.Retry"/> allows.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_intake.Close(drained))
        {
            try
            {
                await drained.Task.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The pump failed while draining: handled below.
            }
        }

        _signals.Writer.TryComplete();
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A failed pump has already failed every pending flush and closed the intake (AddAsync and FlushAsync
            // report it); disposing only releases what is left.
        }
        finally
        {
            _pump.Dispose();
            _intake.Dispose();
        }
    }
}
