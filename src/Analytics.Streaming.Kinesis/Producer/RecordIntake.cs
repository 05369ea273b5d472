using System.Buffers;
using System.Text;
using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The intake stage of the producer: validates a user record, copies it into a pooled array and hands it to the pump,
/// within a budget of <see cref="KinesisProducerOptions.MaxBufferedRecords"/> records held by the producer at once.
/// </summary>
/// <remarks>
/// The budget covers a record from the moment it is accepted until it is written or given up on: <see cref="Release"/>
/// gives it back. When it is spent, <see cref="AddAsync"/> waits and <see cref="TryAdd"/> refuses. Thread-safe.
/// </remarks>
internal sealed class RecordIntake : IDisposable
{
    private readonly KinesisProducerOptions _options;
    private readonly ChannelWriter<ProducerSignal> _pump;
    private readonly SemaphoreSlim _capacity;
    private readonly CancellationTokenSource _closing = new();
    private readonly object _gate = new();
    private Exception? _failure;
    private bool _closed;

    public RecordIntake(KinesisProducerOptions options, ChannelWriter<ProducerSignal> pump)
    {
        _options = options;
        _pump = pump;
        _capacity = new SemaphoreSlim(options.MaxBufferedRecords, options.MaxBufferedRecords);
    }

    /// <summary>Gets a value indicating whether the budget is spent (the pump then sends without waiting for linger).</summary>
    public bool IsFull => _capacity.CurrentCount == 0;

    public async ValueTask AddAsync(ReadOnlyMemory<byte> data, string partitionKey, string? explicitHashKey, object? owner, CancellationToken cancellationToken)
    {
        var record = Copy(data.Span, partitionKey, explicitHashKey, owner);
        try
        {
            if (!_capacity.Wait(0, CancellationToken.None))
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
                try
                {
                    await _capacity.WaitAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw Closed();
                }
            }
        }
        catch
        {
            record.Release();
            throw;
        }

        Submit(record);
    }

    public bool TryAdd(ReadOnlySpan<byte> data, string partitionKey, string? explicitHashKey)
    {
        var record = Copy(data, partitionKey, explicitHashKey, owner: null);
        if (!_capacity.Wait(0))
        {
            record.Release();
            ThrowIfClosed();
            return false;
        }

        Submit(record);
        return true;
    }

    /// <summary>Hands a flush marker to the pump behind every record accepted before it.</summary>
    public void Flush(TaskCompletionSource marker)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            _pump.TryWrite(ProducerSignal.ForFlush(marker));
        }
    }

    /// <summary>Gives back the budget of records that left the producer.</summary>
    public void Release(int records) => _capacity.Release(records);

    /// <summary>
    /// Refuses every record from now on (waiting callers get <see cref="ObjectDisposedException"/>, or the pump's
    /// failure); with a <paramref name="finalFlush"/>, hands it to the pump behind the last record accepted.
    /// </summary>
    /// <returns><see langword="false"/> when the intake was closed already (the final flush was not handed on).</returns>
    public bool Close(TaskCompletionSource? finalFlush = null, Exception? failure = null)
    {
        bool first;
        lock (_gate)
        {
            first = !_closed;
            if (first && finalFlush is not null)
            {
                _pump.TryWrite(ProducerSignal.ForFlush(finalFlush));
            }

            _closed = true;
            _failure ??= failure;
        }

        _closing.Cancel();
        return first;
    }

    public void Dispose()
    {
        _closing.Dispose();
        _capacity.Dispose();
    }

    private void Submit(in ProducerRecord record)
    {
        lock (_gate)
        {
            if (!_closed)
            {
                _pump.TryWrite(ProducerSignal.ForRecord(record));
                return;
            }
        }

        _capacity.Release();
        record.Release();
        throw Closed();
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closed))
        {
            throw Closed();
        }
    }

    private Exception Closed() => _failure is { } failure
        ? new KinesisProducerException("The producer's send loop failed; see the inner exception.", failure)
        : new ObjectDisposedException(nameof(KinesisProducer), "The producer is disposed.");

    private ProducerRecord Copy(ReadOnlySpan<byte> data, string partitionKey, string? explicitHashKey, object? owner)
    {
        ThrowIfClosed();
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

        if (explicitHashKey is not null)
        {
            // The service takes only its own form (no leading zeros) and refuses a whole PutRecords call for one key.
            explicitHashKey = KinesisHashKey.TryParse(explicitHashKey, out var hashKey)
                ? KinesisHashKey.Format(hashKey)
                : throw new ArgumentException($"The explicit hash key '{explicitHashKey}' is not a decimal number from 0 to 2^128-1.", nameof(explicitHashKey));
        }

        byte[] copy = data.Length == 0 ? [] : ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(copy);
        return new ProducerRecord(copy, data.Length, partitionKey, explicitHashKey, keyBytes, owner);
    }
}
