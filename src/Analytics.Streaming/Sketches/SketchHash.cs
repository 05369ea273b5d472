using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Analytics.Streaming.Sketches;

/// <summary>
/// The 64-bit hash behind every sketch: MurmurHash3 (x64, 128-bit variant, first half) for byte and character
/// sequences, and the SplitMix64 finalizer for fixed-size numbers.
/// </summary>
/// <remarks>
/// <para>
/// The hash is part of the sketches' binary format: sketches built in different processes, on different machines
/// or by different versions of this library merge correctly only because they hash the same value to the same
/// 64 bits. It is therefore fixed (seed 0) and never randomized per process, and a change to it would change the
/// format version.
/// </para>
/// <para>
/// Strings and character spans are hashed over their UTF-16 code units in little-endian order, without allocating;
/// a string and its UTF-8 bytes therefore hash differently. Doubles are hashed by value (<c>-0.0</c> as <c>0.0</c>,
/// every NaN alike). All members are thread-safe, allocation-free and never throw. Not a cryptographic hash.
/// </para>
/// </remarks>
public static class SketchHash
{
    private const ulong C1 = 0x87c37b91114253d5UL;
    private const ulong C2 = 0x4cf5ad432745937fUL;

    /// <summary>Hashes a byte sequence with MurmurHash3 x64/128 and returns the first 64 bits.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="seed">The seed; sketches use 0.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed = 0)
    {
        ulong h1 = seed;
        ulong h2 = seed;
        int length = data.Length;
        int blocks = length >> 4;
        ref byte start = ref MemoryMarshal.GetReference(data);
        for (int i = 0; i < blocks; i++)
        {
            ulong k1 = ReadUInt64(ref start, i << 4);
            ulong k2 = ReadUInt64(ref start, (i << 4) + 8);

            k1 *= C1;
            k1 = BitOperations.RotateLeft(k1, 31);
            k1 *= C2;
            h1 ^= k1;
            h1 = BitOperations.RotateLeft(h1, 27);
            h1 += h2;
            h1 = (h1 * 5) + 0x52dce729;

            k2 *= C2;
            k2 = BitOperations.RotateLeft(k2, 33);
            k2 *= C1;
            h2 ^= k2;
            h2 = BitOperations.RotateLeft(h2, 31);
            h2 += h1;
            h2 = (h2 * 5) + 0x38495ab5;
        }

        int tailLength = length & 15;
        if (tailLength > 0)
        {
            int tail = blocks << 4;
            if (tailLength > 8)
            {
                ulong k2 = ReadPartial(ref start, tail + 8, tailLength - 8);
                k2 *= C2;
                k2 = BitOperations.RotateLeft(k2, 33);
                k2 *= C1;
                h2 ^= k2;
            }

            ulong k1 = tailLength >= 8 ? ReadUInt64(ref start, tail) : ReadPartial(ref start, tail, tailLength);
            k1 *= C1;
            k1 = BitOperations.RotateLeft(k1, 31);
            k1 *= C2;
            h1 ^= k1;
        }

        h1 ^= (ulong)length;
        h2 ^= (ulong)length;
        h1 += h2;
        h2 += h1;
        h1 = FinalMix(h1);
        h2 = FinalMix(h2);
        h1 += h2;
        return h1;
    }

    /// <summary>Hashes the UTF-16 code units of a character span.</summary>
    /// <param name="value">The characters.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(ReadOnlySpan<char> value) => Hash(MemoryMarshal.AsBytes(value));

    /// <summary>Hashes the UTF-16 code units of a string; <see langword="null"/> hashes like the empty string.</summary>
    /// <param name="value">The string.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(string? value) => Hash(MemoryMarshal.AsBytes(value.AsSpan()));

    /// <summary>Hashes a 64-bit integer (SplitMix64 finalizer: a bijection, so distinct values never collide).</summary>
    /// <param name="value">The value.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(long value) => Mix((ulong)value);

    /// <summary>Hashes a double by value: <c>-0.0</c> like <c>0.0</c>, all NaN payloads alike.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(double value)
    {
        if (value == 0)
        {
            value = 0;
        }
        else if (double.IsNaN(value))
        {
            value = double.NaN;
        }

        return Mix((ulong)BitConverter.DoubleToInt64Bits(value));
    }

    /// <summary>Hashes a GUID over its 16 bytes in <see cref="Guid.TryWriteBytes(Span{byte})"/> order.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes);
        return Hash((ReadOnlySpan<byte>)bytes);
    }

    /// <summary>The SplitMix64 finalizer: a fast bijective mix of 64 bits.</summary>
    /// <param name="value">The bits to mix.</param>
    /// <returns>The mixed bits.</returns>
    public static ulong Mix(ulong value)
    {
        ulong z = value + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong FinalMix(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }

    private static ulong ReadUInt64(ref byte start, int offset)
    {
        ulong value = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(
            ref System.Runtime.CompilerServices.Unsafe.Add(ref start, offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    /// <summary>Reads 1 to 8 bytes as a little-endian number, with two overlapping loads instead of a loop per byte.</summary>
    private static ulong ReadPartial(ref byte start, int offset, int count)
    {
        ref byte first = ref System.Runtime.CompilerServices.Unsafe.Add(ref start, offset);
        if (count >= 4)
        {
            // Bytes [0, 4) and [count - 4, count): where they overlap they are the same bytes, so OR keeps them.
            ulong low = ReadUInt32(ref first, 0);
            ulong high = ReadUInt32(ref first, count - 4);
            return low | (high << ((count - 4) * 8));
        }

        ulong value = first;
        if (count > 1)
        {
            value |= (ulong)System.Runtime.CompilerServices.Unsafe.Add(ref first, 1) << 8;
        }

        if (count > 2)
        {
            value |= (ulong)System.Runtime.CompilerServices.Unsafe.Add(ref first, 2) << 16;
        }

        return value;
    }

    private static uint ReadUInt32(ref byte start, int offset)
    {
        uint value = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(
            ref System.Runtime.CompilerServices.Unsafe.Add(ref start, offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }
}

/// <summary>Hashes values of one type for sketches; implemented by structs so that the JIT inlines them.</summary>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>Implementations are stateless, thread-safe, allocation-free and never throw.</remarks>
public interface ISketchHasher<TValue>
{
    /// <summary>Hashes a value, or declines it.</summary>
    /// <param name="value">The value.</param>
    /// <param name="hash">The 64-bit hash.</param>
    /// <returns><see langword="false"/> when the value is not counted (a <see langword="null"/> string, for example).</returns>
    bool TryHash(TValue value, out ulong hash);
}

/// <summary>Hashes strings over their UTF-16 code units; <see langword="null"/> is not counted.</summary>
public readonly struct StringSketchHasher : ISketchHasher<string?>
{
    /// <inheritdoc />
    public bool TryHash(string? value, out ulong hash)
    {
        if (value is null)
        {
            hash = 0;
            return false;
        }

        hash = SketchHash.Hash(value.AsSpan());
        return true;
    }
}

/// <summary>Hashes 64-bit integers.</summary>
public readonly struct Int64SketchHasher : ISketchHasher<long>
{
    /// <inheritdoc />
    public bool TryHash(long value, out ulong hash)
    {
        hash = SketchHash.Hash(value);
        return true;
    }
}

/// <summary>Hashes doubles by value; NaN and infinities are not counted.</summary>
public readonly struct DoubleSketchHasher : ISketchHasher<double>
{
    /// <inheritdoc />
    public bool TryHash(double value, out ulong hash)
    {
        hash = SketchHash.Hash(value);
        return double.IsFinite(value);
    }
}

/// <summary>Hashes GUIDs.</summary>
public readonly struct GuidSketchHasher : ISketchHasher<Guid>
{
    /// <inheritdoc />
    public bool TryHash(Guid value, out ulong hash)
    {
        hash = SketchHash.Hash(value);
        return true;
    }
}

/// <summary>Hashes byte sequences (for example a UTF-8 identifier sliced from the record) as they are.</summary>
public readonly struct BytesSketchHasher : ISketchHasher<ReadOnlyMemory<byte>>
{
    /// <inheritdoc />
    public bool TryHash(ReadOnlyMemory<byte> value, out ulong hash)
    {
        hash = SketchHash.Hash(value.Span);
        return true;
    }
}
