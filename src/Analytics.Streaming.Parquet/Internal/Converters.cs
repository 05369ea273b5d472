namespace Analytics.Streaming.Parquet.Internal;

/// <summary>A conversion from a CLR value to the stored value of a column, specialized per struct type by the JIT.</summary>
internal interface IConverter<TIn, TOut>
{
    static abstract TOut Convert(TIn value);
}

internal readonly struct Identity<T> : IConverter<T, T>
{
    public static T Convert(T value) => value;
}

internal readonly struct DateTimeMicros : IConverter<DateTime, long>
{
    public static long Convert(DateTime value) => TimeUnits.FloorDiv(TimeUnits.UtcTicks(value) - DateTime.UnixEpoch.Ticks, 10);
}

internal readonly struct DateTimeMillis : IConverter<DateTime, long>
{
    public static long Convert(DateTime value) => TimeUnits.FloorDiv(TimeUnits.UtcTicks(value) - DateTime.UnixEpoch.Ticks, 10_000);
}

internal readonly struct DateTimeOffsetMicros : IConverter<DateTimeOffset, long>
{
    public static long Convert(DateTimeOffset value) => TimeUnits.FloorDiv(value.UtcTicks - DateTime.UnixEpoch.Ticks, 10);
}

internal readonly struct DateTimeOffsetMillis : IConverter<DateTimeOffset, long>
{
    public static long Convert(DateTimeOffset value) => TimeUnits.FloorDiv(value.UtcTicks - DateTime.UnixEpoch.Ticks, 10_000);
}

internal readonly struct DateOnlyDays : IConverter<DateOnly, int>
{
    public static int Convert(DateOnly value) => value.DayNumber - TimeUnits.EpochDayNumber;
}

internal static class TimeUnits
{
    public static readonly int EpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    /// <summary>UTC ticks: a <see cref="DateTimeKind.Local"/> value is converted, Utc and Unspecified are taken as UTC.</summary>
    public static long UtcTicks(DateTime value) => value.Kind == DateTimeKind.Local ? value.ToUniversalTime().Ticks : value.Ticks;

    public static long FloorDiv(long value, long divisor)
    {
        long quotient = value / divisor;
        return (value % divisor) < 0 ? quotient - 1 : quotient;
    }
}
