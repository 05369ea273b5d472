using System.Buffers;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>
/// Tumbling and sliding windows over slices: the time axis is cut into slices of gcd(size, slide); each event
/// updates exactly one slice of its key, and a window result merges the slices it covers. A key's slices live in one
/// sorted array pair (ids, accumulators); the newest slice is checked first, so in-order events cost one dictionary
/// lookup, one comparison and one <c>Add</c>, and an event of the same key and slice as the one before it costs one
/// comparison and one <c>Add</c>.
/// </summary>
/// <remarks>
/// A slice also counts its records (the result's <see cref="WindowResult{TKey, TValue}.RecordCount"/>) and carries two
/// flags while a batch is processed: <c>Dirty</c> (changed after one of its windows was emitted: re-emit the windows
/// that contain it, and only those) and <c>New</c> (created in this batch: a window made only of new slices was never
/// emitted, so its first result is <see cref="EmitReason.Closed"/>, not a late update).
/// </remarks>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TEvent">The type the operators turn it into, which the windows aggregate.</typeparam>
/// <typeparam name="TChain">The fused operators.</typeparam>
/// <typeparam name="TKeyReader">Reads the key (a delegate, a static selector, or nothing for the global key).</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TAggregator">The aggregator.</typeparam>
/// <typeparam name="TAccumulator">Its accumulator.</typeparam>
/// <typeparam name="TResult">Its result.</typeparam>
internal sealed class SlicingWindowEngine<TSource, TEvent, TChain, TKeyReader, TKey, TAggregator, TAccumulator, TResult> : WindowEngine<TSource, TKey, TResult>
    where TChain : struct, IEventChain<TSource, TEvent>
    where TKeyReader : struct, IKeyReader<TEvent, TKey>
    where TKey : notnull
    where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
{
    private readonly KeyTable<TKey, KeySlices> _states = new();
    private readonly Stack<Slice[]> _pool = new();
    private readonly List<TKey> _dirty = [];
    private readonly IStateCodec<TAccumulator>? _accumulatorCodec;
    private readonly long _size;
    private readonly long _slide;
    private readonly long _slice;
    private readonly long _slicesPerSlide;
    private readonly long _slicesPerWindow;
    private readonly long _offset;
    private readonly long _endOffset;
    private readonly long _lateness;
    private readonly bool _emitUpdates;
    private readonly bool _useStacks;
    private readonly string _pipeline;
    private readonly string? _partition;
#pragma warning disable IDE0044 // Not readonly: calls on a readonly field of a non-readonly struct would copy it each time.
    private TAggregator _aggregator;
    private EventReader<TSource, TEvent, TChain, TKeyReader, TKey> _reader;
#pragma warning restore IDE0044
    private long _sliceCount;

    public SlicingWindowEngine(ProcessorSettings<TSource, TKey> settings, TChain chain, TKeyReader keyReader, TAggregator aggregator)
        : base(settings)
    {
        _reader = new(chain, keyReader);
        _aggregator = aggregator;
        _accumulatorCodec = (aggregator as IPersistentAggregator<TAccumulator>)?.AccumulatorCodec;
        _size = settings.Window.Size.Ticks;
        _slide = settings.Window.Slide.Ticks;
        _slice = TimeMath.Gcd(_size, _slide);
        _slicesPerSlide = _slide / _slice;
        _slicesPerWindow = _size / _slice;

        // Windows are aligned to the Unix epoch (plus the configured offset), not to tick zero.
        _offset = TimeMath.UnixEpochTicks + settings.Window.Offset.Ticks;

        // Window starts lie on the slide grid, so window ends lie on the same grid shifted by the size.
        _endOffset = _offset + _size;
        _lateness = settings.AllowedLatenessTicks;
        _emitUpdates = settings.EmitMode == EmitMode.OnUpdate;
        _pipeline = settings.PipelineName;
        _partition = settings.Partition;

        // Sliding windows over plain value accumulators merge through per-key two-stacks aggregates (amortized O(1)
        // merges per slide), which copy accumulators. Accumulators that are or hold references (sketches, also inside
        // the tuples of And) merge slices directly instead: a copy would share the sketch, and merging into one copy
        // would change the others.
        _useStacks = _size != _slide && !RuntimeHelpers.IsReferenceOrContainsReferences<TAccumulator>();
    }

    public override long OpenWindowCount => _sliceCount;

    internal override bool CanSnapshotState => Settings.KeyCodec is not null && _accumulatorCodec is not null;

    private protected override string StateFingerprint => Settings.Describe<TAccumulator>();

    private protected override long DoneBeforeTicks => DoneBefore(WatermarkTicks);

    private protected override void Assign<TSlot>(RecordBatch<TSource> batch, long nowTicks, IWindowOutput<TSource, TKey, TResult> output, int start)
    {
        var records = batch.Records.Span;
        long watermark = WatermarkTicks;
        long lateBefore = DoneBefore(watermark);
        long dirtyBefore = _emitUpdates ? long.MaxValue : watermark == long.MinValue ? long.MinValue : TimeMath.AlignDown(watermark, _slide, _endOffset);
        long sliceStart = long.MaxValue;
        long sliceEnd = long.MinValue;
        long slice = 0;
        long maxTicks = long.MinValue;
        int late = 0, dead = 0, filtered = 0;
        ref var tally = ref Tally;

        // The state of the previous record's key: runs of one key (the global key, per-shard ordering) skip the
        // dictionary. Nothing in this loop adds or removes keys except the lookup itself, so the reference stays valid
        // until the key changes.
        ref KeySlices state = ref Unsafe.NullRef<KeySlices>();
        TKey stateKey = default!;

        // The slice the previous record went to: a record of the same key whose time falls in [runFrom, runFrom + runSpan)
        // belongs to it and is not late, so it goes there with no more checks (runSpan 0: no such slice). Only the slow
        // path below moves or adds slices, and it sets the run again after each record. Being dirty needs no check: the
        // dirty bound lies on a slice boundary, so a record in the run's slice is dirty exactly when the record that set
        // the run was, and that one already marked the slice (the marks of a batch are cleared only after this loop).
        ref Slice run = ref Unsafe.NullRef<Slice>();
        long runFrom = 0;
        ulong runSpan = 0;
        for (int i = start; i < records.Length; i++)
        {
            tally.Cursor = i;
            ref readonly var record = ref records[i];
            var verdict = _reader.Read<TSlot, TResult>(this, batch, record, nowTicks, output, out TEvent value, out long ticks, out TKey key);
            if (verdict != RecordVerdict.Accepted)
            {
                filtered += verdict == RecordVerdict.Filtered ? 1 : 0;
                dead += verdict == RecordVerdict.DeadLetter ? 1 : 0;
                continue;
            }

            bool sameKey = !Unsafe.IsNullRef(ref state) && EqualityComparer<TKey>.Default.Equals(key, stateKey);
            if (sameKey && (ulong)(ticks - runFrom) < runSpan)
            {
                _aggregator.Add(ref run.Accumulator, value);
                run.CountAndFlags++;
                maxTicks = Math.Max(maxTicks, ticks);
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
                slice = SliceOf(ticks);
                sliceStart = (slice * _slice) + _offset;
                sliceEnd = sliceStart + _slice;
            }

            if (!sameKey)
            {
                state = ref _states.GetValueRefOrAddDefault(key, out _);
                stateKey = key;
            }

            var slices = state.Slices;
            int last = state.Start + state.Count - 1;
            int index;
            bool created = false;
            if (state.Count != 0 && slices[last].Id == slice)
            {
                index = last;
                _aggregator.Add(ref slices[last].Accumulator, value);
                slices[last].CountAndFlags++;
                if (last < state.BackEnd)
                {
                    state.BackEnd = 0;
                }
            }
            else
            {
                index = AddToOtherSlice(ref state, slice, value, out created);
            }

            if (ticks < dirtyBefore)
            {
                MarkDirty(key, ref state, index, created);
            }

            maxTicks = Math.Max(maxTicks, ticks);

            // Adding to the slice cleared BackEnd if the slice was folded, so adding to it again needs no BackEnd check.
            runFrom = Math.Max(sliceStart, lateBefore);
            runSpan = (ulong)Math.Max(sliceEnd - runFrom, 0);
            run = ref state.Slices[index];
        }

        // Only the cursor is kept in the engine on every record; the counts stay in registers (Recount finds them again
        // after an exception).
        tally.Late += late;
        tally.DeadLetters += dead;
        tally.Filtered += filtered;
        tally.MaxEventTicks = Math.Max(tally.MaxEventTicks, maxTicks);
    }

    /// <summary>
    /// Counts <c>[start, failed)</c> again from the records alone: what the operators, the time check and the key decide
    /// does not depend on the windows, and a record is late against the frontier of the batch's start.
    /// </summary>
    private protected override void Recount(RecordBatch<TSource> batch, int start, int failed, long nowTicks)
    {
        var records = batch.Records.Span;
        long lateBefore = DoneBefore(WatermarkTicks);
        ref var tally = ref Tally;
        for (int i = start; i < failed; i++)
        {
            switch (_reader.ReadQuietly<ProfileSlots.Slot0, TResult>(this, records[i], nowTicks, out _, out long ticks, out _))
            {
                case RecordVerdict.Filtered:
                    tally.Filtered++;
                    break;
                case RecordVerdict.DeadLetter:
                    tally.DeadLetters++;
                    break;
                case RecordVerdict.Accepted when ticks < lateBefore:
                    tally.Late++;
                    break;
                default:
                    tally.MaxEventTicks = Math.Max(tally.MaxEventTicks, ticks);
                    break;
            }
        }
    }

    private protected override void Rebuild<TSlot>(RecordBatch<TSource> batch, int start, int count)
    {
        var records = batch.Records.Span;
        long notFinalFrom = DoneBefore(WatermarkTicks);
        ref var tally = ref Tally;
        for (int i = start; i < count; i++)
        {
            tally.Cursor = i;
            if (_reader.ReadQuietly<TSlot, TResult>(this, records[i], ReplayClockTicks, out TEvent value, out long ticks, out TKey key) != RecordVerdict.Accepted || ticks < notFinalFrom)
            {
                // Delivered before the checkpoint: a final window's contribution, a late record, a dead letter, or filtered out.
                continue;
            }

            ref KeySlices state = ref _states.GetValueRefOrAddDefault(key, out _);
            AddToOtherSlice(ref state, SliceOf(ticks), value, out _);
            tally.MaxEventTicks = Math.Max(tally.MaxEventTicks, ticks);
        }
    }

    private protected override bool ThrowsOn(in StreamRecord<TSource> record, long clockTicks) => _reader.ThrowsOn<ProfileSlots.Slot0, TResult>(this, record, clockTicks);

    private protected override bool AggregatorThrowsOn(in StreamRecord<TSource> record, long clockTicks)
        => _reader.ReadQuietly<ProfileSlots.Slot0, TResult>(this, record, clockTicks, out TEvent value, out _, out _) == RecordVerdict.Accepted
           && AddThrows<TEvent, TAggregator, TAccumulator>(_aggregator, value);

    private protected override void EmitDirty(IWindowOutput<TSource, TKey, TResult> output)
    {
        if (_dirty.Count == 0)
        {
            return;
        }

        long watermark = WatermarkTicks;
        long notPurged = EndAfter(watermark == long.MinValue ? long.MinValue : TimeMath.SaturatingSubtract(watermark, _lateness));
        long closed = _emitUpdates ? long.MaxValue : EndAtMost(watermark);
        foreach (var key in _dirty)
        {
            ref KeySlices state = ref _states.GetValueRefOrNullRef(key);
            long from = Math.Max(FirstEnd(state.DirtyLow), notPurged);
            long to = Math.Min(LastEnd(state.DirtyHigh), closed);
            EmitWindows(key, ref state, from, to, watermark, closing: false, output);
            var slices = state.Slices;
            for (int i = state.Start; i < state.Start + state.Count; i++)
            {
                slices[i].CountAndFlags &= Slice.CountMask;
            }

            state.IsDirty = false;
        }

        _dirty.Clear();
    }

    private protected override void OnWatermark(long before, long after, IWindowOutput<TSource, TKey, TResult> output)
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

        long purgeSlice = purgeBefore == long.MaxValue ? long.MaxValue : SliceOf(purgeBefore);
        long firstEnd = EndAfter(before);
        long lastEnd = EndAtMost(after);

        // By entry, not by key: no lookups. Emptied keys are vacated as the walk goes and unlinked in one pass after
        // it, also when an output throws mid-walk, so that the table stays searchable.
        try
        {
            for (int index = 0; index < _states.Extent; index++)
            {
                if (!_states.IsLive(index))
                {
                    continue;
                }

                ref KeySlices state = ref _states.ValueAt(index);
                if (endsCrossed)
                {
                    EmitWindows(_states.KeyAt(index), ref state, firstEnd, lastEnd, after, closing: true, output);
                }

                var slices = state.Slices;
                while (state.Count > 0 && slices[state.Start].Id < purgeSlice)
                {
                    slices[state.Start].Accumulator = default!;
                    state.Start++;
                    state.Count--;
                    _sliceCount--;
                }

                if (state.Count == 0)
                {
                    if (state.Heap is { } heap)
                    {
                        _pool.Push(heap);
                    }

                    _states.Vacate(index);
                }
            }
        }
        finally
        {
            _states.UnlinkVacated();
        }
    }

    private protected override void WriteState(IBufferWriter<byte> destination)
    {
        var keyCodec = Settings.KeyCodec!;
        var accumulatorCodec = _accumulatorCodec!;
        StateCodec.WriteVarInt(destination, (ulong)_states.Count);
        for (int index = 0; index < _states.Extent; index++)
        {
            if (!_states.IsLive(index))
            {
                continue;
            }

            ref readonly KeySlices state = ref _states.ValueAt(index);
            keyCodec.Write(destination, _states.KeyAt(index));
            StateCodec.WriteVarInt(destination, (ulong)state.Count);
            var slices = state.Slices;
            for (int i = state.Start; i < state.Start + state.Count; i++)
            {
                StateCodec.WriteInt64(destination, slices[i].Id);
                StateCodec.WriteVarInt(destination, (ulong)slices[i].RecordCount);
                accumulatorCodec.Write(destination, slices[i].Accumulator);
            }
        }
    }

    private protected override void ReadState(ref ReadOnlySpan<byte> source)
    {
        var keyCodec = Settings.KeyCodec ?? throw new FormatException($"The state holds windows, but this pipeline has no codec for keys of type {typeof(TKey).Name}.");
        var accumulatorCodec = _accumulatorCodec ?? throw new FormatException($"The state holds windows, but the aggregator cannot read accumulators of type {typeof(TAccumulator).Name}.");
        ulong keys = StateCodec.ReadVarInt(ref source);

        // Room for every key at once. Each key takes at least one byte (its slice count), which bounds a damaged count.
        _states.EnsureCapacity(_states.Count + (int)Math.Min(keys, (ulong)source.Length));
        for (ulong k = 0; k < keys; k++)
        {
            TKey key = keyCodec.Read(ref source) ?? throw new FormatException("A window key in the state is null.");
            ref KeySlices state = ref _states.GetValueRefOrAddDefault(key, out bool exists);
            if (exists)
            {
                throw new FormatException($"Key '{key}' appears twice in the state.");
            }

            ulong count = StateCodec.ReadVarInt(ref source);
            long previous = long.MinValue;
            for (ulong s = 0; s < count; s++)
            {
                long id = StateCodec.ReadInt64(ref source);
                long records = (long)StateCodec.ReadVarInt(ref source);
                if (id <= previous || records is < 0 or > Slice.CountMask)
                {
                    throw new FormatException($"The slices of key '{key}' are out of order or have an impossible record count.");
                }

                previous = id;
                var accumulator = accumulatorCodec.Read(ref source);
                if (state.Start + state.Count == state.Slices.Length)
                {
                    MakeRoom(ref state);
                }

                var slices = state.Slices;
                int at = state.Start + state.Count;
                slices[at].Id = id;
                slices[at].CountAndFlags = records;
                slices[at].Accumulator = accumulator;
                state.Count++;
                _sliceCount++;
            }

            if (state.Count == 0)
            {
                _states.Remove(key);
            }
        }
    }

    /// <summary>
    /// Emits the key's windows whose ends lie in <c>[firstEnd, lastEnd]</c> (in slices, see <see cref="EndOnOrAfter"/>) and
    /// that hold at least one slice; when not <paramref name="closing"/>, only those that hold a dirty slice.
    /// </summary>
    private void EmitWindows(TKey key, ref KeySlices state, long firstEnd, long lastEnd, long watermark, bool closing, IWindowOutput<TSource, TKey, TResult> output)
    {
        if (state.Count == 0)
        {
            return;
        }

        var slices = state.Slices;
        int end = state.Start + state.Count;
        long last = Math.Min(LastEnd(slices[end - 1].Id), lastEnd);
        int lo = state.Start;
        int hi = state.Start;

        // In slices, without a division: the window ending at slice windowEnd holds slices [windowEnd - per window, windowEnd).
        for (long windowEnd = Math.Max(FirstEnd(slices[state.Start].Id), firstEnd); windowEnd <= last;)
        {
            long firstSlice = windowEnd - _slicesPerWindow;
            while (lo < end && slices[lo].Id < firstSlice)
            {
                lo++;
            }

            if (lo == end)
            {
                break;
            }

            if (slices[lo].Id >= windowEnd)
            {
                windowEnd = Math.Max(windowEnd + _slicesPerSlide, FirstEnd(slices[lo].Id));
                continue;
            }

            hi = Math.Max(hi, lo);
            while (hi < end && slices[hi].Id < windowEnd)
            {
                hi++;
            }

            long records = 0;
            bool changed = closing;
            bool allNew = true;
            for (int j = lo; j < hi; j++)
            {
                long countAndFlags = slices[j].CountAndFlags;
                records += countAndFlags & Slice.CountMask;
                changed |= (countAndFlags & Slice.DirtyFlag) != 0;
                allNew &= (countAndFlags & Slice.NewFlag) != 0;
            }

            if (changed)
            {
                long endTicks = SliceStartOf(windowEnd);
                var window = new TimeWindow(endTicks - _size, endTicks);
                bool computed;
                TResult value;
                if (hi - lo == 1)
                {
                    computed = TryGetResult<TEvent, TAggregator, TAccumulator>(_aggregator, slices[lo].Accumulator, key, window, output, out value);
                }
                else if (_useStacks)
                {
                    computed = TryGetResult<TEvent, TAggregator, TAccumulator>(_aggregator, MergeRange(ref state, slices, lo, hi), key, window, output, out value);
                }
                else
                {
                    var merged = _aggregator.CreateAccumulator();
                    for (int j = lo; j < hi; j++)
                    {
                        _aggregator.Merge(ref merged, slices[j].Accumulator);
                    }

                    computed = TryGetResult<TEvent, TAggregator, TAccumulator>(_aggregator, merged, key, window, output, out value);
                }

                if (computed)
                {
                    var reason = closing || (endTicks <= watermark && allNew) ? EmitReason.Closed
                        : endTicks <= watermark ? EmitReason.LateUpdate
                        : EmitReason.Update;
                    Emit(output, new WindowResult<TKey, TResult>(_pipeline, key, window, value, reason) { RecordCount = records, Partition = _partition });
                }
            }

            windowEnd += _slicesPerSlide;
        }
    }

    /// <summary>Adds a value to the key's slice <paramref name="slice"/>, creating the slice when missing; returns its index.</summary>
    private int AddToOtherSlice(ref KeySlices state, long slice, in TEvent value, out bool created)
    {
        var slices = state.Slices;
        int end = state.Start + state.Count;
        int index = end - 1;
        while (index >= state.Start && slices[index].Id > slice)
        {
            index--;
        }

        if (index >= state.Start && slices[index].Id == slice)
        {
            _aggregator.Add(ref slices[index].Accumulator, value);
            slices[index].CountAndFlags++;
            if (index < state.BackEnd)
            {
                state.BackEnd = 0;
            }

            created = false;
            return index;
        }

        // Slices at or after insertAt move up one place: folded aggregates stay valid only if none of them moves.
        int insertAt = index + 1;
        if (insertAt < state.BackEnd)
        {
            state.BackEnd = 0;
        }

        if (end == slices.Length)
        {
            state.BackEnd = 0;
            int shift = state.Start;
            MakeRoom(ref state);
            slices = state.Slices;
            insertAt -= shift;
            end = state.Start + state.Count;
        }

        if (insertAt < end)
        {
            slices[insertAt..end].CopyTo(slices[(insertAt + 1)..]);
        }

        slices[insertAt].Id = slice;
        slices[insertAt].CountAndFlags = 1;
        slices[insertAt].Accumulator = _aggregator.CreateAccumulator();
        _aggregator.Add(ref slices[insertAt].Accumulator, value);
        state.Count++;
        _sliceCount++;
        created = true;
        return insertAt;
    }

    /// <summary>
    /// Merges slices <c>[lo, hi)</c> with the two-stacks technique: a front of suffix aggregates over
    /// <c>[FrontLow, FrontEnd)</c> and a running back aggregate over <c>[FrontEnd, BackEnd)</c>. As windows slide
    /// forward, the back grows by the new slices and the front is rebuilt only when the window start leaves it, so
    /// each slice is merged a constant number of times. Any change to a folded slice, or to the slice layout,
    /// invalidates the stacks and the next query rebuilds them.
    /// </summary>
    private TAccumulator MergeRange(ref KeySlices state, Span<Slice> slices, int lo, int hi)
    {
        var stacks = state.Stacks ??= new Stacks();
        if (stacks.Suffix is null || stacks.Suffix.Length != slices.Length)
        {
            stacks.Suffix = new TAccumulator[slices.Length];
            state.BackEnd = 0;
        }

        var suffix = stacks.Suffix;
        if (state.BackEnd != 0 && lo >= stacks.FrontLow && lo < stacks.FrontEnd && hi >= state.BackEnd)
        {
            for (int j = state.BackEnd; j < hi; j++)
            {
                _aggregator.Merge(ref stacks.Back, slices[j].Accumulator);
            }

            state.BackEnd = hi;
            var result = suffix[lo];
            _aggregator.Merge(ref result, stacks.Back);
            return result;
        }

        // Rebuild: the whole window becomes the front, the back starts empty.
        suffix[hi - 1] = _aggregator.CreateAccumulator();
        _aggregator.Merge(ref suffix[hi - 1], slices[hi - 1].Accumulator);
        for (int j = hi - 2; j >= lo; j--)
        {
            suffix[j] = suffix[j + 1];
            _aggregator.Merge(ref suffix[j], slices[j].Accumulator);
        }

        stacks.FrontLow = lo;
        stacks.FrontEnd = hi;
        state.BackEnd = hi;
        stacks.Back = _aggregator.CreateAccumulator();
        return suffix[lo];
    }

    /// <summary>Frees room at the end: moves live slices to the front, or onto a larger heap array when over half full.</summary>
    private void MakeRoom(ref KeySlices state)
    {
        var slices = state.Slices;
        if (state.Count * 2 > slices.Length)
        {
            var heap = _pool.Count > 0 && _pool.Peek().Length >= slices.Length * 2 ? _pool.Pop() : new Slice[slices.Length * 2];
            slices.Slice(state.Start, state.Count).CopyTo(heap);
            slices.Clear();
            if (state.Heap is { } old)
            {
                _pool.Push(old);
            }

            state.Heap = heap;
        }
        else
        {
            slices.Slice(state.Start, state.Count).CopyTo(slices);
            slices[state.Count..].Clear();
        }

        state.Start = 0;
    }

    private void MarkDirty(TKey key, ref KeySlices state, int index, bool created)
    {
        var slices = state.Slices;
        slices[index].CountAndFlags |= created ? Slice.DirtyFlag | Slice.NewFlag : Slice.DirtyFlag;
        long slice = slices[index].Id;
        if (!state.IsDirty)
        {
            state.IsDirty = true;
            state.DirtyLow = slice;
            state.DirtyHigh = slice;
            _dirty.Add(key);
            return;
        }

        state.DirtyLow = Math.Min(state.DirtyLow, slice);
        state.DirtyHigh = Math.Max(state.DirtyHigh, slice);
    }

    /// <summary>The slice that holds an event time.</summary>
    private long SliceOf(long ticks) => TimeMath.FloorDiv(ticks - _offset, _slice);

    private long SliceStartOf(long slice) => (slice * _slice) + _offset;

    /// <summary>
    /// The first window end at or after <paramref name="end"/>, both in slices: a window that ends at slice <c>e</c> ends
    /// at <c>SliceStartOf(e)</c>, and window ends lie on the grid <c>slices per window + k * slices per slide</c>. With a
    /// slide that divides the size (one slice per slide) every slice is on it, and no division is needed.
    /// </summary>
    private long EndOnOrAfter(long end) => _slicesPerSlide == 1 ? end : TimeMath.AlignUp(end, _slicesPerSlide, _slicesPerWindow);

    /// <summary>The last window end at or before <paramref name="end"/>, both in slices (see <see cref="EndOnOrAfter"/>).</summary>
    private long EndOnOrBefore(long end) => _slicesPerSlide == 1 ? end : TimeMath.AlignDown(end, _slicesPerSlide, _slicesPerWindow);

    /// <summary>The end of the first window that contains the slice, in slices.</summary>
    private long FirstEnd(long slice) => EndOnOrAfter(slice + 1);

    /// <summary>The end of the last window that contains the slice, in slices.</summary>
    private long LastEnd(long slice) => EndOnOrBefore(slice + _slicesPerWindow);

    /// <summary>The end, in slices, of the first window that ends after <paramref name="ticks"/> (<see cref="long.MinValue"/>: every window).</summary>
    private long EndAfter(long ticks) => ticks < long.MinValue + _offset ? long.MinValue : FirstEnd(SliceOf(ticks));

    /// <summary>The end, in slices, of the last window that ends at or before <paramref name="ticks"/> (<see cref="long.MaxValue"/>: every window).</summary>
    private long EndAtMost(long ticks)
        => ticks == long.MaxValue ? long.MaxValue
         : ticks < long.MinValue + _offset ? long.MinValue
         : EndOnOrBefore(SliceOf(ticks));

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

    /// <summary>One slice of one key: its id (slice start = id * slice length + offset), record count and flags, accumulator.</summary>
    private struct Slice
    {
        /// <summary>Changed after one of its windows was emitted; cleared when the batch's changes are emitted.</summary>
        public const long DirtyFlag = 1L << 62;

        /// <summary>Created in the current batch; cleared with <see cref="DirtyFlag"/>.</summary>
        public const long NewFlag = 1L << 61;

        public const long CountMask = NewFlag - 1;

        public long Id;

        /// <summary>The number of records added (low 61 bits) and the flags; adding a record is a plain increment.</summary>
        public long CountAndFlags;

        public TAccumulator Accumulator;

        public readonly long RecordCount => CountAndFlags & CountMask;
    }

    /// <summary>A key's two-stacks aggregates (sliding windows over value-type accumulators only), kept out of the key's entry so the table stays small.</summary>
    private sealed class Stacks
    {
        public int FrontLow;
        public int FrontEnd;
        public TAccumulator Back = default!;
        public TAccumulator[]? Suffix;
    }

    [InlineArray(2)]
    private struct TwoSlices
    {
        private Slice _first;
    }

    /// <summary>
    /// A key's live slices, sorted by id, stored in the dictionary entry itself: the first two inline (enough for
    /// tumbling windows in steady state), more on a pooled heap array. One cache-friendly place per key.
    /// </summary>
    private struct KeySlices
    {
        public TwoSlices Inline;
        public Slice[]? Heap;
        public Stacks? Stacks;
        public int Start;
        public int Count;

        /// <summary>The end of the slices folded into the two-stacks aggregates; 0 when they are not valid (none built, or a folded slice changed or moved).</summary>
        public int BackEnd;
        public long DirtyLow;
        public long DirtyHigh;
        public bool IsDirty;

        [System.Diagnostics.CodeAnalysis.UnscopedRef]
        public Span<Slice> Slices => Heap is { } heap ? heap.AsSpan() : Inline;
    }
}
