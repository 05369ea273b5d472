using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>
/// Gives pipelines of one shape per-record code of their own, so that the JIT inlines the lambdas of each of them.
/// </summary>
/// <remarks>
/// <para>
/// Dynamic PGO profiles a method once per instantiation, and pipelines of one shape (the same event, operator, key and
/// aggregator types: a fan-out of page views counted per page and per referrer, for example) run the same
/// instantiations. Their selector calls then share one profile that has seen several lambdas, and the JIT inlines
/// those of one pipeline at most, calling the others' through the delegate (Nexmark Q7 with <c>MaxBy</c> took 43 ns
/// per event beside a Q7 with <c>Max</c>, 17-27 ns alone).
/// </para>
/// <para>
/// Each window stage takes the next of <see cref="Count"/> slots when it is built, and the engines compile their
/// per-record loop, with the operators and key reader inlined into it, once per slot: generic methods instantiated
/// over the slot's empty struct, with a profile each. Every processor a stage creates (a partition's, a restart's) has
/// its slot, so it reuses the code the others made fast. Without dynamic code (Native AOT) there is no profile to
/// keep apart, and every stage takes slot 0, so that nothing is compiled four times.
/// </para>
/// </remarks>
internal static class ProfileSlots
{
    /// <summary>The number of slots: up to this many pipelines of one shape have code of their own.</summary>
    public const int Count = 4;

    private static int s_next = -1;

    /// <summary>Takes the slot for a new window stage.</summary>
    /// <returns>A slot from 0 to <see cref="Count"/> - 1.</returns>
    public static int Next() => RuntimeFeature.IsDynamicCodeSupported ? (int)((uint)Interlocked.Increment(ref s_next) % Count) : 0;

    /// <summary>Slot 0.</summary>
    internal readonly struct Slot0
    {
    }

    /// <summary>Slot 1.</summary>
    internal readonly struct Slot1
    {
    }

    /// <summary>Slot 2.</summary>
    internal readonly struct Slot2
    {
    }

    /// <summary>Slot 3.</summary>
    internal readonly struct Slot3
    {
    }
}
