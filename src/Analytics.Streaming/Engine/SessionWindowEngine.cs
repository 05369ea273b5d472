using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Analytics.Streaming;

/// <summary>
/// Session windows: per key, a sorted list of disjoint sessions <c>[first event, last event + gap)</c>. An event
/// joins every session it overlaps (merging them) or starts a new one. A session that was already emitted and then
/// changes its extent is emitted again under its new extent, with <see cref="WindowResult{TKey, TValue}.Replaces"/>
/// naming the extents it supersedes.
/// </summary>
/// <remarks>
/// A session is emitted as <see cref="EmitReason.Closed"/> the first time the watermark passes its end under its
/// current extent; a later record that changes it without moving its end re-emits it as
/// <see cref="EmitReason.LateUpdate"/>; a record that extends or merges it gives a new extent, emitted when the
/// watermark passes the new end.
/// </remarks>
internal sealed class SessionWindowEngine<TSource, TEvent, TChain, TKeyReader, TKey, TAggregator, TAccumulator, TResult> : WindowEngine<TSource, TKey, TResult>
    where TChain : struct, IEventChain<TSource, TEvent>
    where TKeyReader : struct, IKeyReader<TEvent, TKey>
    where TKey : notnull
    where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
{
    private readonly Dictionary<TKey, SessionList> _states = [];
    private readonly List<KeyValuePair<TKey, Session>> _dirty = [];
    private readonly IStateCodec<TAccumulator>? _accumulatorCodec;
    private readonly long _gap;
    private readonly long _lateness;
    private readonly bool _emitUpdates;
    private readonly string _pipeline;
    private readonly string? _partition;
#pragma warning disable IDE0044 // Not readonly: calls on a readonly field of a non-readonly struct would copy it each time.
    private TAggregator _aggregator;
    private EventReader<TSource, TEvent, TChain, TKeyReader, TKey> _reader;
#pragma warning restore IDE0044
    private long _sessionCount;

    // When each session next needs the watermark: one live entry per session, at or before its end (then its purge
    // time). A watermark step visits only the entries it reaches, not every key. Extending a session does not touch
    // the queue: its entry comes due early and is queued again at the new end. Entries of removed sessions, and older
    // entries of a session queued earlier since, are skipped.
    private readonly PriorityQueue<(TKey Key, Session Session), long> _due = new();

    public SessionWindowEngine(ProcessorSettings<TSource, TKey> settings, TChain chain, TKeyReader keyReader, TAggregator aggregator)
        : base(settings)
    {
        _reader = new(chain, keyReader);
        _aggregator = aggregator;
        _accumulatorCodec = (aggregator as IPersistentAggregator<TAccumulator>)?.AccumulatorCodec;
        _gap = settings.Window.Gap.Ticks;
        _lateness = settings.AllowedLatenessTicks;
        _emitUpdates = settings.EmitMode == EmitMode.OnUpdate;
        _pipeline = settings.PipelineName;
        _partition = settings.Partition;
    }

    public override long OpenWindowCount => _sessionCount;

    internal override bool CanSnapshotState => Settings.KeyCodec is not null && _accumulatorCodec is not null;

    private protected override string StateFingerprint => Settings.Describe<TAccumulator>();

    private protected override long DoneBeforeTicks => WatermarkTicks == long.MaxValue ? long.MaxValue : MinOpenStart();

    private protected override void Assign<TSlot>(RecordBatch<TSource> batch, long nowTicks, IWindowOutput<TSource, TKey, TResult> output, int start)
    {
        var records = batch.Records.Span;
        long watermark = WatermarkTicks;
        ref var tally = ref Tally;
        for (int i = start; i < records.Length; i++)
        {
            tally.Cursor = i;
            ref readonly var record = ref records[i];
            var verdict = _reader.Read<TSlot, TResult>(this, batch, record, nowTicks, output, out TEvent value, out long ticks, out TKey key);
            if (verdict != RecordVerdict.Accepted)
            {
                tally.Filtered += verdict == RecordVerdict.Filtered ? 1 : 0;
                tally.DeadLetters += verdict == RecordVerdict.DeadLetter ? 1 : 0;
                continue;
            }

            ref SessionList sessions = ref CollectionsMarshal.GetValueRefOrAddDefault(_states, key, out _);
            var session = Join(key, ref sessions, ticks, watermark);
            if (session is null)
            {
                if (sessions.Count == 0)
                {
                    _states.Remove(key);
                }

                EmitLate(batch, record, ticks, output);
                tally.Late++;
                continue;
            }

            _aggregator.Add(ref session.Accumulator, value);
            session.Count++;
            if (!session.Dirty && (_emitUpdates || session.End <= watermark))
            {
                session.Dirty = true;
                _dirty.Add(new(key, session));
            }

            if (ticks > tally.MaxEventTicks)
            {
                tally.MaxEventTicks = ticks;
            }
        }
    }

    private protected override void Rebuild<TSlot>(RecordBatch<TSource> batch, int start, int count)
        => throw new InvalidOperationException("Session windows are always restored from saved window state, never rebuilt from replays.");

    private protected override bool ThrowsOn(in StreamRecord<TSource> record, long clockTicks) => _reader.ThrowsOn<ProfileSlots.Slot0, TResult>(this, record, clockTicks);

    private protected override bool AggregatorThrowsOn(in StreamRecord<TSource> record, long clockTicks)
        => _reader.ReadQuietly<ProfileSlots.Slot0, TResult>(this, record, clockTicks, out TEvent value, out _, out _) == RecordVerdict.Accepted
           && AddThrows<TEvent, TAggregator, TAccumulator>(_aggregator, value);

    private protected override void EmitDirty(IWindowOutput<TSource, TKey, TResult> output)
    {
        long watermark = WatermarkTicks;
        foreach (var (key, session) in _dirty)
        {
            if (session.Removed || !session.Dirty)
            {
                continue;
            }

            session.Dirty = false;
            if (session.End <= watermark)
            {
                EmitClosed(key, session, output);
            }
            else if (_emitUpdates)
            {
                Emit(key, session, EmitReason.Update, output);
            }
        }

        _dirty.Clear();
    }

    private protected override void OnWatermark(long before, long after, IWindowOutput<TSource, TKey, TResult> output)
    {
        if (after == before)
        {
            return;
        }

        while (_due.TryPeek(out var entry, out long due) && due <= after)
        {
            _due.Dequeue();
            var (key, session) = entry;
            if (session.Removed || session.Scheduled != due)
            {
                continue; // merged away or purged, or queued again at an earlier time since
            }

            if (NextScan(session) > after)
            {
                Schedule(key, session); // extended since it was queued
                continue;
            }

            if (session.End <= after && (!session.ClosedEmitted || session.Dirty))
            {
                session.Dirty = false;
                EmitClosed(key, session, output);
            }

            if (TimeMath.SaturatingAdd(session.End, _lateness) <= after)
            {
                Purge(key, session);
            }
            else
            {
                Schedule(key, session);
            }
        }
    }

    private protected override void WriteState(IBufferWriter<byte> destination)
    {
        var keyCodec = Settings.KeyCodec!;
        var accumulatorCodec = _accumulatorCodec!;
        StateCodec.WriteVarInt(destination, (ulong)_states.Count);
        foreach (var (key, sessions) in _states)
        {
            keyCodec.Write(destination, key);
            StateCodec.WriteVarInt(destination, (ulong)sessions.Count);
            for (int i = 0; i < sessions.Count; i++)
            {
                var session = sessions[i];
                StateCodec.WriteInt64(destination, session.Start);
                StateCodec.WriteInt64(destination, session.End);
                StateCodec.WriteVarInt(destination, (ulong)session.Count);
                StateCodec.WriteVarInt(destination, session.ClosedEmitted ? 1UL : 0UL);
                var emitted = session.Emitted;
                StateCodec.WriteVarInt(destination, (ulong)(emitted?.Count ?? 0));
                foreach (var window in emitted ?? [])
                {
                    StateCodec.WriteInt64(destination, window.StartTicks);
                    StateCodec.WriteInt64(destination, window.EndTicks);
                }

                accumulatorCodec.Write(destination, session.Accumulator);
            }
        }
    }

    private protected override void ReadState(ref ReadOnlySpan<byte> source)
    {
        var keyCodec = Settings.KeyCodec ?? throw new FormatException($"The state holds sessions, but this pipeline has no codec for keys of type {typeof(TKey).Name}.");
        var accumulatorCodec = _accumulatorCodec ?? throw new FormatException($"The state holds sessions, but the aggregator cannot read accumulators of type {typeof(TAccumulator).Name}.");
        ulong keys = StateCodec.ReadVarInt(ref source);

        // Room for every key at once. Each key takes at least one byte (its session count), which bounds a damaged count.
        _states.EnsureCapacity(_states.Count + (int)Math.Min(keys, (ulong)source.Length));
        for (ulong k = 0; k < keys; k++)
        {
            TKey key = keyCodec.Read(ref source) ?? throw new FormatException("A session key in the state is null.");
            ulong count = StateCodec.ReadVarInt(ref source);
            var sessions = default(SessionList);
            for (ulong s = 0; s < count; s++)
            {
                var session = new Session
                {
                    Start = StateCodec.ReadInt64(ref source),
                    End = StateCodec.ReadInt64(ref source),
                    Count = (long)StateCodec.ReadVarInt(ref source),
                    ClosedEmitted = StateCodec.ReadVarInt(ref source) == 1,
                };
                ulong emitted = StateCodec.ReadVarInt(ref source);
                for (ulong e = 0; e < emitted; e++)
                {
                    long start = StateCodec.ReadInt64(ref source);
                    long end = StateCodec.ReadInt64(ref source);
                    (session.Emitted ??= []).Add(new TimeWindow(start, end));
                }

                session.Accumulator = accumulatorCodec.Read(ref source);
                if (session.End <= session.Start || (sessions.Count > 0 && sessions[sessions.Count - 1].End > session.Start))
                {
                    throw new FormatException($"The sessions of key '{key}' overlap or are out of order.");
                }

                sessions.Add(session);
                _sessionCount++;
                Schedule(key, session);
            }

            if (sessions.Count > 0 && !_states.TryAdd(key, sessions))
            {
                throw new FormatException($"Key '{key}' appears twice in the state.");
            }
        }
    }

    /// <summary>When the session next needs the watermark: its end until it is emitted as closed, then its purge time.</summary>
    private long NextScan(Session session) => session.ClosedEmitted ? TimeMath.SaturatingAdd(session.End, _lateness) : session.End;

    /// <summary>Queues the session for the watermark step that next concerns it; an earlier entry of it becomes stale.</summary>
    private void Schedule(TKey key, Session session)
    {
        session.Scheduled = NextScan(session);
        _due.Enqueue((key, session), session.Scheduled);
    }

    /// <summary>Removes a session past its allowed lateness from its key (and the key when it was the last).</summary>
    private void Purge(TKey key, Session session)
    {
        session.Removed = true;
        _sessionCount--;
        ref SessionList sessions = ref CollectionsMarshal.GetValueRefOrNullRef(_states, key);
        if (!Unsafe.IsNullRef(ref sessions))
        {
            sessions.Remove(session);
            if (sessions.Count == 0)
            {
                _states.Remove(key);
            }
        }
    }

    /// <summary>
    /// The earliest start of a session still kept (emitted sessions are kept until their lateness has passed). Read
    /// only when a checkpoint without window state is made, so it walks the sessions rather than keep an index.
    /// </summary>
    private long MinOpenStart()
    {
        long min = long.MaxValue;
        foreach (var sessions in _states.Values)
        {
            for (int i = 0; i < sessions.Count; i++)
            {
                min = Math.Min(min, sessions[i].Start);
            }
        }

        return min;
    }

    /// <summary>Finds or creates the session an event at <paramref name="ticks"/> belongs to; null when the event is late.</summary>
    private Session? Join(TKey key, ref SessionList sessions, long ticks, long watermark)
    {
        long eventEnd = ticks + _gap;
        int high = sessions.Count - 1;
        while (high >= 0 && sessions[high].Start >= eventEnd)
        {
            high--;
        }

        int low = high;
        while (low >= 0 && sessions[low].End > ticks)
        {
            low--;
        }

        low++;
        if (low > high)
        {
            if (TimeMath.SaturatingAdd(eventEnd, _lateness) <= watermark)
            {
                return null;
            }

            var created = new Session { Start = ticks, End = eventEnd, Accumulator = _aggregator.CreateAccumulator() };
            sessions.Insert(low, created);
            _sessionCount++;
            Schedule(key, created);
            return created;
        }

        var target = sessions[low];
        long start = target.Start;
        long end = target.End;
        for (int i = low + 1; i <= high; i++)
        {
            var other = sessions[i];
            _aggregator.Merge(ref target.Accumulator, other.Accumulator);
            target.Count += other.Count;
            end = Math.Max(end, other.End);
            if (other.Emitted is not null)
            {
                (target.Emitted ??= []).AddRange(other.Emitted);
            }

            other.Removed = true;
            _sessionCount--;
        }

        if (high > low)
        {
            sessions.RemoveRange(low + 1, high - low);
        }

        start = Math.Min(start, ticks);
        end = Math.Max(end, eventEnd);
        if (start != target.Start || end != target.End)
        {
            // A new extent: a new window identity, never emitted yet; it is emitted when the watermark passes its end.
            target.Start = start;
            target.End = end;
            target.ClosedEmitted = false;
            if (NextScan(target) < target.Scheduled)
            {
                Schedule(key, target); // an emitted session reopened: its end comes before the purge time it was queued for
            }
        }

        return target;
    }

    private void EmitClosed(TKey key, Session session, IWindowOutput<TSource, TKey, TResult> output)
    {
        Emit(key, session, session.ClosedEmitted ? EmitReason.LateUpdate : EmitReason.Closed, output);
        session.ClosedEmitted = true;
    }

    private void Emit(TKey key, Session session, EmitReason reason, IWindowOutput<TSource, TKey, TResult> output)
    {
        var window = new TimeWindow(session.Start, session.End);
        List<TimeWindow>? replaced = null;
        if (session.Emitted is not null)
        {
            foreach (var previous in session.Emitted)
            {
                if (previous != window && (replaced is null || !replaced.Contains(previous)))
                {
                    (replaced ??= []).Add(previous);
                }
            }

            session.Emitted.Clear();
        }

        (session.Emitted ??= []).Add(window);
        if (TryGetResult<TEvent, TAggregator, TAccumulator>(_aggregator, session.Accumulator, key, window, output, out var value))
        {
            Emit(output, new WindowResult<TKey, TResult>(_pipeline, key, window, value, reason, replaced) { RecordCount = session.Count, Partition = _partition });
        }
    }

    /// <summary>
    /// A key's sessions, sorted and disjoint. Most keys have one session at a time: it is held inline, so the first
    /// read of an event's key after the lookup is the session itself, not a list and its array. A second session moves
    /// them to a list, which the key keeps until it is removed.
    /// </summary>
    private struct SessionList
    {
        private Session? _single;
        private List<Session>? _many;

        public readonly int Count => _many?.Count ?? (_single is null ? 0 : 1);

        public readonly Session this[int index] => _many is null ? _single! : _many[index];

        public void Insert(int index, Session session)
        {
            if (_many is not null)
            {
                _many.Insert(index, session);
            }
            else if (_single is null)
            {
                _single = session;
            }
            else
            {
                _many = index == 0 ? [session, _single] : [_single, session];
                _single = null;
            }
        }

        public void Add(Session session) => Insert(Count, session);

        /// <summary>Removes sessions merged into another: there were at least two, so they are in the list.</summary>
        public readonly void RemoveRange(int index, int count) => _many!.RemoveRange(index, count);

        public void Remove(Session session)
        {
            if (_many is not null)
            {
                _many.Remove(session);
            }
            else if (_single == session)
            {
                _single = null;
            }
        }
    }

    private sealed class Session
    {
        public long Start;
        public long End;
        public long Count;
        public TAccumulator Accumulator = default!;
        public bool Dirty;
        public bool ClosedEmitted;
        public bool Removed;
        public long Scheduled; // the time of its live entry in the watermark queue
        public List<TimeWindow>? Emitted;
    }
}
