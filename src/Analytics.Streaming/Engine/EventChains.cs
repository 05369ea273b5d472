using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>
/// The operators in front of a window, fused into one struct per pipeline: filters, maps, lookups and the event-time
/// assignment, applied to each source record in turn. Engines are generic over the chain type, so the JIT compiles
/// one loop per pipeline shape with every step inlined into it, and once more per <see cref="ProfileSlots">profile slot</see>.
/// </summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
/// <typeparam name="TEvent">The type the window aggregates.</typeparam>
internal interface IEventChain<TSource, TEvent>
{
    /// <summary>Runs the operators on one record.</summary>
    /// <typeparam name="TSlot">The engine's <see cref="ProfileSlots"/> type: the same code compiled again per slot.</typeparam>
    /// <param name="source">The source value.</param>
    /// <param name="ticks">In: the processing time; out: the event time when a step assigns it.</param>
    /// <param name="value">The event, when the record is kept.</param>
    /// <returns><see langword="false"/> when a filter dropped the record.</returns>
    bool TryApply<TSlot>(in TSource source, ref long ticks, out TEvent value);
}

/// <summary>Runs an operator chain held as a delegate.</summary>
internal delegate bool ChainStep<TSource, TEvent>(in TSource source, ref long ticks, out TEvent value);

/// <summary>
/// The operators so far, held as one delegate instead of a nested struct type: what a pipeline is built from where no
/// code is generated at run time (Native AOT). There the nested chain types cannot be used, because the AOT compiler
/// would have to compile every chain the builder could make (see <see cref="ChainBuilder{TIn, TEvent, TChain}"/>).
/// </summary>
internal readonly struct DelegateChain<TSource, TEvent>(ChainStep<TSource, TEvent> step) : IEventChain<TSource, TEvent>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TEvent value) => step(source, ref ticks, out value);
}

/// <summary>No operator: the source value is the event.</summary>
internal readonly struct IdentityChain<T> : IEventChain<T, T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in T source, ref long ticks, out T value)
    {
        value = source;
        return true;
    }
}

/// <summary>Keeps the events a predicate accepts.</summary>
internal readonly struct WhereChain<TSource, TEvent, TPrevious>(TPrevious previous, Func<TEvent, bool> predicate) : IEventChain<TSource, TEvent>
    where TPrevious : struct, IEventChain<TSource, TEvent>
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TEvent value)
        => _previous.TryApply<TSlot>(source, ref ticks, out value) && predicate(value);
}

/// <summary>Turns each event into another.</summary>
internal readonly struct SelectChain<TSource, TIn, TOut, TPrevious>(TPrevious previous, Func<TIn, TOut> map) : IEventChain<TSource, TOut>
    where TPrevious : struct, IEventChain<TSource, TIn>
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TOut value)
    {
        if (_previous.TryApply<TSlot>(source, ref ticks, out TIn input))
        {
            value = map(input);
            return true;
        }

        value = default!;
        return false;
    }
}

/// <summary>Joins each event with a row of a lookup table (inner join: events without a row are dropped unless a default is given).</summary>
internal readonly struct EnrichChain<TSource, TIn, TLookupKey, TRow, TOut, TPrevious>(
    TPrevious previous, LookupTable<TLookupKey, TRow> table, Func<TIn, TLookupKey> key, Func<TIn, TRow, TOut> combine, bool keepMisses, TRow missing) : IEventChain<TSource, TOut>
    where TPrevious : struct, IEventChain<TSource, TIn>
    where TLookupKey : notnull
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TOut value)
    {
        if (_previous.TryApply<TSlot>(source, ref ticks, out TIn input))
        {
            if (table.TryGet(key(input), out TRow? row))
            {
                value = combine(input, row);
                return true;
            }

            if (keepMisses)
            {
                value = combine(input, missing);
                return true;
            }
        }

        value = default!;
        return false;
    }
}

/// <summary>Reads the event time from a <see cref="DateTimeOffset"/>.</summary>
internal readonly struct OffsetTimeChain<TSource, TEvent, TPrevious>(TPrevious previous, Func<TEvent, DateTimeOffset> time) : IEventChain<TSource, TEvent>
    where TPrevious : struct, IEventChain<TSource, TEvent>
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TEvent value)
    {
        if (_previous.TryApply<TSlot>(source, ref ticks, out value))
        {
            ticks = time(value).UtcTicks;
            return true;
        }

        return false;
    }
}

/// <summary>Reads the event time from Unix milliseconds.</summary>
internal readonly struct UnixMillisecondsTimeChain<TSource, TEvent, TPrevious>(TPrevious previous, Func<TEvent, long> time) : IEventChain<TSource, TEvent>
    where TPrevious : struct, IEventChain<TSource, TEvent>
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TEvent value)
    {
        if (_previous.TryApply<TSlot>(source, ref ticks, out value))
        {
            ticks = ToTicks(time(value));
            return true;
        }

        return false;
    }

    /// <summary>Unix milliseconds to UTC ticks; out-of-range values map to a time the range check rejects, instead of overflowing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ToTicks(long milliseconds)
        => (ulong)milliseconds <= (ulong)(long.MaxValue / TimeSpan.TicksPerMillisecond) - (ulong)(TimeMath.UnixEpochTicks / TimeSpan.TicksPerMillisecond)
            ? TimeMath.UnixEpochTicks + (milliseconds * TimeSpan.TicksPerMillisecond)
            : long.MinValue;
}

/// <summary>
/// The event time of a window result fed into a further window: the last instant inside the window (its end minus one
/// tick), so that a result falls into the downstream window aligned with its own.
/// </summary>
internal readonly struct ResultTimeChain<TKey, TResult> : IEventChain<WindowResult<TKey, TResult>, WindowResult<TKey, TResult>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in WindowResult<TKey, TResult> source, ref long ticks, out WindowResult<TKey, TResult> value)
    {
        value = source;
        ticks = source.Window.EndTicks - 1;
        return true;
    }
}

/// <summary>Keeps the events a static filter accepts.</summary>
internal readonly struct StaticWhereChain<TSource, TEvent, TPrevious, TFilter>(TPrevious previous) : IEventChain<TSource, TEvent>
    where TPrevious : struct, IEventChain<TSource, TEvent>
    where TFilter : IEventFilter<TEvent>
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TEvent value)
        => _previous.TryApply<TSlot>(source, ref ticks, out value) && TFilter.Keep(value);
}

/// <summary>Maps each event with a static map.</summary>
internal readonly struct StaticSelectChain<TSource, TIn, TOut, TPrevious, TMap>(TPrevious previous) : IEventChain<TSource, TOut>
    where TPrevious : struct, IEventChain<TSource, TIn>
    where TMap : IEventMap<TIn, TOut>
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TOut value)
    {
        if (_previous.TryApply<TSlot>(source, ref ticks, out TIn input))
        {
            value = TMap.Map(input);
            return true;
        }

        value = default!;
        return false;
    }
}

/// <summary>Reads the event time in Unix milliseconds with a static selector.</summary>
internal readonly struct StaticUnixTimeChain<TSource, TEvent, TPrevious, TSelector>(TPrevious previous) : IEventChain<TSource, TEvent>
    where TPrevious : struct, IEventChain<TSource, TEvent>
    where TSelector : IUnixTimeSelector<TEvent>
{
    private readonly TPrevious _previous = previous;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryApply<TSlot>(in TSource source, ref long ticks, out TEvent value)
    {
        if (_previous.TryApply<TSlot>(source, ref ticks, out value))
        {
            ticks = UnixMillisecondsTimeChain<TSource, TEvent, TPrevious>.ToTicks(TSelector.Select(value));
            return true;
        }

        return false;
    }
}

/// <summary>What the prologue of the engines' loop decided about one record.</summary>
internal enum RecordVerdict
{
    /// <summary>The event goes to its windows.</summary>
    Accepted,

    /// <summary>A filter left it out.</summary>
    Filtered,

    /// <summary>It went to the dead letters (invalid time, null key).</summary>
    DeadLetter,
}

/// <summary>
/// The start of every engine's per-record loop: run the operators, check the event time, read the key (sending
/// failures to the dead letters). One struct for both engines, inlined into each loop.
/// </summary>
internal readonly struct EventReader<TSource, TEvent, TChain, TKeyReader, TKey>(TChain chain, TKeyReader keyReader)
    where TChain : struct, IEventChain<TSource, TEvent>
    where TKeyReader : struct, IKeyReader<TEvent, TKey>
    where TKey : notnull
{
    private readonly TChain _chain = chain;
    private readonly TKeyReader _keyReader = keyReader;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RecordVerdict Read<TSlot, TResult>(
        WindowEngine<TSource, TKey, TResult> engine,
        RecordBatch<TSource> batch,
        in StreamRecord<TSource> record,
        long nowTicks,
        IWindowOutput<TSource, TKey, TResult> output,
        out TEvent value,
        out long ticks,
        out TKey key)
    {
        ticks = nowTicks;
        key = default!;
        if (!_chain.TryApply<TSlot>(in record.ValueRef, ref ticks, out value))
        {
            return RecordVerdict.Filtered;
        }

        if (!engine.IsValidTime(ticks, nowTicks))
        {
            engine.RejectTime(batch, record, ticks, nowTicks, output);
            return RecordVerdict.DeadLetter;
        }

        if (_keyReader.Read<TSlot>(value) is not { } read)
        {
            WindowEngine<TSource, TKey, TResult>.RejectKey(batch, record, output);
            return RecordVerdict.DeadLetter;
        }

        key = read;
        return RecordVerdict.Accepted;
    }

    /// <summary>
    /// After the engine's loop caught an exception at <paramref name="record"/>: whether the operators and selectors
    /// throw again on it, which makes the failure the record's (a dead letter), not the window's, an aggregator's or
    /// the output's (those stop the pipeline).
    /// </summary>
    public bool ThrowsOn<TSlot, TResult>(WindowEngine<TSource, TKey, TResult> engine, in StreamRecord<TSource> record, long clockTicks)
    {
        try
        {
            ReadQuietly<TSlot, TResult>(engine, record, clockTicks, out _, out _, out _);
            return false;
        }
#pragma warning disable CA1031 // Any exception of user code on this record makes it a dead letter.
        catch (Exception)
        {
            return true;
        }
#pragma warning restore CA1031
    }

    /// <summary>
    /// What <see cref="Read"/> decides about a record, without handing anything to an output: for replays being rebuilt
    /// (the event, its time and key when accepted) and for counting records again after an exception.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RecordVerdict ReadQuietly<TSlot, TResult>(WindowEngine<TSource, TKey, TResult> engine, in StreamRecord<TSource> record, long clockTicks, out TEvent value, out long ticks, out TKey key)
    {
        ticks = clockTicks;
        key = default!;
        if (!_chain.TryApply<TSlot>(in record.ValueRef, ref ticks, out value))
        {
            return RecordVerdict.Filtered;
        }

        if (!engine.IsValidTime(ticks, clockTicks) || _keyReader.Read<TSlot>(value) is not { } read)
        {
            return RecordVerdict.DeadLetter;
        }

        key = read;
        return RecordVerdict.Accepted;
    }
}
