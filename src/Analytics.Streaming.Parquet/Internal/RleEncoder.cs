using System.Numerics;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// The RLE / bit-packed hybrid encoding (Parquet Encodings.md) of definition and repetition levels (bytes) and
/// dictionary indices (ints): one generic path, specialized by the JIT for each element type.
/// </summary>
internal static class RleEncoder
{
    /// <summary>The bits needed for values up to <paramref name="max"/>: ceil(log2(max + 1)).</summary>
    public static int BitWidth(int max) => max == 0 ? 0 : 32 - int.LeadingZeroCount(max);

    /// <summary>
    /// Appends the hybrid encoding of <paramref name="values"/> (no length prefix): a repeat of 8 or more is one RLE
    /// run; everything else goes into bit-packed runs of whole groups of 8, ended where a long repeat starts on a
    /// group boundary.
    /// </summary>
    /// <typeparam name="T">The element type (<see cref="byte"/> levels or <see cref="int"/> indices); values are non-negative and fit <paramref name="bitWidth"/>.</typeparam>
    public static void Encode<T>(ReadOnlySpan<T> values, int bitWidth, ByteBuffer output)
        where T : unmanaged, IBinaryInteger<T>
    {
        int n = values.Length;
        int i = 0;
        while (i < n)
        {
            T v = values[i];
            int run = 1;
            while (i + run < n && values[i + run] == v)
            {
                run++;
            }

            if (run >= 8)
            {
                WriteRle(int.CreateTruncating(v), run, bitWidth, output);
                i += run;
                continue;
            }

            int start = i;
            int end = i;
            while (end < n)
            {
                end = Math.Min(end + 8, n);
                if (end >= n || RepeatLength(values, end) >= 8)
                {
                    break;
                }
            }

            WriteBitPacked(values[start..end], bitWidth, output);
            i = end;
        }
    }

    private static int RepeatLength<T>(ReadOnlySpan<T> values, int at)
        where T : unmanaged, IBinaryInteger<T>
    {
        T v = values[at];
        int run = 1;
        while (at + run < values.Length && run < 8 && values[at + run] == v)
        {
            run++;
        }

        return run;
    }

    private static void WriteRle(int value, int count, int bitWidth, ByteBuffer output)
    {
        output.WriteVarint((ulong)count << 1);
        int bytes = (bitWidth + 7) / 8;
        for (int b = 0; b < bytes; b++)
        {
            output.WriteByte((byte)(value >> (8 * b)));
        }
    }

    private static void WriteBitPacked<T>(ReadOnlySpan<T> values, int bitWidth, ByteBuffer output)
        where T : unmanaged, IBinaryInteger<T>
    {
        int groups = (values.Length + 7) / 8;
        output.WriteVarint(((ulong)groups << 1) | 1);
        var span = output.GetSpan(groups * bitWidth);
        int written = 0;
        ulong acc = 0;
        int bits = 0;
        int total = groups * 8;
        for (int k = 0; k < total; k++)
        {
            ulong v = k < values.Length ? ulong.CreateTruncating(values[k]) : 0;
            acc |= v << bits;
            bits += bitWidth;
            while (bits >= 8)
            {
                span[written++] = (byte)acc;
                acc >>= 8;
                bits -= 8;
            }
        }

        output.Advance(written);
    }
}
