using System.Collections.Concurrent;

namespace Analytics.Streaming;

/// <summary>
/// The records an aggregator threw on (<see cref="AggregationFailedException"/>): a pipeline remembers them for every
/// processor it creates (its runs, a Lambda handler's invocations), and when one reads such a record again it moves it
/// from the batch's records to its dead letters (<see cref="DeadLetterReason.AggregatorFailed"/>), in front of the
/// engine, which counts and checkpoints it as any dead letter a source delivers. The window results that the aggregator
/// of a stage fed by windows threw on are remembered by their ids (positions there only number a run's results): that
/// stage's handoff sends them to the dead letters instead of to the stage.
/// </summary>
internal sealed class SetAsideRecords
{
    private readonly ConcurrentDictionary<StreamPosition, DeadLetter> _records = new();
    private readonly ConcurrentDictionary<(int Stage, string Id), DeadLetter> _results = new();
    private int _count; // ConcurrentDictionary.IsEmpty takes every lock when it is empty, the usual case
    private int _resultCount;

    /// <summary>Gets a value indicating whether any window result is set aside.</summary>
    public bool HasResults => Volatile.Read(ref _resultCount) > 0;

    /// <summary>
    /// Remembers the record, or the window result, of a failure. A result is remembered with the place of its stage (1
    /// for the second window stage), which tells apart results of two stages that have the same key and window.
    /// </summary>
    public void Remember(AggregationFailedException failure)
    {
        var exception = failure.InnerException ?? failure;
        if (failure.ResultId is not { } id)
        {
            if (_records.TryAdd(failure.Position, DeadLetter.AggregatorFailed(failure.Position, exception)))
            {
                Interlocked.Increment(ref _count);
            }
        }
        else if (_results.TryAdd((failure.Stage, id), DeadLetter.OfResult(
            id,
            DeadLetterReason.AggregatorFailed,
            $"The aggregator of a window stage fed by windows threw {exception.GetType().FullName}: {exception.Message} on the result {id}; the result is not aggregated.")))
        {
            Interlocked.Increment(ref _resultCount);
        }
    }

    /// <summary>Finds the dead letter of a window result set aside on its way to a stage; <see langword="null"/> when it is not.</summary>
    public DeadLetter? FindResult(int stage, string resultId) => _results.GetValueOrDefault((stage, resultId));

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
