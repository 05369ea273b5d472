using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Analytics.Streaming.Sketches;

/// <summary>
/// Ordinal string equality with a fast hash for in-memory indexes (the top-K sketch's item index, the window engines'
/// key table): 16 bytes of UTF-16 per 64x64-to-128-bit multiply, seeded once per process so that crafted inputs cannot
/// flood the index.
/// </summary>
/// <remarks>
/// The hash never leaves the process and is not part of any binary form (sketches that merge across processes hash
/// with <see cref="SketchHash"/>). <see cref="string.GetHashCode()"/> (Marvin) costs several times more on URLs and
/// user agents, which is most of what a top-K sketch counts.
/// </remarks>
internal sealed class IndexStringComparer : IEqualityComparer<string>
{
    private const ulong P0 = 0xa0761d6478bd642fUL;
    private const ulong P1 = 0xe7037ed1a0b428dbUL;
    private const ulong P2 = 0x8ebc6af09c88c6e3UL;

    private static readonly ulong Seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    private IndexStringComparer()
    {
    }

    /// <summary>Gets the comparer.</summary>
    public static IndexStringComparer Instance { get; } = new();

    /// <inheritdoc />
    public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

    /// <inheritdoc />
    public int GetHashCode(string value)
    {
        ulong hash = Hash(MemoryMarshal.AsBytes(value.AsSpan()));
        return (int)(hash ^ (hash >> 32));
    }

    /// <summary>Hashes bytes with the process's seed.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The 64-bit hash.</returns>
    internal static ulong Hash(ReadOnlySpan<byte> data)
    {
        int length = data.Length;
        ref byte start = ref MemoryMarshal.GetReference(data);
        ulong state = Seed ^ ((ulong)length * P0);
        ulong a;
        ulong b;
        if (length <= 16)
        {
            if (length >= 8)
            {
                a = Read64(ref start, 0);
                b = Read64(ref start, length - 8);
            }
            else if (length >= 4)
            {
                a = Read32(ref start, 0);
                b = Read32(ref start, length - 4);
            }
            else if (length > 0)
            {
                a = ((ulong)start << 16) | ((ulong)Unsafe.Add(ref start, length >> 1) << 8) | Unsafe.Add(ref start, length - 1);
                b = 0;
            }
            else
            {
                a = 0;
                b = 0;
            }
        }
        else
        {
            // Whole 16-byte blocks, then the last 16 bytes (overlapping the last block when the length is not a multiple).
            int offset = 0;
            while (length - offset > 16)
            {
                state = Mix(Read64(ref start, offset) ^ P1, Read64(ref start, offset + 8) ^ state);
                offset += 16;
            }

            a = Read64(ref start, length - 16);
            b = Read64(ref start, length - 8);
        }

        return Mix(P2 ^ (ulong)length, Mix(a ^ P1, b ^ state));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong x, ulong y)
    {
        ulong high = Math.BigMul(x, y, out ulong low);
        return high ^ low;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read64(ref byte start, int offset) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read32(ref byte start, int offset) => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, offset));
}
