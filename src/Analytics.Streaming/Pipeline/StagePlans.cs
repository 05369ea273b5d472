using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>
/// The operators of one window stage under construction. Each step returns a new builder whose struct chain type
/// includes the step, so the engine created at the end is one generic instantiation with every operator inlined; the
/// public pipeline builders only see this base class.
/// </summary>
/// <typeparam name="TIn">What the stage receives: the source's records, or the results of the stage before it.</typeparam>
/// <typeparam name="TEvent">What the operators turn it into.</typeparam>
internal abstract class ChainBuilder<TIn, TEvent>
{
    public abstract ChainBuilder<TIn, TEvent> Where(Func<TEvent, bool> predicate);

    public abstract ChainBuilder<TIn, TOut> Select<TOut>(Func<TEvent, TOut> map);

    public abstract ChainBuilder<TIn, TOut> Enrich<TLookupKey, TRow, TOut>(LookupTable<TLookupKey, TRow> table, Func<TEvent, TLookupKey> key, Func<TEvent, TRow, TOut> combine, bool keepMisses, TRow missing)
        where TLookupKey : notnull;

    public abstract ChainBuilder<TIn, TEvent> WithTime(Func<TEvent, DateTimeOffset> time);

    public abstract ChainBuilder<TIn, TEvent> WithUnixMilliseconds(Func<TEvent, long> time);

    public abstract ChainBuilder<TIn, TEvent> Where<TFilter>()
        where TFilter : IEventFilter<TEvent>;

    public abstract ChainBuilder<TIn, TOut> Select<TMap, TOut>()
        where TMap : IEventMap<TEvent, TOut>;

    public abstract ChainBuilder<TIn, TEvent> WithUnixMilliseconds<TSelector>()
        where TSelector : IUnixTimeSelector<TEvent>;

    /// <summary>Turns each event into zero or more (<c>SelectMany</c>); the steps after it run on each item.</summary>
    /// <param name="expand">The expansion.</param>
    /// <param name="inheritTime">Whether the items take the event time their record got before the expansion.</param>
    public virtual ChainBuilder<TIn, TOut> SelectMany<TOut>(Func<TEvent, IEnumerable<TOut>?> expand, bool inheritTime)
        => new ExpandingChainBuilder<TIn, TEvent, TOut, TOut>(this, expand, new ChainBuilder<Expanded<TOut>, TOut, ExpandedChain<TOut>>(new(inheritTime)));

    /// <summary>Gets a value indicating whether a step turns one record into several events (<c>SelectMany</c>).</summary>
    public virtual bool Expands => false;

    /// <summary>Creates the processor of the window stage these operators feed.</summary>
    public abstract WindowProcessor<TIn, TKey, TResult> CreateEngine<TKey, TKeyReader, TAggregator, TAccumulator, TResult>(ProcessorSettings<TIn, TKey> settings, TKeyReader keyReader, TAggregator aggregator)
        where TKey : notnull
        where TKeyReader : struct, IKeyReader<TEvent, TKey>
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>;

    /// <summary>Creates the engine of a pipeline without windows: each kept event is a result (<c>PerEvent()</c>).</summary>
    public abstract WindowEngine<TIn, StreamPosition, TEvent> CreatePerEventEngine(ProcessorSettings<TIn, StreamPosition> settings);

    /// <summary>Puts these operators and an expansion in front of <paramref name="inner"/>, the processor of the items.</summary>
    public abstract WindowProcessor<TIn, TKey, TResult> Expand<TItem, TKey, TResult>(Func<TEvent, IEnumerable<TItem>?> expand, WindowProcessor<Expanded<TItem>, TKey, TResult> inner);
}

/// <summary>A <see cref="ChainBuilder{TIn, TEvent}"/> that knows its chain's struct type.</summary>
/// <remarks>
/// Under the JIT each step nests the chain type one level deeper, so the engine is compiled with every operator inlined.
/// Native AOT cannot do that: it compiles every override of every builder type it can construct, and each step
/// constructs a deeper one, so it would expand chains no pipeline builds until it runs out of memory. Where code cannot
/// be generated at run time, each step therefore folds the chain into a <see cref="DelegateChain{TSource, TEvent}"/>
/// (one delegate call per step). The check is written out in each step so that the AOT compiler drops the nesting
/// branch as dead code.
/// </remarks>
internal sealed class ChainBuilder<TIn, TEvent, TChain>(TChain chain) : ChainBuilder<TIn, TEvent>
    where TChain : struct, IEventChain<TIn, TEvent>
{
    public override ChainBuilder<TIn, TEvent> Where(Func<TEvent, bool> predicate)
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TEvent, WhereChain<TIn, TEvent, TChain>>(new(chain, predicate))
            : Flat<TEvent, WhereChain<TIn, TEvent, TChain>>(new(chain, predicate));

    public override ChainBuilder<TIn, TOut> Select<TOut>(Func<TEvent, TOut> map)
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TOut, SelectChain<TIn, TEvent, TOut, TChain>>(new(chain, map))
            : Flat<TOut, SelectChain<TIn, TEvent, TOut, TChain>>(new(chain, map));

    public override ChainBuilder<TIn, TOut> Enrich<TLookupKey, TRow, TOut>(LookupTable<TLookupKey, TRow> table, Func<TEvent, TLookupKey> key, Func<TEvent, TRow, TOut> combine, bool keepMisses, TRow missing)
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TOut, EnrichChain<TIn, TEvent, TLookupKey, TRow, TOut, TChain>>(new(chain, table, key, combine, keepMisses, missing))
            : Flat<TOut, EnrichChain<TIn, TEvent, TLookupKey, TRow, TOut, TChain>>(new(chain, table, key, combine, keepMisses, missing));

    public override ChainBuilder<TIn, TEvent> WithTime(Func<TEvent, DateTimeOffset> time)
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TEvent, OffsetTimeChain<TIn, TEvent, TChain>>(new(chain, time))
            : Flat<TEvent, OffsetTimeChain<TIn, TEvent, TChain>>(new(chain, time));

    public override ChainBuilder<TIn, TEvent> WithUnixMilliseconds(Func<TEvent, long> time)
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TEvent, UnixMillisecondsTimeChain<TIn, TEvent, TChain>>(new(chain, time))
            : Flat<TEvent, UnixMillisecondsTimeChain<TIn, TEvent, TChain>>(new(chain, time));

    public override ChainBuilder<TIn, TEvent> Where<TFilter>()
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TEvent, StaticWhereChain<TIn, TEvent, TChain, TFilter>>(new(chain))
            : Flat<TEvent, StaticWhereChain<TIn, TEvent, TChain, TFilter>>(new(chain));

    public override ChainBuilder<TIn, TOut> Select<TMap, TOut>()
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TOut, StaticSelectChain<TIn, TEvent, TOut, TChain, TMap>>(new(chain))
            : Flat<TOut, StaticSelectChain<TIn, TEvent, TOut, TChain, TMap>>(new(chain));

    public override ChainBuilder<TIn, TEvent> WithUnixMilliseconds<TSelector>()
        => RuntimeFeature.IsDynamicCodeSupported && !OperatorChains.Flatten
            ? new ChainBuilder<TIn, TEvent, StaticUnixTimeChain<TIn, TEvent, TChain, TSelector>>(new(chain))
            : Flat<TEvent, StaticUnixTimeChain<TIn, TEvent, TChain, TSelector>>(new(chain));

    public override WindowProcessor<TIn, TKey, TResult> CreateEngine<TKey, TKeyReader, TAggregator, TAccumulator, TResult>(ProcessorSettings<TIn, TKey> settings, TKeyReader keyReader, TAggregator aggregator)
        => settings.Window.Kind == WindowKind.Session
            ? new SessionWindowEngine<TIn, TEvent, TChain, TKeyReader, TKey, TAggregator, TAccumulator, TResult>(settings, chain, keyReader, aggregator)
            : new SlicingWindowEngine<TIn, TEvent, TChain, TKeyReader, TKey, TAggregator, TAccumulator, TResult>(settings, chain, keyReader, aggregator);

    public override WindowEngine<TIn, StreamPosition, TEvent> CreatePerEventEngine(ProcessorSettings<TIn, StreamPosition> settings)
        => new PerEventEngine<TIn, TEvent, TChain>(settings, chain);

    public override WindowProcessor<TIn, TKey, TResult> Expand<TItem, TKey, TResult>(Func<TEvent, IEnumerable<TItem>?> expand, WindowProcessor<Expanded<TItem>, TKey, TResult> inner)
        => new ExpandingProcessor<TIn, TEvent, TItem, TChain, TKey, TResult>(chain, expand, inner);

    /// <summary>The chain with one more step, folded into a delegate: the builder type no longer grows with the chain.</summary>
    private static ChainBuilder<TIn, TOut> Flat<TOut, TStep>(TStep step)
        where TStep : struct, IEventChain<TIn, TOut>
        => new ChainBuilder<TIn, TOut, DelegateChain<TIn, TOut>>(new DelegateChain<TIn, TOut>(step.TryApply<ProfileSlots.Slot0>));
}

/// <summary>
/// The operators of a window stage with a <c>SelectMany</c>: the steps before the expansion (<paramref name="front"/>),
/// the expansion, and the steps after it, which run on each item (<paramref name="back"/>; every later step goes there,
/// a further <c>SelectMany</c> included).
/// </summary>
internal sealed class ExpandingChainBuilder<TIn, TMid, TItem, TEvent>(
    ChainBuilder<TIn, TMid> front, Func<TMid, IEnumerable<TItem>?> expand, ChainBuilder<Expanded<TItem>, TEvent> back) : ChainBuilder<TIn, TEvent>
{
    public override bool Expands => true;

    public override ChainBuilder<TIn, TEvent> Where(Func<TEvent, bool> predicate) => With(back.Where(predicate));

    public override ChainBuilder<TIn, TOut> Select<TOut>(Func<TEvent, TOut> map) => With(back.Select(map));

    public override ChainBuilder<TIn, TOut> Enrich<TLookupKey, TRow, TOut>(LookupTable<TLookupKey, TRow> table, Func<TEvent, TLookupKey> key, Func<TEvent, TRow, TOut> combine, bool keepMisses, TRow missing)
        => With(back.Enrich(table, key, combine, keepMisses, missing));

    public override ChainBuilder<TIn, TEvent> WithTime(Func<TEvent, DateTimeOffset> time) => With(back.WithTime(time));

    public override ChainBuilder<TIn, TEvent> WithUnixMilliseconds(Func<TEvent, long> time) => With(back.WithUnixMilliseconds(time));

    public override ChainBuilder<TIn, TEvent> Where<TFilter>() => With(back.Where<TFilter>());

    public override ChainBuilder<TIn, TOut> Select<TMap, TOut>() => With(back.Select<TMap, TOut>());

    public override ChainBuilder<TIn, TEvent> WithUnixMilliseconds<TSelector>() => With(back.WithUnixMilliseconds<TSelector>());

    public override ChainBuilder<TIn, TOut> SelectMany<TOut>(Func<TEvent, IEnumerable<TOut>?> next, bool inheritNextTime) => With(back.SelectMany(next, inheritNextTime));

    public override WindowProcessor<TIn, TKey, TResult> CreateEngine<TKey, TKeyReader, TAggregator, TAccumulator, TResult>(ProcessorSettings<TIn, TKey> settings, TKeyReader keyReader, TAggregator aggregator)
        => front.Expand(expand, back.CreateEngine<TKey, TKeyReader, TAggregator, TAccumulator, TResult>(settings.For<Expanded<TItem>>(), keyReader, aggregator));

    public override WindowEngine<TIn, StreamPosition, TEvent> CreatePerEventEngine(ProcessorSettings<TIn, StreamPosition> settings)
        => throw new InvalidOperationException("PerEvent() cannot follow SelectMany: the builder refuses it.");

    public override WindowProcessor<TIn, TKey, TResult> Expand<TNext, TKey, TResult>(Func<TEvent, IEnumerable<TNext>?> next, WindowProcessor<Expanded<TNext>, TKey, TResult> inner)
        => throw new InvalidOperationException("A further SelectMany belongs to the operators after the first one; this is a bug, please report it.");

    private ExpandingChainBuilder<TIn, TMid, TItem, TOut> With<TOut>(ChainBuilder<Expanded<TItem>, TOut> next) => new(front, expand, next);
}

/// <summary>How operator chains are built.</summary>
internal static class OperatorChains
{
    /// <summary>
    /// Gets or sets a value indicating whether chains are folded into delegates even where code can be generated at
    /// run time, as Native AOT builds them; for tests of that path under the JIT.
    /// </summary>
    public static bool Flatten { get; set; }
}

/// <summary>
/// How the records of one window stage reach it, and how to create the pipeline's processor up to and including that
/// stage: from the source for the first stage, from the results of the stage before it for a window fed by windows.
/// </summary>
/// <typeparam name="TSource">What the pipeline's source delivers.</typeparam>
/// <typeparam name="TEvent">What the stage's windows aggregate.</typeparam>
internal abstract class StagePlan<TSource, TEvent>
{
    /// <summary>Gets a value indicating whether the stage's windows run on processing time.</summary>
    public abstract bool IsProcessingTime { get; }

    /// <summary>Gets a value indicating whether the stage is fed by another window stage.</summary>
    public abstract bool IsDownstream { get; }

    /// <summary>Gets the definition of the stage that feeds this one, when there is one.</summary>
    public virtual PipelineDefinition? UpstreamDefinition => null;

    /// <summary>Creates the processor: the stage's engine, chained behind the stages before it.</summary>
    public abstract WindowProcessor<TSource, TKey, TResult> Create<TKey, TAggregator, TAccumulator, TResult>(StageSettings<TKey> settings, KeyPlan<TEvent, TKey> key, TAggregator aggregator, TimeProvider time, string? partition)
        where TKey : notnull
        where TAggregator : struct, IAggregator<TEvent, TAccumulator, TResult>;
}

/// <summary>The settings of one window stage that do not depend on what feeds it.</summary>
internal sealed record StageSettings<TKey>(
    string PipelineName,
    long OutOfOrdernessTicks,
    long IdleTimeoutTicks,
    long MaxAheadTicks,
    IStateCodec<TKey>? KeyCodec,
    WindowSpec Window,
    long AllowedLatenessTicks,
    EmitMode EmitMode,
    int ProfileSlot)
{
    public ProcessorSettings<TIn, TKey> For<TIn>(bool processingTime, TimeProvider time, string? partition)
        => new(PipelineName, processingTime, OutOfOrdernessTicks, IdleTimeoutTicks, MaxAheadTicks, KeyCodec, Window, AllowedLatenessTicks, EmitMode, time, partition, ProfileSlot);
}

/// <summary>The first window stage: fed by the source through the operators.</summary>
internal sealed class SourcePlan<TSource, TEvent>(ChainBuilder<TSource, TEvent> chain, bool processingTime) : StagePlan<TSource, TEvent>
{
    public override bool IsProcessingTime => processingTime;

    public override bool IsDownstream => false;

    public override WindowProcessor<TSource, TKey, TResult> Create<TKey, TAggregator, TAccumulator, TResult>(StageSettings<TKey> settings, KeyPlan<TEvent, TKey> key, TAggregator aggregator, TimeProvider time, string? partition)
        => key.CreateEngine<TSource, TAggregator, TAccumulator, TResult>(chain, settings.For<TSource>(processingTime, time, partition), aggregator);
}

/// <summary>
/// A window stage fed by the results of the stage before it: each upstream window arrives once, when it closes, with
/// the last instant of the window as its event time; the upstream watermark drives this stage's.
/// </summary>
internal sealed class ResultPlan<TSource, TUpKey, TUpResult>(
    Func<TimeProvider, string?, WindowProcessor<TSource, TUpKey, TUpResult>> upstream,
    ChainBuilder<WindowResult<TUpKey, TUpResult>, WindowResult<TUpKey, TUpResult>> chain) : StagePlan<TSource, WindowResult<TUpKey, TUpResult>>
{
    public override bool IsProcessingTime => false;

    public override bool IsDownstream => true;

    public override WindowProcessor<TSource, TKey, TResult> Create<TKey, TAggregator, TAccumulator, TResult>(StageSettings<TKey> settings, KeyPlan<WindowResult<TUpKey, TUpResult>, TKey> key, TAggregator aggregator, TimeProvider time, string? partition)
    {
        // Results arrive in the upstream watermark's order: no disorder to wait for, never idle.
        var stage = settings with { OutOfOrdernessTicks = 0, IdleTimeoutTicks = 0, MaxAheadTicks = 0 };
        var engine = key.CreateEngine<WindowResult<TUpKey, TUpResult>, TAggregator, TAccumulator, TResult>(chain, stage.For<WindowResult<TUpKey, TUpResult>>(processingTime: false, time, partition), aggregator);
        return new ChainedProcessor<TSource, TUpKey, TUpResult, TKey, TResult>(upstream(time, partition), engine);
    }
}
