namespace Analytics.Streaming;

/// <summary>
/// How long a pipeline's reading was held back by its own sinks: the time its processing stage waited because the
/// delivery stage's channel was full. That time is not idleness of the source's partitions (their batches wait in the
/// channels meanwhile), so the watermark's idle clocks leave it out (<see cref="Exclude"/>). The clocks of the pipelines
/// of a fan-out are linked: one pipeline's slow sink stops the shared source for all of them.
/// </summary>
/// <remarks>
/// <para>
/// Only the part of a wait beyond <see cref="Tolerance"/> is left out. Shorter waits are the ordinary pace of a sink that
/// is slower than the source: batches keep flowing, a little later each, and a partition without records must still
/// turn idle after the idle timeout. Leaving those waits out would slow the idle clocks down by the share of the time
/// spent waiting (tenfold for a sink ten times slower than the processing).
/// </para>
/// <para>Thread-safe. Waits are measured on the pipeline's <see cref="TimeProvider"/>.</para>
/// </remarks>
internal sealed class StallClock
{
    /// <summary>How long a wait lasts before it counts as a stall: one second.</summary>
    public const long Tolerance = TimeSpan.TicksPerSecond;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private StallClock[] _group;
    private int _open;
    private long _since;
    private long _stalled;

    public StallClock(TimeProvider time)
    {
        _time = time;
        _group = [this];
    }

    /// <summary>Gets a value indicating whether a stall of this clock's group is going on.</summary>
    public bool IsStalled
    {
        get
        {
            lock (_gate)
            {
                return _open > 0;
            }
        }
    }

    /// <summary>Links clocks so that a stall of any of them is a stall of all (the pipelines of a fan-out). Call it before any of them stalls.</summary>
    /// <param name="clocks">The clocks.</param>
    public static void Link(StallClock[] clocks)
    {
        foreach (var clock in clocks)
        {
            Volatile.Write(ref clock._group, clocks);
        }
    }

    /// <summary>Starts a stall of the clock's group; end it with <see cref="End"/>, passing what this returned.</summary>
    /// <returns>The clocks the stall was started on.</returns>
    public StallClock[] Begin()
    {
        var group = Volatile.Read(ref _group);
        foreach (var clock in group)
        {
            clock.Open(+1);
        }

        return group;
    }

    /// <summary>Ends a stall started with <see cref="Begin"/>.</summary>
    /// <param name="group">What <see cref="Begin"/> returned.</param>
    public static void End(StallClock[] group)
    {
        foreach (var clock in group)
        {
            clock.Open(-1);
        }
    }

    /// <summary>Converts a reading of the pipeline's clock (UTC ticks) to idle-clock time: the reading minus every stall up to it.</summary>
    /// <param name="nowTicks">The reading.</param>
    /// <returns>The idle-clock time; it stops moving once a wait has lasted <see cref="Tolerance"/>.</returns>
    public long Exclude(long nowTicks)
    {
        lock (_gate)
        {
            return nowTicks - _stalled - (_open > 0 ? Stall(nowTicks - _since) : 0);
        }
    }

    /// <summary>The part of a wait of <paramref name="waitTicks"/> that is a stall.</summary>
    private static long Stall(long waitTicks) => Math.Max(0, waitTicks - Tolerance);

    private void Open(int delta)
    {
        long now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            if (delta > 0 && _open++ == 0)
            {
                _since = now;
            }
            else if (delta < 0 && --_open == 0)
            {
                _stalled += Stall(now - _since);
            }
        }
    }
}
