using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>A finite source over batches held in memory: samples, tests, replays of captured data, benchmarks.</summary>
/// <typeparam name="T">The record value type.</typeparam>
/// <param name="batches">The batches, yielded in order.</param>
public sealed class InMemorySource<T>(IEnumerable<RecordBatch<T>> batches) : IEventSource<T>
{
    private readonly IEnumerable<RecordBatch<T>> _batches = batches ?? throw new ArgumentNullException(nameof(batches));

    /// <summary>
    /// Creates a source of one partition whose records are <paramref name="events"/> in order, numbered from 1,
    /// cut into batches of <paramref name="batchSize"/>. The last batch ends the partition.
    /// </summary>
    /// <param name="events">The events.</param>
    /// <param name="partitionId">The partition id; default <c>"0"</c>.</param>
    /// <param name="batchSize">Records per batch; default 500.</param>
    /// <returns>The source.</returns>
    public static InMemorySource<T> FromEvents(IEnumerable<T> events, string partitionId = "0", int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentException.ThrowIfNullOrEmpty(partitionId);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return new InMemorySource<T>(Batch(events, partitionId, batchSize));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var batch in _batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return batch;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    private static IEnumerable<RecordBatch<T>> Batch(IEnumerable<T> events, string partitionId, int batchSize)
    {
        var buffer = new List<StreamRecord<T>>(batchSize);
        long sequence = 0;
        foreach (var value in events)
        {
            buffer.Add(new StreamRecord<T>(value, SequenceNumber.FromInt64(++sequence)));
            if (buffer.Count == batchSize)
            {
                yield return new RecordBatch<T>(partitionId, buffer.ToArray());
                buffer.Clear();
            }
        }

        yield return new RecordBatch<T>(partitionId, buffer.ToArray(), isEndOfPartition: true);
    }
}
