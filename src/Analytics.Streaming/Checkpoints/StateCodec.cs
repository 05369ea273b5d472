using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Analytics.Streaming;

/// <summary>Writes values of one type into checkpoints (window keys, accumulators) and reads them back.</summary>
/// <typeparam name="T">The value type.</typeparam>
/// <remarks>
/// Implementations are stateless and thread-safe. <see cref="Read"/> consumes exactly what <see cref="Write"/> wrote
/// and throws <see cref="FormatException"/> on bad bytes. Keep the encoding stable: a checkpoint written by one
/// version of your code is read by the next one.
/// </remarks>
public interface IStateCodec<T>
{
    /// <summary>Writes a value.</summary>
    /// <param name="destination">Where to write.</param>
    /// <param name="value">The value.</param>
    void Write(IBufferWriter<byte> destination, T value);

    /// <summary>Reads a value and moves <paramref name="source"/> past it.</summary>
    /// <param name="source">The remaining bytes.</param>
    /// <returns>The value.</returns>
    T Read(ref ReadOnlySpan<byte> source);
}

/// <summary>
/// An aggregator whose accumulators can be saved in checkpoints, so that open windows survive a restart without a
/// replay. Every built-in aggregator implements it; implement it on your own aggregators to use window state
/// snapshots with them.
/// </summary>
/// <typeparam name="TAccumulator">The accumulator type.</typeparam>
public interface IPersistentAggregator<TAccumulator>
{
    /// <summary>Gets the codec of the accumulators, or <see langword="null"/> when they cannot be saved (for example a pair whose second aggregator cannot).</summary>
    IStateCodec<TAccumulator>? AccumulatorCodec { get; }
}

/// <summary>The built-in state codecs, and combinators for your own key and accumulator types.</summary>
public static class StateCodec
{
#pragma warning disable CA1720 // The codecs are named after the types they encode, as the BCL names its converters.
    /// <summary>Gets the codec of strings (length-prefixed UTF-8, lone surrogates as WTF-8; <see langword="null"/> is kept).</summary>
    public static IStateCodec<string?> String { get; } = new StringCodec();

    /// <summary>Gets the codec of 32-bit integers.</summary>
    public static IStateCodec<int> Int32 { get; } = new Int32Codec();

    /// <summary>Gets the codec of 64-bit integers.</summary>
    public static IStateCodec<long> Int64 { get; } = new Int64Codec();

    /// <summary>Gets the codec of double-precision numbers (bit exact, NaN and infinities included).</summary>
    public static IStateCodec<double> Double { get; } = new DoubleCodec();

    /// <summary>Gets the codec of decimals.</summary>
    public static IStateCodec<decimal> Decimal { get; } = new DecimalCodec();

    /// <summary>Gets the codec of Booleans.</summary>
    public static IStateCodec<bool> Boolean { get; } = new BooleanCodec();

    /// <summary>Gets the codec of GUIDs.</summary>
    public static IStateCodec<Guid> Guid { get; } = new GuidCodec();

    /// <summary>Gets the codec of instants (UTC ticks; the offset is not kept).</summary>
    public static IStateCodec<DateTimeOffset> DateTimeOffset { get; } = new DateTimeOffsetCodec();

    /// <summary>Gets the codec of <see cref="GlobalKey"/> (nothing to write).</summary>
    public static IStateCodec<GlobalKey> GlobalKey { get; } = new GlobalKeyCodec();
#pragma warning restore CA1720

    /// <summary>Combines two codecs into one for pairs (for example a key <c>(string Page, int Country)</c>).</summary>
    /// <typeparam name="T1">The first element type.</typeparam>
    /// <typeparam name="T2">The second element type.</typeparam>
    /// <param name="first">The codec of the first element.</param>
    /// <param name="second">The codec of the second element.</param>
    /// <returns>The pair codec.</returns>
    public static IStateCodec<(T1, T2)> Pair<T1, T2>(IStateCodec<T1> first, IStateCodec<T2> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return new PairCodec<T1, T2>(first, second);
    }

    /// <summary>A codec that writes values as JSON with source-generated metadata (trimming and AOT safe): any type System.Text.Json can round-trip.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="typeInfo">The serializer metadata, from a <c>JsonSerializerContext</c>.</param>
    /// <returns>The codec.</returns>
    public static IStateCodec<T> Json<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonCodec<T>(typeInfo);
    }

    /// <summary>Gets the built-in codec of <typeparamref name="T"/>, or <see langword="null"/> when there is none (use <see cref="Pair"/> or <see cref="Json"/>).</summary>
    /// <typeparam name="T">The value type: string, 32/64-bit integer, double, decimal, bool, GUID, <see cref="System.DateTimeOffset"/> or <see cref="Analytics.Streaming.GlobalKey"/>.</typeparam>
    /// <returns>The codec, or <see langword="null"/>.</returns>
    public static IStateCodec<T>? Default<T>()
    {
        object? codec = typeof(T) == typeof(string) ? String
            : typeof(T) == typeof(int) ? Int32
            : typeof(T) == typeof(long) ? Int64
            : typeof(T) == typeof(double) ? Double
            : typeof(T) == typeof(decimal) ? Decimal
            : typeof(T) == typeof(bool) ? Boolean
            : typeof(T) == typeof(Guid) ? Guid
            : typeof(T) == typeof(DateTimeOffset) ? DateTimeOffset
            : typeof(T) == typeof(GlobalKey) ? GlobalKey
            : null;
        return codec as IStateCodec<T>;
    }

    internal static void WriteVarInt(IBufferWriter<byte> destination, ulong value)
    {
        var span = destination.GetSpan(10);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        destination.Advance(i);
    }

    internal static ulong ReadVarInt(ref ReadOnlySpan<byte> source)
    {
        ulong result = 0;
        for (int shift = 0, i = 0; shift < 70; shift += 7, i++)
        {
            if (i >= source.Length)
            {
                throw new FormatException("The state ends inside a number.");
            }

            byte b = source[i];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                source = source[(i + 1)..];
                return result;
            }
        }

        throw new FormatException("A number in the state is longer than 10 bytes.");
    }

    internal static void WriteInt64(IBufferWriter<byte> destination, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination.GetSpan(8), value);
        destination.Advance(8);
    }

    internal static long ReadInt64(ref ReadOnlySpan<byte> source)
    {
        if (source.Length < 8)
        {
            throw new FormatException("The state ends inside a 64-bit number.");
        }

        long value = BinaryPrimitives.ReadInt64LittleEndian(source);
        source = source[8..];
        return value;
    }

    internal static void WriteBytes(IBufferWriter<byte> destination, ReadOnlySpan<byte> bytes)
    {
        WriteVarInt(destination, (ulong)bytes.Length);
        destination.Write(bytes);
    }

    internal static ReadOnlySpan<byte> ReadBytes(ref ReadOnlySpan<byte> source)
    {
        ulong length = ReadVarInt(ref source);
        if (length > (ulong)source.Length)
        {
            throw new FormatException($"The state holds a {length}-byte value but only {source.Length} bytes remain.");
        }

        var bytes = source[..(int)length];
        source = source[(int)length..];
        return bytes;
    }

    /// <summary>Strings as UTF-8; lone surrogates, which a .NET string may hold, as WTF-8 (<see cref="Wtf8"/>).</summary>
    private sealed class StringCodec : IStateCodec<string?>
    {
        public void Write(IBufferWriter<byte> destination, string? value)
        {
            if (value is null)
            {
                WriteVarInt(destination, 0);
                return;
            }

            int length = Wtf8.GetByteCount(value);
            WriteVarInt(destination, (ulong)length + 1);
            var span = destination.GetSpan(length);
            Wtf8.Write(value, span);
            destination.Advance(length);
        }

        public string? Read(ref ReadOnlySpan<byte> source)
        {
            ulong length = ReadVarInt(ref source);
            if (length == 0)
            {
                return null;
            }

            length--;
            if (length > (ulong)source.Length)
            {
                throw new FormatException("The state ends inside a string.");
            }

            string value;
            try
            {
                value = Wtf8.GetString(source[..(int)length]);
            }
            catch (FormatException ex)
            {
                throw new FormatException("A string in the state is not valid UTF-8.", ex);
            }

            source = source[(int)length..];
            return value;
        }
    }

    private sealed class Int32Codec : IStateCodec<int>
    {
        public void Write(IBufferWriter<byte> destination, int value) => WriteVarInt(destination, (uint)value);

        public int Read(ref ReadOnlySpan<byte> source) => unchecked((int)(uint)ReadVarInt(ref source));
    }

    private sealed class Int64Codec : IStateCodec<long>
    {
        public void Write(IBufferWriter<byte> destination, long value) => WriteInt64(destination, value);

        public long Read(ref ReadOnlySpan<byte> source) => ReadInt64(ref source);
    }

    private sealed class DoubleCodec : IStateCodec<double>
    {
        public void Write(IBufferWriter<byte> destination, double value) => WriteInt64(destination, BitConverter.DoubleToInt64Bits(value));

        public double Read(ref ReadOnlySpan<byte> source) => BitConverter.Int64BitsToDouble(ReadInt64(ref source));
    }

    private sealed class DecimalCodec : IStateCodec<decimal>
    {
        public void Write(IBufferWriter<byte> destination, decimal value)
        {
            Span<int> bits = stackalloc int[4];
            decimal.GetBits(value, bits);
            foreach (int part in bits)
            {
                BinaryPrimitives.WriteInt32LittleEndian(destination.GetSpan(4), part);
                destination.Advance(4);
            }
        }

        public decimal Read(ref ReadOnlySpan<byte> source)
        {
            if (source.Length < 16)
            {
                throw new FormatException("The state ends inside a decimal.");
            }

            Span<int> bits = stackalloc int[4];
            for (int i = 0; i < 4; i++)
            {
                bits[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(i * 4)..]);
            }

            source = source[16..];
            try
            {
                return new decimal(bits);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException("A decimal in the state is invalid.", ex);
            }
        }
    }

    private sealed class BooleanCodec : IStateCodec<bool>
    {
        public void Write(IBufferWriter<byte> destination, bool value)
        {
            destination.GetSpan(1)[0] = value ? (byte)1 : (byte)0;
            destination.Advance(1);
        }

        public bool Read(ref ReadOnlySpan<byte> source)
        {
            if (source.IsEmpty || source[0] > 1)
            {
                throw new FormatException("A Boolean in the state is missing or not 0/1.");
            }

            bool value = source[0] == 1;
            source = source[1..];
            return value;
        }
    }

    private sealed class GuidCodec : IStateCodec<Guid>
    {
        public void Write(IBufferWriter<byte> destination, Guid value)
        {
            value.TryWriteBytes(destination.GetSpan(16));
            destination.Advance(16);
        }

        public Guid Read(ref ReadOnlySpan<byte> source)
        {
            if (source.Length < 16)
            {
                throw new FormatException("The state ends inside a GUID.");
            }

            var value = new Guid(source[..16]);
            source = source[16..];
            return value;
        }
    }

    private sealed class DateTimeOffsetCodec : IStateCodec<DateTimeOffset>
    {
        public void Write(IBufferWriter<byte> destination, DateTimeOffset value) => WriteInt64(destination, value.UtcTicks);

        public DateTimeOffset Read(ref ReadOnlySpan<byte> source)
        {
            long ticks = ReadInt64(ref source);
            return ticks >= System.DateTimeOffset.MinValue.UtcTicks && ticks <= System.DateTimeOffset.MaxValue.UtcTicks
                ? new DateTimeOffset(ticks, TimeSpan.Zero)
                : throw new FormatException("An instant in the state is out of range.");
        }
    }

    private sealed class GlobalKeyCodec : IStateCodec<GlobalKey>
    {
        public void Write(IBufferWriter<byte> destination, GlobalKey value)
        {
        }

        public GlobalKey Read(ref ReadOnlySpan<byte> source) => default;
    }

    private sealed class PairCodec<T1, T2>(IStateCodec<T1> first, IStateCodec<T2> second) : IStateCodec<(T1, T2)>
    {
        public void Write(IBufferWriter<byte> destination, (T1, T2) value)
        {
            first.Write(destination, value.Item1);
            second.Write(destination, value.Item2);
        }

        public (T1, T2) Read(ref ReadOnlySpan<byte> source)
        {
            var a = first.Read(ref source);
            var b = second.Read(ref source);
            return (a, b);
        }
    }

    private sealed class JsonCodec<T>(JsonTypeInfo<T> typeInfo) : IStateCodec<T>
    {
        public void Write(IBufferWriter<byte> destination, T value)
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
            WriteBytes(destination, json);
        }

        public T Read(ref ReadOnlySpan<byte> source)
        {
            var json = ReadBytes(ref source);
            try
            {
                return JsonSerializer.Deserialize(json, typeInfo)!;
            }
            catch (JsonException ex)
            {
                throw new FormatException($"A {typeof(T).Name} in the state is not valid JSON: {ex.Message}", ex);
            }
        }
    }
}
