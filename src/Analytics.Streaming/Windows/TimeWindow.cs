namespace Analytics.Streaming;

/// <summary>A half-open event-time interval <c>[Start, End)</c> in UTC.</summary>
/// <remarks>Stored as UTC ticks so that comparing and hashing windows is cheap.</remarks>
public readonly record struct TimeWindow : IComparable<TimeWindow>
{
    /// <summary>Creates a window from UTC ticks.</summary>
    /// <param name="startTicks">The inclusive start, in UTC ticks.</param>
    /// <param name="endTicks">The exclusive end, in UTC ticks; greater than <paramref name="startTicks"/>.</param>
    public TimeWindow(long startTicks, long endTicks)
    {
        if (endTicks <= startTicks)
        {
            throw new ArgumentOutOfRangeException(nameof(endTicks), $"A window must end after it starts (start {startTicks}, end {endTicks} ticks).");
        }

        StartTicks = startTicks;
        EndTicks = endTicks;
    }

    /// <summary>Creates a window.</summary>
    /// <param name="start">The inclusive start.</param>
    /// <param name="end">The exclusive end.</param>
    public TimeWindow(DateTimeOffset start, DateTimeOffset end)
        : this(start.UtcTicks, end.UtcTicks)
    {
    }

    /// <summary>Gets the inclusive start in UTC ticks.</summary>
    public long StartTicks { get; }

    /// <summary>Gets the exclusive end in UTC ticks.</summary>
    public long EndTicks { get; }

    /// <summary>Gets the inclusive start.</summary>
    public DateTimeOffset Start => new(StartTicks, TimeSpan.Zero);

    /// <summary>Gets the exclusive end.</summary>
    public DateTimeOffset End => new(EndTicks, TimeSpan.Zero);

    /// <summary>Gets the length of the window.</summary>
    public TimeSpan Duration => TimeSpan.FromTicks(EndTicks - StartTicks);

    /// <summary>Whether an instant falls inside the window.</summary>
    /// <param name="time">The instant.</param>
    /// <returns><see langword="true"/> when <c>Start &lt;= time &lt; End</c>.</returns>
    public bool Contains(DateTimeOffset time) => time.UtcTicks >= StartTicks && time.UtcTicks < EndTicks;

    /// <inheritdoc />
    public int CompareTo(TimeWindow other)
    {
        int byStart = StartTicks.CompareTo(other.StartTicks);
        return byStart != 0 ? byStart : EndTicks.CompareTo(other.EndTicks);
    }

    /// <summary>Returns <c>[start, end)</c> in ISO 8601.</summary>
    public override string ToString() => $"[{Start:O}, {End:O})";

    /// <summary>Compares two windows.</summary>
    public static bool operator <(TimeWindow left, TimeWindow right) => left.CompareTo(right) < 0;

    /// <summary>Compares two windows.</summary>
    public static bool operator >(TimeWindow left, TimeWindow right) => left.CompareTo(right) > 0;

    /// <summary>Compares two windows.</summary>
    public static bool operator <=(TimeWindow left, TimeWindow right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two windows.</summary>
    public static bool operator >=(TimeWindow left, TimeWindow right) => left.CompareTo(right) >= 0;
}
