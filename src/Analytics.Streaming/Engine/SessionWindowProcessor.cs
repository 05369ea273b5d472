using System.Runtime.InteropServices;

namespace Analytics.Streaming;

/// <summary>
/// Session windows: per key, a sorted list of disjoint sessions <c>[first event, last event + gap)</c>. An event
/// joins every session it overlaps (merging them) or starts a new one. A session that was already emitted and then
/// changes is emitted again with <see cref="WindowResult{TKey, TValue}.Replaces"/> naming the extents it supersedes.
/// </summary>
internal sealed class SessionWindowProcessor<TEvent, TKey, TAggregator, TAccumulator, TResult> : WindowProcessor<TEvent, TKey, TResult>
    where TKey : notnull
    where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>
{
    private readonly Dictionary<TKey, List<Session>> _states = [];
    private readonly List<KeyValuePair<TKey, Session>> _dirty = [];
    private readonly long _gap;
    private readonly long _lateness;
    private readonly bool _emitUpdates;
    private readonly string _pipeline;
#pragma warning disable IDE0044 // Not readonly: calls on a readonly field of a non-readonly struct would copy it each time.
    private TAggregator _aggregator;
#pragma warning restore IDE0044
    private long _sessionCount;
    private long _nextScan = long.MaxValue;
    private long _minOpenStart = long.MaxValue;

    public SessionWindowProcessor(ProcessorSettings<TEvent, TKey> settings, TAggregator aggregator)
        : base(settings)
    {
        _aggregator = aggregator;
        _gap = settings.Window.Gap.Ticks;
        _lateness = settings.AllowedLatenessTicks;
        _emitUpdates = settings.EmitMode == EmitMode.OnUpdate;
        _pipeline = settings.PipelineName;
    }

    public override long OpenWindowCount => _sessionCount;

    internal override long DoneBeforeTicks => WatermarkTicks == long.MaxValue ? long.MaxValue : _minOpenStart;

    private protected override AssignCounts Assign<TTimeReader>(RecordBatch<TEvent> batch, TTimeReader time, long nowTicks, IWindowOutput<TEvent, TKey, TResult> output)
    {
        var records = batch.Records.Span;
        var keySelector = Settings.KeySelector;
        long watermark = WatermarkTicks;
        long maxTicks = long.MinValue;
        int accepted = 0, late = 0, dead = 0;

        for (int i = 0; i < records.Length; i++)
        {
            ref readonly var record = ref records[i];
            long ticks = time.Read(record.Value);
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

            ref List<Session>? state = ref CollectionsMarshal.GetValueRefOrAddDefault(_states, key, out _);
            var sessions = state ??= [];
            var session = Join(sessions, ticks, watermark);
            if (session is null)
            {
                if (sessions.Count == 0)
                {
                    _states.Remove(key);
                }

                EmitLate(batch, record, ticks, output);
                late++;
                continue;
            }

            _aggregator.Add(ref session.Accumulator, record.Value);
            if (!session.Dirty && (_emitUpdates || session.ClosedEmitted || session.End <= watermark))
            {
                session.Dirty = true;
                _dirty.Add(new(key, session));
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
        long watermark = WatermarkTicks;
        foreach (var (key, session) in _dirty)
        {
            if (session.Removed || !session.Dirty)
            {
                continue;
            }

            if (session.End <= watermark)
            {
                Emit(key, session, session.ClosedEmitted ? EmitReason.LateUpdate : EmitReason.Closed, output);
                session.ClosedEmitted = true;
                session.Dirty = false;
            }
            else if (_emitUpdates)
            {
                Emit(key, session, EmitReason.Update, output);
                session.Dirty = session.ClosedEmitted;
            }
        }

        _dirty.Clear();
    }

    private protected override void OnWatermark(long before, long after, IWindowOutput<TEvent, TKey, TResult> output)
    {
        if (after == before || after < _nextScan)
        {
            return;
        }

        long nextScan = long.MaxValue;
        long minOpenStart = long.MaxValue;
        foreach (var (key, sessions) in _states)
        {
            int kept = 0;
            for (int i = 0; i < sessions.Count; i++)
            {
                var session = sessions[i];
                if (session.End <= after && (!session.ClosedEmitted || session.Dirty))
                {
                    Emit(key, session, session.ClosedEmitted ? EmitReason.LateUpdate : EmitReason.Closed, output);
                    session.ClosedEmitted = true;
                    session.Dirty = false;
                }

                if (TimeMath.SaturatingAdd(session.End, _lateness) <= after)
                {
                    session.Removed = true;
                    _sessionCount--;
                    continue;
                }

                sessions[kept++] = session;
                nextScan = Math.Min(nextScan, session.ClosedEmitted ? session.End + _lateness : session.End);
                minOpenStart = Math.Min(minOpenStart, session.Start);
            }

            sessions.RemoveRange(kept, sessions.Count - kept);
            if (kept == 0)
            {
                _states.Remove(key);
            }
        }

        _nextScan = nextScan;
        _minOpenStart = minOpenStart;
    }

    /// <summary>Finds or creates the session an event at <paramref name="ticks"/> belongs to; null when the event is late.</summary>
    private Session? Join(List<Session> sessions, long ticks, long watermark)
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
            _nextScan = Math.Min(_nextScan, eventEnd);
            _minOpenStart = Math.Min(_minOpenStart, ticks);
            return created;
        }

        var target = sessions[low];
        for (int i = low + 1; i <= high; i++)
        {
            var other = sessions[i];
            _aggregator.Merge(ref target.Accumulator, other.Accumulator);
            target.End = Math.Max(target.End, other.End);
            target.ClosedEmitted |= other.ClosedEmitted;
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

        target.Start = Math.Min(target.Start, ticks);
        target.End = Math.Max(target.End, eventEnd);
        _minOpenStart = Math.Min(_minOpenStart, target.Start);
        return target;
    }

    private void Emit(TKey key, Session session, EmitReason reason, IWindowOutput<TEvent, TKey, TResult> output)
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
        output.OnResult(new WindowResult<TKey, TResult>(_pipeline, key, window, _aggregator.GetResult(session.Accumulator), reason, replaced));
    }

    private sealed class Session
    {
        public long Start;
        public long End;
        public TAccumulator Accumulator = default!;
        public bool Dirty;
        public bool ClosedEmitted;
        public bool Removed;
        public List<TimeWindow>? Emitted;
    }
}
