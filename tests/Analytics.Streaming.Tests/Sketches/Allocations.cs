namespace Analytics.Streaming.Tests.Sketches;

/// <summary>Measures what a piece of code allocates on the managed heap.</summary>
internal static class Allocations
{
    /// <summary>
    /// The bytes <paramref name="make"/> allocates on this thread, measured on its second call: the first loads and
    /// compiles what it uses.
    /// </summary>
    public static long Of<T>(Func<T> make, out T made)
    {
        make();
        long before = GC.GetAllocatedBytesForCurrentThread();
        made = make();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
