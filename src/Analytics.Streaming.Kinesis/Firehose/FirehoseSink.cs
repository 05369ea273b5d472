using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>
/// An <see cref="ISink{T}"/> that delivers items to an Amazon Data Firehose delivery stream with PutRecordBatch:
/// batches of up to 500 records and 4,000,000 bytes by default (the service takes up to 4 MiB), resending only the records that failed, optionally newline-delimited.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// <para>
/// Each item becomes one Firehose record: <c>serialize</c> writes its bytes (for example JSON) to a buffer. Items
/// are buffered until a batch is full, then sent; <see cref="FlushAsync"/> sends the rest and returns when
/// Firehose accepted every record. As <see cref="ISink{T}"/> requires, calls are not concurrent.
/// </para>
/// <para>
/// Per-record failures (<c>ServiceUnavailableException</c>, <c>InternalFailure</c>) and retryable call failures are
/// resent per <see cref="FirehoseSinkOptions.Retry"/> (exponential backoff with full jitter, bounded by attempts and
/// time; the client's own retries happen inside each attempt); then <see cref="FirehoseDeliveryException"/> is thrown.
/// A call failure that is not retryable (a missing delivery stream) throws at once. Retries and records given up on are
/// logged (<see cref="FirehoseSinkOptions.LoggerFactory"/>, event ids 2301-2303). An item that cannot be a record
/// (over 1,000 KiB, or its serializer throws) goes to <see cref="FirehoseSinkOptions.DeadLetters"/> when set; without
/// it, <see cref="WriteAsync"/> throws. Firehose can store a record twice
/// after a timeout or an internal failure: make records carry their identity (a window result's <c>Id</c>) so
/// downstream can deduplicate.
/// </para>
/// </remarks>
public sealed class FirehoseSink<T> : ISink<T>
{
    private readonly FirehoseSinkOptions _options;
    private readonly Action<T, IBufferWriter<byte>> _serialize;
    private readonly FirehoseBatchSender _sender;
    private readonly ILogger _logger;
    private readonly PooledBufferWriter _buffer = new(64 * 1024);
    private readonly List<(int Offset, int Length)> _records = [];
    private bool _disposed;

    /// <summary>Creates the sink.</summary>
    /// <param name="client">The Firehose client (shared; not disposed by the sink).</param>
    /// <param name="options">The settings; validated here.</param>
    /// <param name="serialize">Writes one item's record bytes; must not write more than 1,000 KiB.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public FirehoseSink(IFirehoseClient client, FirehoseSinkOptions options, Action<T, IBufferWriter<byte>> serialize)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serialize);
        options.Validate();
        _options = options;
        _serialize = serialize;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FirehoseSink<T>>();
        _sender = new FirehoseBatchSender(client, options.DeliveryStreamName!, options.Retry, options.TimeProvider, _logger);
    }

    /// <summary>Gets the number of records delivered so far.</summary>
    public long DeliveredRecords => _sender.Delivered;

    /// <summary>Gets the number of records sent again after a failure so far.</summary>
    public long RetriedRecords => _sender.Retried;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Without <see cref="FirehoseSinkOptions.DeadLetters"/>: an item serializes to more than 1,000 KiB (with the newline); nothing of the call is buffered after it.</exception>
    /// <exception cref="FirehoseDeliveryException">A full batch could not be delivered.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < items.Length; i++)
        {
            int start = _buffer.WrittenCount;
            string? refusal;
            try
            {
                _serialize(items.Span[i], _buffer);
                if (_options.AppendNewline)
                {
                    _buffer.Write("\n"u8);
                }

                int size = _buffer.WrittenCount - start;
                refusal = size > FirehoseSinkOptions.MaxRecordSize
                    ? $"Item {i} of the batch serializes to {size} bytes; Firehose records are at most {FirehoseSinkOptions.MaxRecordSize} bytes (1,000 KiB)."
                    : null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && _options.DeadLetters is not null)
            {
                refusal = $"The serializer threw {ex.GetType().Name} for item {i} of the batch: {ex.Message}";
            }
            catch
            {
                _buffer.Truncate(start);
                throw;
            }

            if (refusal is not null)
            {
                _buffer.Truncate(start);
                var deadLetters = _options.DeadLetters
                    ?? throw new ArgumentException(refusal + " Set FirehoseSinkOptions.DeadLetters to send such items there and go on.", nameof(items));
                await DeadLetterAsync(deadLetters, items.Span[i], refusal, cancellationToken).ConfigureAwait(false);
                continue;
            }

            int length = _buffer.WrittenCount - start;

            if (_records.Count > 0 && (start + length > _options.MaxBatchBytes || _records.Count >= _options.MaxBatchRecords))
            {
                // The new record starts the next batch: send what precedes it.
                await SendBufferedAsync(exceptLast: length, cancellationToken).ConfigureAwait(false);
                start = _buffer.WrittenCount - length;
            }

            _records.Add((start, length));
        }
    }

    /// <inheritdoc />
    /// <exception cref="FirehoseDeliveryException">Records could not be delivered after every attempt.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_records.Count > 0)
        {
            await SendBufferedAsync(exceptLast: 0, cancellationToken).ConfigureAwait(false);
        }

        if (_options.DeadLetters is { } deadLetters)
        {
            await deadLetters.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends an item that cannot be a record to the dead letters.</summary>
    private async ValueTask DeadLetterAsync(ISink<DeadLetter> deadLetters, T item, string reason, CancellationToken cancellationToken)
    {
        byte[] payload;
        try
        {
            payload = System.Text.Encoding.UTF8.GetBytes(item?.ToString() ?? string.Empty);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            payload = [];
            reason += $" (its ToString threw {ex.GetType().Name}: {ex.Message})";
        }

        KinesisLog.FirehoseItemDeadLettered(_logger, _options.DeliveryStreamName!, reason);
        var letter = new DeadLetter(new StreamPosition("firehose:" + _options.DeliveryStreamName, SequenceNumber.Zero), DeadLetterReason.InvalidValue, reason, payload);
        await deadLetters.WriteAsync(new[] { letter }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the buffer; records not flushed are dropped (flush first).</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _buffer.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Sends every buffered record (the trailing <paramref name="exceptLast"/> bytes, the next record, stay).</summary>
    private async Task SendBufferedAsync(int exceptLast, CancellationToken cancellationToken)
    {
        var all = new ReadOnlyMemory<byte>[_records.Count];
        byte[] data = _buffer.Buffer;
        for (int i = 0; i < _records.Count; i++)
        {
            all[i] = data.AsMemory(_records[i].Offset, _records[i].Length);
        }

        await _sender.DeliverAsync(all, cancellationToken).ConfigureAwait(false);

        // Keep the bytes of the record that did not fit (if any) at the start of the buffer.
        _records.Clear();
        _buffer.KeepTail(exceptLast);
    }
}
