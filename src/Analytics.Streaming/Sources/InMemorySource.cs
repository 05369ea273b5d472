using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>A finite source over batches held in memory: samples, tests, replays of captured data, benchmarks.</summary>
/// <typeparam name="T">The record value type.</typeparam>
/// <param name="batches">The batches, yielded in order.</param>
/// <remarks>
/// It resumes: records at or before a partition's resume position are left out (a batch that straddles the position
/// is cut), finished partitions are skipped, and a batch left empty by that is not yielded unless it ends its partition.
/// It announces every partition of <paramref name="batches"/> before the first batch when the batches are a
/// collection (<see cref="IReadOnlyCollection{T}"/>); a lazy sequence is announced as it goes.
/// </remarks>
public sealed class InMemorySource<T>(IEnumerable<RecordBatch<T>> batches) : IEventSource<T>
{
    private readonly IEnumerable<RecordBatch<T>> _batches = batches ?? throw new ArgumentNullException(nameof(batches));

    /// <inheritdoc />
    public bool CanResume => true;

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
    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_batches is IReadOnlyCollection<RecordBatch<T>> known)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var batch in known)
            {
                if (ids.Add(batch.PartitionId) && !context.IsFinished(batch.PartitionId))
                {
                    context.AnnouncePartitions([batch.PartitionId]);
                }
            }
        }

        foreach (var batch in _batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (context.IsFinished(batch.PartitionId))
            {
                continue;
            }

            if (Resume(batch, context.GetResumePosition(batch.PartitionId)) is { } resumed)
            {
                yield return resumed;
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>The part of a batch after <paramref name="after"/>, or null when nothing is left to deliver.</summary>
    private static RecordBatch<T>? Resume(RecordBatch<T> batch, StreamPosition? after)
    {
        if (after is not { } position || batch.EndPosition is not { } end || end.CompareTo(position) > 0 && First(batch) > position)
        {
            return batch;
        }

        var records = batch.Records.Span;
        int skip = 0;
        while (skip < records.Length && new StreamPosition(batch.PartitionId, records[skip].Sequence, records[skip].SubSequence).CompareTo(position) <= 0)
        {
            skip++;
        }

        var deadLetters = batch.DeadLetters.Where(d => d.Position.CompareTo(position) > 0).ToList();
        if (skip == records.Length && deadLetters.Count == 0 && !batch.IsEndOfPartition)
        {
            return null;
        }

        return new RecordBatch<T>(batch.PartitionId, batch.Records[skip..], deadLetters, end.CompareTo(position) > 0 ? end : position, batch.IsEndOfPartition, batch.BehindLatest);
    }

    private static StreamPosition First(RecordBatch<T> batch)
    {
        var first = batch.EndPosition!.Value;
        if (!batch.Records.IsEmpty)
        {
            var record = batch.Records.Span[0];
            first = new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence);
        }

        foreach (var deadLetter in batch.DeadLetters)
        {
            if (deadLetter.Position.CompareTo(first) < 0)
            {
                first = deadLetter.Position;
            }
        }

        return first;
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
