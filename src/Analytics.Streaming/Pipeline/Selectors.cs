using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>
/// Reads a window key, as a static member of a type instead of a delegate: the pipeline calls it directly, so it is
/// inlined into the engine's loop with or without dynamic PGO and under Native AOT. For the hottest pipelines; a
/// lambda (<c>KeyBy(e =&gt; e.Page)</c>) is simpler and fast enough for most.
/// </summary>
/// <typeparam name="TEvent">The event type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <example>
/// <code>
/// readonly struct ByAuction : IKeySelector&lt;Bid, long&gt; { public static long Select(in Bid bid) =&gt; bid.Auction; }
/// pipeline.KeyBy&lt;ByAuction, long&gt;()
/// </code>
/// </example>
public interface IKeySelector<TEvent, TKey>
{
    /// <summary>Reads the key; <see langword="null"/> sends the record to the dead letters, and so does an exception.</summary>
    /// <param name="value">The event.</param>
    /// <returns>The key.</returns>
    static abstract TKey? Select(in TEvent value);
}

/// <summary>Reads an event time in Unix milliseconds as a static member (see <see cref="IKeySelector{TEvent, TKey}"/> for why).</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
public interface IUnixTimeSelector<TEvent>
{
    /// <summary>Reads the event time in milliseconds since 1970-01-01T00:00:00Z; an exception makes the record a dead letter.</summary>
    /// <param name="value">The event.</param>
    /// <returns>The time.</returns>
    static abstract long Select(in TEvent value);
}

/// <summary>Decides whether an event goes on, as a static member (see <see cref="IKeySelector{TEvent, TKey}"/> for why).</summary>
/// <typeparam name="TEvent">The event type.</typeparam>
public interface IEventFilter<TEvent>
{
    /// <summary>Decides; an exception makes the record a dead letter.</summary>
    /// <param name="value">The event.</param>
    /// <returns><see langword="true"/> to keep the event.</returns>
    static abstract bool Keep(in TEvent value);
}

/// <summary>Turns an event into another, as a static member (see <see cref="IKeySelector{TEvent, TKey}"/> for why).</summary>
/// <typeparam name="TIn">The event type.</typeparam>
/// <typeparam name="TOut">The new event type.</typeparam>
public interface IEventMap<TIn, TOut>
{
    /// <summary>Maps; an exception makes the record a dead letter.</summary>
    /// <param name="value">The event.</param>
    /// <returns>The new event.</returns>
    static abstract TOut Map(in TIn value);
}

/// <summary>How the engine reads a key: a struct, so each kind of selector compiles into the loop.</summary>
internal interface IKeyReader<TEvent, TKey>
{
    TKey? Read<TSlot>(in TEvent value);
}

/// <summary>A key from a delegate.</summary>
internal readonly struct DelegateKeyReader<TEvent, TKey>(Func<TEvent, TKey?> selector) : IKeyReader<TEvent, TKey>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TKey? Read<TSlot>(in TEvent value) => selector(value);
}

/// <summary>A key from a static selector.</summary>
internal readonly struct StaticKeyReader<TEvent, TKey, TSelector> : IKeyReader<TEvent, TKey>
    where TSelector : IKeySelector<TEvent, TKey>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TKey? Read<TSlot>(in TEvent value) => TSelector.Select(value);
}

/// <summary>The one key of windows over every event: nothing to read.</summary>
internal readonly struct GlobalKeyReader<TEvent> : IKeyReader<TEvent, GlobalKey>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public GlobalKey Read<TSlot>(in TEvent value) => default;
}

/// <summary>The key part of a window stage under construction: knows its reader's struct type and creates the engine with it.</summary>
internal abstract class KeyPlan<TEvent, TKey>
    where TKey : notnull
{
    public abstract WindowProcessor<TIn, TKey, TResult> CreateEngine<TIn, TAggregator, TAccumulator, TResult>(ChainBuilder<TIn, TEvent> chain, ProcessorSettings<TIn, TKey> settings, TAggregator aggregator)
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>;
}

/// <summary>A <see cref="KeyPlan{TEvent, TKey}"/> with its reader.</summary>
internal sealed class KeyPlan<TEvent, TKey, TReader>(TReader reader) : KeyPlan<TEvent, TKey>
    where TKey : notnull
    where TReader : struct, IKeyReader<TEvent, TKey>
{
    public override WindowProcessor<TIn, TKey, TResult> CreateEngine<TIn, TAggregator, TAccumulator, TResult>(ChainBuilder<TIn, TEvent> chain, ProcessorSettings<TIn, TKey> settings, TAggregator aggregator)
        => chain.CreateEngine<TKey, TReader, TAggregator, TAccumulator, TResult>(settings, reader, aggregator);
}
