using System.Runtime.InteropServices;

namespace Analytics.Streaming;

/// <summary>
/// Tumbling and sliding windows over slices: the time axis is cut into slices of gcd(size, slide); each event
/// updates exactly one slice of its key, and a window result merges the slices it covers. A key's slices live in one
/// sorted array pair (ids, accumulators); the newest slice is checked first, so in-order events cost one dictionary
/// lookup, one comparison and one <c>Add</c>.
/// </summary>
internal sealed class SlicingWindowProcessor<TEvent, TKey, TAggregator, TAccumulator, TResult> : WindowProcessor<TEvent, TKey, TResult>
    where TKey : notnull
    where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
{
    private readonly Dictionary<TKey, SliceList> _states = [];
    private readonly Stack<SliceList> _pool = new();
    private readonly List<KeyValuePair<TKey, SliceList>> _dirty = [];
    private readonly long _size;
    private readonly long _slide;
    private readonly long _slice;
    private readonly long _offset;
    private readonly long _endOffset;
    private readonly long _lateness;
    private readonly bool _emitUpdates;
    private readonly string _pipeline;
#pragma warning disable IDE0044 // Not readonly: calls on a readonly field of a non-readonly struct would copy it each time.
    private TAggregator _aggregator;
#pragma warning restore IDE0044
    private long _sliceCount;

    public SlicingWindowProcessor(ProcessorSettings<TEvent, TKey> settings, TAggregator aggregator)
        : base(settings)
    {
        _aggregator = aggregator;
        _size = settings.Window.Size.Ticks;
        _slide = settings.Window.Slide.Ticks;
        _slice = TimeMath.Gcd(_size, _slide);
        // Windows are aligned to the Unix epoch (plus the configured offset), not to tick zero.
        _offset = DateTimeOffset.UnixEpoch.UtcTicks + settings.Window.Offset.Ticks;

        // Window starts lie on the slide grid, so window ends lie on the same grid shifted by the size.
        _endOffset = _offset + _size;
        _lateness = settings.AllowedLatenessTicks;
        _emitUpdates = settings.EmitMode == EmitMode.OnUpdate;
        _pipeline = settings.PipelineName;
    }

    public override long OpenWindowCount => _sliceCount;

    internal override long DoneBeforeTicks => DoneBefore(WatermarkTicks);

    private protected override AssignCounts Assign(RecordBatch<TEvent> batch, long nowTicks, IWindowOutput<TEvent, TKey, TResult> output)
    {
        var records = batch.Records.Span;
        var eventTime = Settings.EventTime;
        var keySelector = Settings.KeySelector;
        long watermark = WatermarkTicks;
        long lateBefore = DoneBefore(watermark);
        long dirtyBefore = _emitUpdates ? long.MaxValue : watermark == long.MinValue ? long.MinValue : TimeMath.AlignDown(watermark, _slide, _endOffset);
        long sliceStart = long.MaxValue;
        long sliceEnd = long.MinValue;
        long slice = 0;
        long maxTicks = long.MinValue;
        int accepted = 0, late = 0, dead = 0;

        for (int i = 0; i < records.Length; i++)
        {
            ref readonly var record = ref records[i];
            long ticks = eventTime is null ? nowTicks : eventTime(record.Value).UtcTicks;
            if (!IsValidTime(ticks, nowTicks))
            {
                RejectTime(batch, record, ticks, nowTicks, output);
                dead++;
                continue;
            }

            TKey? key = keySelector(record.Value);
            if (key is null)
            {
                RejectKey(batch, record, output);
                dead++;
                continue;
            }

            if (ticks < lateBefore)
            {
                EmitLate(batch, record, ticks, output);
                late++;
                continue;
            }

            if (ticks < sliceStart || ticks >= sliceEnd)
            {
                slice = TimeMath.FloorDiv(ticks - _offset, _slice);
                sliceStart = (slice * _slice) + _offset;
                sliceEnd = sliceStart + _slice;
            }

            ref SliceList? state = ref CollectionsMarshal.GetValueRefOrAddDefault(_states, key, out _);
            var list = state ??= Rent();
            int last = list.Start + list.Count - 1;
            if (list.Count != 0 && list.Ids[last] == slice)
            {
                _aggregator.Add(ref list.Accumulators[last], record.Value);
            }
            else
            {
                AddToOtherSlice(list, slice, record.Value);
            }

            if (ticks < dirtyBefore)
            {
                MarkDirty(key, list, slice);
            }

            if (ticks > maxTicks)
            {
                maxTicks = ticks;
            }

            accepted++;
        }

        return new AssignCounts(accepted, late, dead, maxTicks);
    }

    private protected override void EmitDirty(IWindowOutput<TEvent, TKey, TResult> output)
    {
        if (_dirty.Count == 0)
        {
            return;
        }

        long watermark = WatermarkTicks;
        long notPurgedAfter = watermark == long.MinValue ? long.MinValue : TimeMath.SaturatingSubtract(watermark, _lateness);
        foreach (var (key, list) in _dirty)
        {
            long from = Math.Max(FirstEnd(list.DirtyLow) - 1, notPurgedAfter);
            long to = _emitUpdates ? LastEnd(list.DirtyHigh) : Math.Min(LastEnd(list.DirtyHigh), watermark);
            list.DirtyLow = long.MaxValue;
            list.DirtyHigh = long.MinValue;
            EmitWindows(key, list, from, to, watermark, closing: false, output);
        }

        _dirty.Clear();
    }

    private protected override void OnWatermark(long before, long after, IWindowOutput<TEvent, TKey, TResult> output)
    {
        if (after == before)
        {
            return;
        }

        bool endsCrossed = before == long.MinValue || after == long.MaxValue
            || TimeMath.AlignDown(after, _slide, _endOffset) != TimeMath.AlignDown(before, _slide, _endOffset);
        long purgeBefore = DoneBefore(after);
        if (!endsCrossed && purgeBefore == DoneBefore(before))
        {
            return;
        }

        long purgeSlice = purgeBefore == long.MaxValue ? long.MaxValue : TimeMath.FloorDiv(purgeBefore - _offset, _slice);
        foreach (var (key, list) in _states)
        {
            if (endsCrossed)
            {
                EmitWindows(key, list, before, after, after, closing: true, output);
            }

            while (list.Count > 0 && list.Ids[list.Start] < purgeSlice)
            {
                list.Accumulators[list.Start] = default!;
                list.Start++;
                list.Count--;
                _sliceCount--;
            }

            if (list.Count == 0)
            {
                _states.Remove(key);
                list.Start = 0;
                _pool.Push(list);
            }
        }
    }

    /// <summary>Emits the key's windows whose end lies in <c>(endAfter, endAtMost]</c> and that hold at least one slice.</summary>
    private void EmitWindows(TKey key, SliceList list, long endAfter, long endAtMost, long watermark, bool closing, IWindowOutput<TEvent, TKey, TResult> output)
    {
        if (list.Count == 0)
        {
            return;
        }

        int end = list.Start + list.Count;
        long first = FirstEnd(list.Ids[list.Start]);
        if (endAfter != long.MinValue)
        {
            first = Math.Max(first, TimeMath.AlignDown(endAfter, _slide, _endOffset) + _slide);
        }

        long last = LastEnd(list.Ids[end - 1]);
        if (endAtMost != long.MaxValue)
        {
            last = Math.Min(last, TimeMath.AlignDown(endAtMost, _slide, _endOffset));
        }

        int lo = list.Start;
        int hi = list.Start;
        for (long windowEnd = first; windowEnd <= last;)
        {
            long firstSlice = TimeMath.FloorDiv(windowEnd - _size - _offset, _slice);
            long lastSlice = TimeMath.FloorDiv(windowEnd - _offset, _slice) - 1;
            while (lo < end && list.Ids[lo] < firstSlice)
            {
                lo++;
            }

            if (lo == end)
            {
                break;
            }

            if (list.Ids[lo] > lastSlice)
            {
                windowEnd = Math.Max(windowEnd + _slide, FirstEnd(list.Ids[lo]));
                continue;
            }

            hi = Math.Max(hi, lo);
            while (hi < end && list.Ids[hi] <= lastSlice)
            {
                hi++;
            }

            TResult value;
            if (hi - lo == 1)
            {
                value = _aggregator.GetResult(list.Accumulators[lo]);
            }
            else
            {
                var merged = _aggregator.CreateAccumulator();
                for (int j = lo; j < hi; j++)
                {
                    _aggregator.Merge(ref merged, list.Accumulators[j]);
                }

                value = _aggregator.GetResult(merged);
            }

            var reason = closing ? EmitReason.Closed : windowEnd <= watermark ? EmitReason.LateUpdate : EmitReason.Update;
            output.OnResult(new WindowResult<TKey, TResult>(_pipeline, key, new TimeWindow(windowEnd - _size, windowEnd), value, reason));
            windowEnd += _slide;
        }
    }

    private void AddToOtherSlice(SliceList list, long slice, in TEvent value)
    {
        int end = list.Start + list.Count;
        int index = end - 1;
        while (index >= list.Start && list.Ids[index] > slice)
        {
            index--;
        }

        if (index >= list.Start && list.Ids[index] == slice)
        {
            _aggregator.Add(ref list.Accumulators[index], value);
            return;
        }

        int insertAt = index + 1;
        if (end == list.Ids.Length)
        {
            MakeRoom(list);
            insertAt -= end - (list.Start + list.Count);
            end = list.Start + list.Count;
        }

        if (insertAt < end)
        {
            Array.Copy(list.Ids, insertAt, list.Ids, insertAt + 1, end - insertAt);
            Array.Copy(list.Accumulators, insertAt, list.Accumulators, insertAt + 1, end - insertAt);
        }

        list.Ids[insertAt] = slice;
        list.Accumulators[insertAt] = _aggregator.CreateAccumulator();
        _aggregator.Add(ref list.Accumulators[insertAt], value);
        list.Count++;
        _sliceCount++;
    }

    /// <summary>Frees room at the end of the arrays: moves live entries to the front, growing the arrays when they are over half full.</summary>
    private static void MakeRoom(SliceList list)
    {
        if (list.Count * 2 > list.Ids.Length)
        {
            var ids = new long[list.Ids.Length * 2];
            var accumulators = new TAccumulator[list.Ids.Length * 2];
            Array.Copy(list.Ids, list.Start, ids, 0, list.Count);
            Array.Copy(list.Accumulators, list.Start, accumulators, 0, list.Count);
            list.Ids = ids;
            list.Accumulators = accumulators;
        }
        else
        {
            Array.Copy(list.Ids, list.Start, list.Ids, 0, list.Count);
            Array.Copy(list.Accumulators, list.Start, list.Accumulators, 0, list.Count);
            Array.Clear(list.Accumulators, list.Count, list.Start);
        }

        list.Start = 0;
    }

    private void MarkDirty(TKey key, SliceList list, long slice)
    {
        if (list.DirtyLow == long.MaxValue)
        {
            _dirty.Add(new(key, list));
        }

        list.DirtyLow = Math.Min(list.DirtyLow, slice);
        list.DirtyHigh = Math.Max(list.DirtyHigh, slice);
    }

    private SliceList Rent() => _pool.Count > 0 ? _pool.Pop() : new SliceList();

    private long SliceStartOf(long slice) => (slice * _slice) + _offset;

    /// <summary>The end of the first window that contains the slice.</summary>
    private long FirstEnd(long slice) => TimeMath.AlignUp(SliceStartOf(slice) + _slice, _slide, _endOffset);

    /// <summary>The end of the last window that contains the slice.</summary>
    private long LastEnd(long slice) => TimeMath.AlignDown(SliceStartOf(slice) + _size, _slide, _endOffset);

    /// <summary>
    /// Every event earlier than this belongs only to purged windows (end + lateness at or before the watermark):
    /// such an arriving event is late, and such a processed event is final.
    /// </summary>
    private long DoneBefore(long watermark)
    {
        if (watermark == long.MinValue || watermark == long.MaxValue)
        {
            return watermark;
        }

        return TimeMath.AlignDown(TimeMath.SaturatingSubtract(watermark, _lateness), _slide, _endOffset) + _slide - _size;
    }

    private sealed class SliceList
    {
        public long[] Ids = new long[4];
        public TAccumulator[] Accumulators = new TAccumulator[4];
        public int Start;
        public int Count;
        public long DirtyLow = long.MaxValue;
        public long DirtyHigh = long.MinValue;
    }
}
