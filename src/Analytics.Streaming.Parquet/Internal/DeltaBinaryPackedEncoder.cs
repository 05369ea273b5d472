using System.Numerics;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// The DELTA_BINARY_PACKED encoding (Parquet Encodings.md) of INT32 and INT64 values: a header (block size 128,
/// 4 miniblocks of 32, the value count, the first value zigzag-encoded), then per block the smallest delta and the
/// deltas above it bit-packed per miniblock at the width its largest needs. Increasing or clustered values (times,
/// sequence numbers, scaled decimals) cost a few bits each instead of 4 or 8 bytes.
/// </summary>
/// <remarks>
/// Deltas are computed in the physical type's own width with wrapping arithmetic, as the format requires, so an
/// INT32 column never needs more than 32 bits per value. Unused miniblocks of the last block have width 0 and no
/// body; the last used miniblock is padded to 32 values.
/// </remarks>
internal static class DeltaBinaryPackedEncoder
{
    private const int BlockSize = 128;
    private const int MiniBlocks = 4;
    private const int MiniBlockSize = BlockSize / MiniBlocks;

    /// <summary>Appends the encoding of <paramref name="values"/> (no length prefix) to <paramref name="output"/>.</summary>
    /// <typeparam name="T"><see cref="int"/> or <see cref="long"/>.</typeparam>
    public static void Encode<T>(ReadOnlySpan<T> values, ByteBuffer output)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T>
    {
        output.WriteVarint(BlockSize);
        output.WriteVarint(MiniBlocks);
        output.WriteVarint((ulong)values.Length);
        output.WriteVarint(ZigZag(values.IsEmpty ? T.Zero : values[0]));

        Span<ulong> packed = stackalloc ulong[BlockSize];
        for (int start = 1; start < values.Length; start += BlockSize)
        {
            int n = Math.Min(BlockSize, values.Length - start);
            T min = T.MaxValue;
            for (int i = 0; i < n; i++)
            {
                T delta = values[start + i] - values[start + i - 1];
                min = T.Min(min, delta);
            }

            for (int i = 0; i < n; i++)
            {
                packed[i] = Unsigned(values[start + i] - values[start + i - 1] - min);
            }

            packed[n..].Clear();
            output.WriteVarint(ZigZag(min));
            int widthsAt = output.Length;
            output.GetSpan(MiniBlocks)[..MiniBlocks].Clear();
            output.Advance(MiniBlocks);
            int used = (n + MiniBlockSize - 1) / MiniBlockSize;
            for (int m = 0; m < MiniBlocks; m++)
            {
                int width = 0;
                if (m < used)
                {
                    ulong any = 0;
                    foreach (ulong v in packed.Slice(m * MiniBlockSize, MiniBlockSize))
                    {
                        any |= v;
                    }

                    width = 64 - BitOperations.LeadingZeroCount(any);
                    Pack(packed.Slice(m * MiniBlockSize, MiniBlockSize), width, output);
                }

                output.SetByte(widthsAt + m, (byte)width);
            }
        }
    }

    /// <summary>The value as an unsigned number of the type's own width (two's complement, no sign extension).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Unsigned<T>(T value)
        where T : unmanaged, IBinaryInteger<T>
        => Unsafe.SizeOf<T>() == 4 ? uint.CreateTruncating(value) : ulong.CreateTruncating(value);

    private static ulong ZigZag<T>(T value)
        where T : unmanaged, IBinaryInteger<T>
        => Unsigned((value << 1) ^ (value >> ((Unsafe.SizeOf<T>() * 8) - 1)));

    /// <summary>Bit-packs 32 values at <paramref name="width"/> bits each, least significant bit first.</summary>
    private static void Pack(ReadOnlySpan<ulong> values, int width, ByteBuffer output)
    {
        int bytes = values.Length * width / 8;
        var span = output.GetSpan(bytes);
        int written = 0;
        ulong acc = 0;
        int bits = 0;
        foreach (ulong v in values)
        {
            // bits < 8 here: the value's low (64 - bits) bits join the accumulator, its high bits carry over.
            acc |= v << bits;
            int total = bits + width;
            if (total >= 64)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(span[written..], acc);
                written += 8;
                acc = bits == 0 ? 0 : v >> (64 - bits);
                total -= 64;
            }

            while (total >= 8)
            {
                span[written++] = (byte)acc;
                acc >>= 8;
                total -= 8;
            }

            bits = total;
        }

        output.Advance(written);
    }
}
