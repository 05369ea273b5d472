namespace Analytics.Streaming.Parquet.Internal;

/// <summary>The RLE / bit-packed hybrid encoding of levels and dictionary indices (Parquet Encodings.md).</summary>
internal static class RleEncoder
{
    /// <summary>The bits needed for values up to <paramref name="max"/>: ceil(log2(max + 1)).</summary>
    public static int BitWidth(int max) => max == 0 ? 0 : 32 - int.LeadingZeroCount(max);

    /// <summary>Appends the hybrid encoding of <paramref name="values"/> (no length prefix).</summary>
    public static void Encode(ReadOnlySpan<int> values, int bitWidth, ByteBuffer output)
    {
        int n = values.Length;
        int i = 0;
        while (i < n)
        {
            int v = values[i];
            int run = 1;
            while (i + run < n && values[i + run] == v)
            {
                run++;
            }

            if (run >= 8)
            {
                WriteRle(v, run, bitWidth, output);
                i += run;
                continue;
            }

            // A bit-packed run: groups of 8 until a long repeat starts at a group boundary or the data ends.
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

    public static void Encode(ReadOnlySpan<byte> values, int bitWidth, ByteBuffer output)
    {
        int n = values.Length;
        int i = 0;
        while (i < n)
        {
            byte v = values[i];
            int run = 1;
            while (i + run < n && values[i + run] == v)
            {
                run++;
            }

            if (run >= 8)
            {
                WriteRle(v, run, bitWidth, output);
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

    private static int RepeatLength(ReadOnlySpan<int> values, int at)
    {
        int v = values[at];
        int run = 1;
        while (at + run < values.Length && run < 8 && values[at + run] == v)
        {
            run++;
        }

        return run;
    }

    private static int RepeatLength(ReadOnlySpan<byte> values, int at)
    {
        byte v = values[at];
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

    private static void WriteBitPacked(ReadOnlySpan<int> values, int bitWidth, ByteBuffer output)
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
            ulong v = k < values.Length ? (uint)values[k] : 0;
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

    private static void WriteBitPacked(ReadOnlySpan<byte> values, int bitWidth, ByteBuffer output)
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
            ulong v = k < values.Length ? values[k] : 0u;
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
