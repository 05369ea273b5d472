using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>Extension methods that adapt sources.</summary>
public static class EventSourceExtensions
{
    /// <summary>
    /// Decodes the raw records of <paramref name="source"/> with <paramref name="decoder"/>. Records that fail to
    /// decode travel on as dead letters of their batch with the decoder's message and the raw bytes.
    /// </summary>
    /// <typeparam name="T">The event type.</typeparam>
    /// <param name="source">The raw source.</param>
    /// <param name="decoder">The decoder.</param>
    /// <returns>A source of decoded events with the same partitions and positions.</returns>
    public static IEventSource<T> Decode<T>(this IEventSource<RawRecord> source, IEventDecoder<T> decoder)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(decoder);
        return new DecodingSource<T>(source, decoder);
    }

    private sealed class DecodingSource<T>(IEventSource<RawRecord> inner, IEventDecoder<T> decoder) : IEventSource<T>
    {
        public bool CanResume => inner.CanResume;

        public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in inner.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
            {
                yield return DecodeBatch(batch);
            }
        }

        private RecordBatch<T> DecodeBatch(RecordBatch<RawRecord> batch)
        {
            var raw = batch.Records.Span;
            var decoded = new StreamRecord<T>[raw.Length];
            List<DeadLetter>? deadLetters = batch.DeadLetters.Count > 0 ? [.. batch.DeadLetters] : null;
            int count = 0;
            foreach (ref readonly var record in raw)
            {
                if (decoder.TryDecode(record.Value, out var value, out var error))
                {
                    decoded[count++] = new StreamRecord<T>(value, record.Sequence, record.SubSequence);
                }
                else
                {
                    (deadLetters ??= []).Add(new DeadLetter(
                        new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence),
                        error.Reason,
                        error.Message,
                        record.Value.Data));
                }
            }

            return new RecordBatch<T>(
                batch.PartitionId,
                decoded.AsMemory(0, count),
                deadLetters,
                batch.EndPosition,
                batch.IsEndOfPartition,
                batch.BehindLatest);
        }
    }
}
