namespace Analytics.Streaming;

/// <summary>
/// The clock the watermark's idle timeouts run on in a pipeline: reading time. A partition is idle when the source
/// delivered nothing from it for the idle timeout, so each batch and clock tick is judged at the time the pipeline
/// read it (<see cref="ReadTime"/>), not when its turn to be processed came: a slow selector, a large checkpoint or a
/// pause leaves the batches read meanwhile waiting in the pipeline's channel, but their partitions were not idle.
/// </summary>
/// <remarks>
/// <para>
/// The clock also stops while the pipeline holds its reading back (<see cref="Begin"/>): its reader waits for room in
/// the pipeline's channel because the processing or the sinks are behind. Batches the source holds meanwhile are read
/// late, and ticks come on, but their partitions were not idle either. The clocks of the pipelines of a fan-out are
/// linked (<see cref="Link"/>): one pipeline that holds back stops the shared source for all of them.
/// </para>
/// <para>
/// Only the part of a wait beyond <see cref="Tolerance"/> is left out. Shorter waits are the ordinary pace of a
/// pipeline that is slower than its source: batches keep flowing, a little later each, and a partition without records
/// must still turn idle after the idle timeout. Leaving those waits out would slow the idle clocks down by the share of
/// the time spent waiting (tenfold for a sink ten times slower than the source).
/// </para>
/// <para>Thread-safe, except <see cref="ReadTime"/>, which the processing stage sets and the engine reads on one thread. Times are on the pipeline's <see cref="TimeProvider"/>.</para>
/// </remarks>
internal sealed class IdleClock
{
    /// <summary>How long a wait lasts before it counts as holding back: one second.</summary>
    public const long Tolerance = TimeSpan.TicksPerSecond;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private IdleClock[] _group;
    private int _open;
    private long _since;
    private long _stalled;

    public IdleClock(TimeProvider time)
    {
        _time = time;
        _group = [this];
    }

    /// <summary>Gets a value indicating whether a wait of this clock's group is going on.</summary>
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

    /// <summary>
    /// Gets or sets the time on this clock at which what the processing stage handles now (a batch, a tick, an
    /// announcement) was read; <see langword="null"/> before the first. The engine judges idleness at this time.
    /// </summary>
    public long? ReadTime { get; set; }

    /// <summary>Links clocks so that a wait of any of them is a wait of all (the pipelines of a fan-out). Call it before any of them waits.</summary>
    /// <param name="clocks">The clocks.</param>
    public static void Link(IdleClock[] clocks)
    {
        foreach (var clock in clocks)
        {
            Volatile.Write(ref clock._group, clocks);
        }
    }

    /// <summary>Starts a wait of the clock's group (reading held back); end it with <see cref="End"/>, passing what this returned.</summary>
    /// <returns>The clocks the wait was started on.</returns>
    public IdleClock[] Begin()
    {
        var group = Volatile.Read(ref _group);
        foreach (var clock in group)
        {
            clock.Open(+1);
        }

        return group;
    }

    /// <summary>Ends a wait started with <see cref="Begin"/>.</summary>
    /// <param name="group">What <see cref="Begin"/> returned.</param>
    public static void End(IdleClock[] group)
    {
        foreach (var clock in group)
        {
            clock.Open(-1);
        }
    }

    /// <summary>Gets the time on this clock now.</summary>
    /// <returns>The pipeline's time (UTC ticks) minus every wait up to now; it stops moving once a wait has lasted <see cref="Tolerance"/>.</returns>
    public long Now()
    {
        long nowTicks = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            return nowTicks - _stalled - (_open > 0 ? Stall(nowTicks - _since) : 0);
        }
    }

    /// <summary>The part of a wait of <paramref name="waitTicks"/> that is left out.</summary>
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
