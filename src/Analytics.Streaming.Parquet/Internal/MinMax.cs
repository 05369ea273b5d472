using System.Numerics;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>How a column orders its values for statistics (Parquet's TYPE_ORDER), as static members the JIT inlines.</summary>
internal interface IStatisticsOrder<T>
{
    /// <summary>Compares as the column's sort order does.</summary>
    static abstract int Compare(T x, T y);

    /// <summary>Whether a value stays out of min and max (NaN).</summary>
    static abstract bool IsExcluded(T value);

    /// <summary>What to keep of a value that becomes min or max (a copy when the caller may reuse it).</summary>
    static abstract T Keep(T value);
}

/// <summary>The minimum and maximum of a column chunk's values in the order <typeparamref name="TOrder"/>.</summary>
internal struct MinMax<T, TOrder>
    where TOrder : IStatisticsOrder<T>
{
    public bool HasValue;
    public T Min;
    public T Max;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(T value)
    {
        if (TOrder.IsExcluded(value))
        {
            return;
        }

        if (!HasValue)
        {
            Min = TOrder.Keep(value);
            Max = Min;
            HasValue = true;
        }
        else if (TOrder.Compare(value, Min) < 0)
        {
            Min = TOrder.Keep(value);
        }
        else if (TOrder.Compare(value, Max) > 0)
        {
            Max = TOrder.Keep(value);
        }
    }

    public void Reset() => this = default;

    /// <summary>Min and max in PLAIN form (as column statistics store them), or <see langword="null"/> when no value was seen.</summary>
    public readonly (byte[] Min, byte[] Max)? ToPlain(Func<T, byte[]> plain) => ToPlain(plain, plain);

    /// <summary>Min and max in PLAIN form, each with its own encoder (for floating zeros), or <see langword="null"/> when no value was seen.</summary>
    public readonly (byte[] Min, byte[] Max)? ToPlain(Func<T, byte[]> plainMin, Func<T, byte[]> plainMax) =>
        HasValue ? (plainMin(Min), plainMax(Max)) : null;
}

/// <summary>Numbers in numeric order, NaN excluded (the two zeros compare equal; the leaf writes a zero min as -0.0 and a zero max as +0.0).</summary>
internal readonly struct NumberOrder<T> : IStatisticsOrder<T>
    where T : INumber<T>
{
    public static int Compare(T x, T y) => x < y ? -1 : x > y ? 1 : 0;

    public static bool IsExcluded(T value) => T.IsNaN(value);

    public static T Keep(T value) => value;
}

/// <summary>BOOLEAN: false before true.</summary>
internal readonly struct BooleanOrder : IStatisticsOrder<bool>
{
    public static int Compare(bool x, bool y) => x.CompareTo(y);

    public static bool IsExcluded(bool value) => false;

    public static bool Keep(bool value) => value;
}

/// <summary>Strings by their UTF-8 bytes, unsigned (code point order).</summary>
internal readonly struct Utf8StringOrder : IStatisticsOrder<string>
{
    public static int Compare(string x, string y) => Utf8Order.Compare(x, y);

    public static bool IsExcluded(string value) => false;

    public static string Keep(string value) => value;
}

/// <summary>Binary by unsigned bytes; a min or max is copied, since the caller owns (and may refill) its array.</summary>
internal readonly struct BinaryOrder : IStatisticsOrder<byte[]>
{
    public static int Compare(byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y);

    public static bool IsExcluded(byte[] value) => false;

    public static byte[] Keep(byte[] value) => value.ToArray();
}
