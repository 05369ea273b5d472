namespace Analytics.Streaming;

/// <summary>Integer arithmetic on UTC ticks, floored for negative values.</summary>
internal static class TimeMath
{
    /// <summary>The Unix epoch in ticks.</summary>
    public static readonly long UnixEpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    /// <summary>
    /// The earliest supported event time: one tick after the Unix epoch. The epoch itself is what a missing or zero
    /// time field becomes, so it is rejected rather than counted in 1970's windows.
    /// </summary>
    public static readonly long MinEventTicks = UnixEpochTicks + 1;

    /// <summary>The latest supported event time (exclusive): year 9000, leaving room for window ends and lateness.</summary>
    public static readonly long MaxEventTicks = new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public static long FloorDiv(long value, long divisor)
    {
        long quotient = value / divisor;
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
    }

    /// <summary>The largest <c>offset + k * step</c> that is at most <paramref name="value"/>.</summary>
    public static long AlignDown(long value, long step, long offset) => (FloorDiv(value - offset, step) * step) + offset;

    /// <summary>The smallest <c>offset + k * step</c> that is at least <paramref name="value"/>.</summary>
    public static long AlignUp(long value, long step, long offset)
    {
        long down = AlignDown(value, step, offset);
        return down == value ? value : down + step;
    }

    public static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    public static long SaturatingAdd(long a, long b)
    {
        long sum = unchecked(a + b);
        return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : sum;
    }

    public static long SaturatingSubtract(long a, long b) => b == long.MinValue ? (a >= 0 ? long.MaxValue : unchecked(a - b)) : SaturatingAdd(a, -b);

    public static DateTimeOffset ToTime(long ticks)
        => ticks <= DateTimeOffset.MinValue.UtcTicks ? DateTimeOffset.MinValue
         : ticks >= DateTimeOffset.MaxValue.UtcTicks ? DateTimeOffset.MaxValue
         : new DateTimeOffset(ticks, TimeSpan.Zero);
}
