using Analytics.Streaming.Kinesis.Firehose;

namespace Analytics.Streaming.Kinesis;

/// <summary>Dead-letter sinks that send each dead letter as a <see cref="DeadLetterRecord"/> to a Firehose delivery stream or a Kinesis data stream.</summary>
/// <remarks>
/// Either sink's flush returns when the service accepted every record written before it, so the pipeline checkpoints
/// past dead letters only once they are on the stream; a record that cannot be delivered after the retries makes the
/// flush throw, and the pipeline stops without checkpointing past the records the sink held (never a silent drop). The
/// replay then sends them again: dead letters are delivered at least once (repeats share position and error code).
/// </remarks>
public static class DeadLetterStreamSinks
{
    /// <summary>
    /// A sink that delivers dead letters to a Firehose delivery stream (which can store them in S3, with its own error
    /// prefix), newline-delimited, with <see cref="FirehoseSink{T}"/>'s batching and retries.
    /// </summary>
    /// <param name="client">The Firehose client (shared; not disposed by the sink).</param>
    /// <param name="options">The sink's settings (delivery stream, batch sizes, retries).</param>
    /// <returns>The sink; dispose it after the pipeline.</returns>
    public static ISink<DeadLetter> Firehose(IFirehoseClient client, FirehoseSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = options.TimeProvider ?? TimeProvider.System;
        int max = FirehoseSinkOptions.MaxRecordSize - (options.AppendNewline ? 1 : 0);
        return new FirehoseSink<DeadLetter>(client, options, (letter, output) => DeadLetterRecord.Write(letter, time.GetUtcNow(), output, max));
    }

    /// <summary>
    /// A sink that writes dead letters to a Kinesis data stream through a producer, with the source partition of each
    /// dead letter as partition key (dead letters of one source shard stay in order on one target shard).
    /// </summary>
    /// <param name="producer">The producer (not disposed by the sink: it may serve other writers). The sink's flush reports the failures of its own records, and other writers' flushes never take them.</param>
    /// <param name="timeProvider">The clock for the arrival timestamps; <see langword="null"/> for the system clock.</param>
    /// <returns>The sink.</returns>
    /// <exception cref="ArgumentException">The producer's <see cref="KinesisProducerOptions.MaxRecordSize"/> leaves less than 8 KiB for a dead letter.</exception>
    public static ISink<DeadLetter> KinesisStream(KinesisProducer producer, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(producer);

        // A record holds data and partition key together (a source partition id, at most 256 characters of UTF-8).
        int maxRecordBytes = producer.MaxRecordSize - (256 * 4);
        if (maxRecordBytes < 8 * 1024)
        {
            throw new ArgumentException($"The producer takes records of at most {producer.MaxRecordSize} bytes (KinesisProducerOptions.MaxRecordSize); a dead letter needs at least {(8 * 1024) + (256 * 4)}.", nameof(producer));
        }

        return new KinesisDeadLetterSink(producer, timeProvider ?? TimeProvider.System, maxRecordBytes);
    }

    private sealed class KinesisDeadLetterSink(KinesisProducer producer, TimeProvider time, int maxRecordBytes) : ISink<DeadLetter>
    {
        private readonly PooledBufferWriter _buffer = new(4096);

        public async ValueTask WriteAsync(ReadOnlyMemory<DeadLetter> items, CancellationToken cancellationToken)
        {
            for (int i = 0; i < items.Length; i++)
            {
                var letter = items.Span[i];
                _buffer.Clear();
                DeadLetterRecord.Write(letter, time.GetUtcNow(), _buffer, maxRecordBytes);
                string key = letter.Position.PartitionId.Length is > 0 and <= 256 ? letter.Position.PartitionId : "dead-letters";
                await producer.AddOwnedAsync(_buffer.WrittenMemory, key, owner: this, cancellationToken).ConfigureAwait(false);
            }
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken) => await producer.FlushOwnedAsync(owner: this, cancellationToken).ConfigureAwait(false);

        public ValueTask DisposeAsync()
        {
            _buffer.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
