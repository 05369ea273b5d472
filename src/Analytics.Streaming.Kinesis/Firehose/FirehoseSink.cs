using System.Diagnostics;
using System.Buffers;

namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>
/// An <see cref="ISink{T}"/> that delivers items to an Amazon Data Firehose delivery stream with PutRecordBatch:
/// batches of up to 500 records and 4 MiB, resending only the records that failed, optionally newline-delimited.
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
/// resent with exponential backoff and full jitter up to <see cref="FirehoseSinkOptions.MaxAttempts"/> sends; then
/// <see cref="FirehoseDeliveryException"/> is thrown. Firehose can store a record twice after a timeout or an internal
/// failure: make records carry their identity (a window result's <c>Id</c>) so downstream can deduplicate.
/// </para>
/// </remarks>
public sealed class FirehoseSink<T> : ISink<T>
{
    private readonly IFirehoseClient _client;
    private readonly FirehoseSinkOptions _options;
    private readonly Action<T, IBufferWriter<byte>> _serialize;
    private readonly PooledBufferWriter _buffer = new(64 * 1024);
    private readonly List<(int Offset, int Length)> _records = [];
    private readonly TagList _tags;
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
        _client = client;
        _options = options;
        _serialize = serialize;
        _tags = new TagList { { "delivery_stream", options.DeliveryStreamName } };
    }

    /// <summary>Gets the number of records delivered so far.</summary>
    public long DeliveredRecords { get; private set; }

    /// <summary>Gets the number of records sent again after a failure so far.</summary>
    public long RetriedRecords { get; private set; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An item serializes to more than 1,000 KiB (with the newline); nothing of the call is buffered after it.</exception>
    /// <exception cref="FirehoseDeliveryException">A full batch could not be delivered.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < items.Length; i++)
        {
            int start = _buffer.WrittenCount;
            _serialize(items.Span[i], _buffer);
            if (_options.AppendNewline)
            {
                _buffer.Write("\n"u8);
            }

            int length = _buffer.WrittenCount - start;
            if (length > FirehoseSinkOptions.MaxRecordSize)
            {
                _buffer.Truncate(start);
                throw new ArgumentException($"Item {i} of the batch serializes to {length} bytes; Firehose records are at most {FirehoseSinkOptions.MaxRecordSize} bytes (1,000 KiB).", nameof(items));
            }

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

        await DeliverAsync(all, cancellationToken).ConfigureAwait(false);

        // Keep the bytes of the record that did not fit (if any) at the start of the buffer.
        _records.Clear();
        _buffer.KeepTail(exceptLast);
    }

    private async Task DeliverAsync(ReadOnlyMemory<byte>[] records, CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        IReadOnlyList<ReadOnlyMemory<byte>> pending = records;
        string lastCode = string.Empty;
        string lastMessage = string.Empty;
        KinesisException? lastFailure = null;
        for (int attempt = 1; ; attempt++)
        {
            long started = time.GetTimestamp();
            List<ReadOnlyMemory<byte>>? failed = null;
            try
            {
                var response = await _client.PutRecordBatchAsync(
                    new FirehosePutRecordBatchRequest { DeliveryStreamName = _options.DeliveryStreamName!, Records = pending },
                    cancellationToken).ConfigureAwait(false);
                KinesisTelemetry.FirehoseRequestDuration.Record(time.GetElapsedTime(started).TotalSeconds, _tags);
                for (int i = 0; i < response.RequestResponses.Count; i++)
                {
                    var result = response.RequestResponses[i];
                    if (result.IsSuccess)
                    {
                        continue;
                    }

                    failed ??= [];
                    failed.Add(pending[i]);
                    lastCode = result.ErrorCode!;
                    lastMessage = result.ErrorMessage ?? lastCode;
                }

                lastFailure = null;
            }
            catch (KinesisException exception) when (exception.IsRetryable)
            {
                failed = [.. pending];
                lastCode = exception.ErrorCode;
                lastMessage = exception.Message;
                lastFailure = exception;
            }
            catch (KinesisException exception)
            {
                throw new FirehoseDeliveryException(
                    $"PutRecordBatch to '{_options.DeliveryStreamName}' failed with {exception.ErrorCode}, which is not retryable: {exception.Message}",
                    pending.Count,
                    exception.ErrorCode,
                    exception);
            }

            int delivered = pending.Count - (failed?.Count ?? 0);
            DeliveredRecords += delivered;
            KinesisTelemetry.FirehoseRecords.Add(delivered, _tags);
            if (failed is null)
            {
                return;
            }

            if (attempt >= _options.MaxAttempts)
            {
                throw new FirehoseDeliveryException(
                    $"{failed.Count} record(s) could not be delivered to '{_options.DeliveryStreamName}' after {attempt} attempts; last error {lastCode}: {lastMessage}",
                    failed.Count,
                    lastCode,
                    lastFailure);
            }

            RetriedRecords += failed.Count;
            KinesisTelemetry.FirehoseRetries.Add(failed.Count, _tags);
            double ceiling = Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)));
            await Task.Delay(TimeSpan.FromTicks((long)(ceiling * Random.Shared.NextDouble())), time, cancellationToken).ConfigureAwait(false);
            pending = failed;
        }
    }
}
