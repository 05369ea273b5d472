using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Analytics.Streaming;

/// <summary>One event produced by <c>SelectMany</c>, with where it came from.</summary>
/// <typeparam name="TItem">The event type after the expansion.</typeparam>
/// <param name="Item">The event.</param>
/// <param name="Owner">The index of its source record in the batch being processed.</param>
/// <param name="Ticks">The event time its source record got before the expansion (when the time was chosen before it).</param>
internal readonly record struct Expanded<TItem>(TItem Item, int Owner, long Ticks);

/// <summary>The start of the operators after a <c>SelectMany</c>: the item, with the event time of its source record when that was chosen before the expansion.</summary>
internal readonly struct ExpandedChain<TItem>(bool inheritTime) : IEventChain<Expanded<TItem>, TItem>
{
    private readonly bool _inheritTime = inheritTime;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in Expanded<TItem> source, ref long ticks, out TItem value)
    {
        value = source.Item;
        if (_inheritTime)
        {
            ticks = source.Ticks;
        }

        return true;
    }
}

/// <summary>
/// A flat-map in front of the windows (<c>SelectMany</c>): runs the operators before it on each source record, turns
/// the result into zero or more items, and hands them to the window stage as one batch of the same partition.
/// </summary>
/// <remarks>
/// <para>
/// Every item keeps its source record's position, and the batch keeps the source batch's end position, so checkpoints,
/// replays and resume positions are exactly those of the source: the items of one record are processed, replayed or
/// skipped together. A late item reaches the late output as its source record, once per record and batch.
/// </para>
/// <para>
/// The counts of the receipt are those of the items; a source record that yields no item (filtered before the
/// expansion, or expanded to nothing) counts as filtered, or as replayed when the restored checkpoint covers it.
/// </para>
/// </remarks>
internal sealed class ExpandingProcessor<TSource, TEvent, TItem, TChain, TKey, TResult> : WrappingProcessor<TSource, Expanded<TItem>, TKey, TResult>
    where TChain : struct, IEventChain<TSource, TEvent>
{
    private readonly Func<TEvent, IEnumerable<TItem>?> _expand;
    private readonly Output _output = new();
#pragma warning disable IDE0044 // Not readonly: calls on a readonly field of a non-readonly struct would copy it each time.
    private TChain _chain;
#pragma warning restore IDE0044
    private StreamRecord<Expanded<TItem>>[] _items = [];

    public ExpandingProcessor(TChain chain, Func<TEvent, IEnumerable<TItem>?> expand, WindowProcessor<Expanded<TItem>, TKey, TResult> inner)
        : base(inner)
    {
        _chain = chain;
        _expand = expand;
    }

    public override BatchReceipt Process(RecordBatch<TSource> batch, IWindowOutput<TSource, TKey, TResult> output)
    {
        // The operators before the expansion and the expansion itself run in the code of the stage's profile slot (the
        // inner engine's: both are made from the stage's settings).
        int count;
        List<DeadLetter>? failures = null;
        var replayThrough = Inner.ReplayThrough(batch.PartitionId);
        var (empty, emptyReplayed) = !RuntimeFeature.IsDynamicCodeSupported ? Expand<ProfileSlots.Slot0>(batch, replayThrough, out count, ref failures) : ProfileSlot switch
        {
            1 => Expand<ProfileSlots.Slot1>(batch, replayThrough, out count, ref failures),
            2 => Expand<ProfileSlots.Slot2>(batch, replayThrough, out count, ref failures),
            3 => Expand<ProfileSlots.Slot3>(batch, replayThrough, out count, ref failures),
            _ => Expand<ProfileSlots.Slot0>(batch, replayThrough, out count, ref failures),
        };

        // Records whose operators or expansion threw travel as the batch's dead letters: the window stage emits and
        // counts them, or counts them as replays when the restored checkpoint covers them.
        var expanded = new RecordBatch<Expanded<TItem>>(
            batch.PartitionId,
            _items.AsMemory(0, count),
            failures is null ? batch.DeadLetters : [.. batch.DeadLetters, .. failures],
            batch.EndPosition,
            batch.IsEndOfPartition,
            batch.BehindLatest);
        _output.Begin(output, batch);
        try
        {
            var receipt = Inner.Process(expanded, _output);
            return receipt with { Filtered = receipt.Filtered + empty, Replayed = receipt.Replayed + emptyReplayed };
        }
        finally
        {
            _output.End();
            _items.AsSpan(0, count).Clear();
        }
    }

    public override int AdvanceTime(IWindowOutput<TSource, TKey, TResult> output)
    {
        _output.Begin(output, null);
        return Inner.AdvanceTime(_output);
    }

    public override int AdvanceWatermark(DateTimeOffset watermark, IWindowOutput<TSource, TKey, TResult> output)
    {
        _output.Begin(output, null);
        return Inner.AdvanceWatermark(watermark, _output);
    }

    public override int Complete(IWindowOutput<TSource, TKey, TResult> output)
    {
        _output.Begin(output, null);
        return Inner.Complete(_output);
    }

    /// <summary>
    /// Expands the batch's records into <c>_items</c>; returns how many records gave no item (apart from those at or
    /// before <paramref name="replayThrough"/>, which a restored checkpoint covers, counted on their own), and the number
    /// of items. A record whose operators or expansion throw gives no item and a dead letter in <paramref name="failures"/>.
    /// </summary>
    private (int Empty, int EmptyReplayed) Expand<TSlot>(RecordBatch<TSource> batch, StreamPosition? replayThrough, out int count, ref List<DeadLetter>? failures)
    {
        var records = batch.Records.Span;
        count = 0;
        int empty = 0;
        int emptyReplayed = 0;
        int before = 0;
        int i = 0;

        // One try around the loop, not one per record. Unlike the window engines' loops (see WindowEngine.RejectFailure),
        // this one keeps its state in locals across the try: each record already costs a delegate call and a collection.
        while (true)
        {
            try
            {
                for (; i < records.Length; i++)
                {
                    ref readonly var record = ref records[i];

                    // A time chosen before the expansion is a step of the chain and sets the ticks; without one they stay
                    // unused (the items' chain reads its own time, or the window stage takes the processing time).
                    long ticks = 0;
                    before = count;
                    if (_chain.TryApply<TSlot>(in record.ValueRef, ref ticks, out TEvent value))
                    {
                        switch (_expand(value))
                        {
                            case TItem[] array:
                                count = Add(array, in record, i, ticks, count);
                                break;
                            case List<TItem> list:
                                count = Add(CollectionsMarshal.AsSpan(list), in record, i, ticks, count);
                                break;
                            case { } items:
                                foreach (var item in items)
                                {
                                    count = Add([item], in record, i, ticks, count);
                                }

                                break;
                        }
                    }

                    if (count == before)
                    {
                        if (replayThrough is { } cut && new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence).CompareTo(cut) <= 0)
                        {
                            emptyReplayed++;
                        }
                        else
                        {
                            empty++;
                        }
                    }
                }

                return (empty, emptyReplayed);
            }
            catch (Exception ex)
            {
                if (!ThrowsOn<TSlot>(records[i]))
                {
                    throw;
                }

                // The items the record gave before its expansion threw are taken back: the record is one dead letter.
                _items.AsSpan(before, count - before).Clear();
                count = before;
                (failures ??= []).Add(DeadLetter.SelectorFailed(new StreamPosition(batch.PartitionId, records[i].Sequence, records[i].SubSequence), ex));
                i++;
            }
        }
    }

    /// <summary>Whether the operators and the expansion throw again on a record at which the loop caught an exception.</summary>
    private bool ThrowsOn<TSlot>(in StreamRecord<TSource> record)
    {
        try
        {
            long ticks = 0;
            if (_chain.TryApply<TSlot>(in record.ValueRef, ref ticks, out TEvent value) && _expand(value) is { } items)
            {
                foreach (var item in items)
                {
                }
            }

            return false;
        }
#pragma warning disable CA1031 // Any exception of user code on this record makes it a dead letter.
        catch (Exception)
        {
            return true;
        }
#pragma warning restore CA1031
    }

    private int Add(ReadOnlySpan<TItem> items, in StreamRecord<TSource> record, int owner, long ticks, int count)
    {
        if (_items.Length - count < items.Length)
        {
            Array.Resize(ref _items, Math.Max(count + items.Length, Math.Max(16, _items.Length * 2)));
        }

        foreach (ref readonly var item in items)
        {
            _items[count++] = new StreamRecord<Expanded<TItem>>(new Expanded<TItem>(item, owner, ticks), record.Sequence, record.SubSequence);
        }

        return count;
    }

    /// <summary>Passes results and dead letters on; turns late items back into their source records.</summary>
    private sealed class Output : IWindowOutput<Expanded<TItem>, TKey, TResult>
    {
        private IWindowOutput<TSource, TKey, TResult> _target = null!;
        private RecordBatch<TSource>? _batch;
        private int _lastLateOwner = -1;

        public void Begin(IWindowOutput<TSource, TKey, TResult> target, RecordBatch<TSource>? batch)
        {
            _target = target;
            _batch = batch;
            _lastLateOwner = -1;
        }

        public void End() => _batch = null;

        public void OnResult(in WindowResult<TKey, TResult> result) => _target.OnResult(result);

        public void OnDeadLetter(DeadLetter deadLetter) => _target.OnDeadLetter(deadLetter);

        public void OnLateRecord(in LateRecord<Expanded<TItem>> record)
        {
            var batch = _batch ?? throw new InvalidOperationException("A window stage reported a late record outside of a batch; this is a bug, please report it.");
            int owner = record.Event.Owner;
            if (owner == _lastLateOwner)
            {
                return;
            }

            _lastLateOwner = owner;
            _target.OnLateRecord(new LateRecord<TSource>(batch.Records.Span[owner].Value, record.Position, record.EventTime, record.Watermark));
        }
    }
}
