using System.Collections.Concurrent;

namespace Analytics.Streaming;

/// <summary>
/// The records an aggregator threw on (<see cref="AggregationFailedException"/>): a pipeline remembers them for every
/// processor it creates (its runs, a Lambda handler's invocations), and when one reads such a record again it moves it
/// from the batch's records to its dead letters (<see cref="DeadLetterReason.AggregatorFailed"/>), in front of the
/// engine, which counts and checkpoints it as any dead letter a source delivers.
/// </summary>
internal sealed class SetAsideRecords
{
    private readonly ConcurrentDictionary<StreamPosition, DeadLetter> _records = new();
    private int _count; // ConcurrentDictionary.IsEmpty takes every lock when it is empty, the usual case

    /// <summary>Remembers the record of a failure.</summary>
    public void Remember(AggregationFailedException failure)
    {
        if (_records.TryAdd(failure.Position, DeadLetter.AggregatorFailed(failure.Position, failure.InnerException ?? failure)))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Returns the batch without the records set aside, which become its dead letters; the batch itself when it has none.</summary>
    public RecordBatch<T> Apply<T>(RecordBatch<T> batch)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return batch;
        }

        var records = batch.Records.Span;
        List<StreamRecord<T>>? kept = null;
        List<DeadLetter>? deadLetters = null;
        for (int i = 0; i < records.Length; i++)
        {
            if (_records.TryGetValue(new StreamPosition(batch.PartitionId, records[i].Sequence, records[i].SubSequence), out var deadLetter))
            {
                kept ??= [.. records[..i]];
                (deadLetters ??= [.. batch.DeadLetters]).Add(deadLetter);
            }
            else
            {
                kept?.Add(records[i]);
            }
        }

        return kept is null ? batch : new RecordBatch<T>(batch.PartitionId, kept.ToArray(), deadLetters, batch.EndPosition, batch.IsEndOfPartition, batch.BehindLatest);
    }
}
