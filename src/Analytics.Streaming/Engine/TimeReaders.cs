using System.Runtime.CompilerServices;

namespace Analytics.Streaming;

/// <summary>Reads an event's time in UTC ticks. Engines are generic over the reader so each kind is specialized.</summary>
internal interface ITimeReader<TEvent>
{
    long Read(in TEvent value);
}

/// <summary>Event time from a <see cref="DateTimeOffset"/> selector.</summary>
internal readonly struct OffsetTimeReader<TEvent>(Func<TEvent, DateTimeOffset> selector) : ITimeReader<TEvent>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Read(in TEvent value) => selector(value).UtcTicks;
}

/// <summary>Event time from a Unix-milliseconds selector.</summary>
internal readonly struct UnixMillisecondsTimeReader<TEvent>(Func<TEvent, long> selector) : ITimeReader<TEvent>
{
    private static readonly long EpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Read(in TEvent value)
    {
        long milliseconds = selector(value);

        // Out-of-range values map to a time the range check rejects, instead of overflowing.
        return (ulong)milliseconds <= (ulong)(long.MaxValue / TimeSpan.TicksPerMillisecond) - (ulong)(EpochTicks / TimeSpan.TicksPerMillisecond)
            ? EpochTicks + (milliseconds * TimeSpan.TicksPerMillisecond)
            : long.MinValue;
    }
}

/// <summary>Processing time: every event of a batch gets the time the batch is processed.</summary>
internal readonly struct ProcessingTimeReader<TEvent>(long nowTicks) : ITimeReader<TEvent>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Read(in TEvent value) => nowTicks;
}
