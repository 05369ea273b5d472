using System.Runtime.InteropServices;
using System.Text;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Tests.Sketches;

public sealed class SketchHashTests
{
    [Fact]
    public void Hash_EmptyInputSeedZero_IsZero()
    {
        // MurmurHash3 x64/128 of no bytes with seed 0 is all zeros.
        Assert.Equal(0UL, SketchHash.Hash(ReadOnlySpan<byte>.Empty));
    }

    [Theory]
    [InlineData("hello", 0xcbd8a7b341bd9b02UL)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0xe34bbc7bbc071b6cUL)]
    public void Hash_PublishedVectors_MatchMurmurHash3(string text, ulong expected)
    {
        Assert.Equal(expected, SketchHash.Hash(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void Hash_String_EqualsHashOfItsUtf16Bytes()
    {
        const string value = "user-0042/é";
        Assert.Equal(SketchHash.Hash(MemoryMarshal.AsBytes(value.AsSpan())), SketchHash.Hash(value));
        Assert.Equal(SketchHash.Hash(value), SketchHash.Hash(value.AsSpan()));
    }

    [Fact]
    public void Hash_EveryLengthAndSeed_MatchesAByteWiseReference()
    {
        // The hash is part of the sketches' binary form: the word-wise tail reads must give the reference's bits.
        var random = new Random(11);
        byte[] data = new byte[64];
        random.NextBytes(data);
        foreach (ulong seed in new[] { 0UL, 1UL, 0x9E3779B97F4A7C15UL })
        {
            for (int length = 0; length <= data.Length; length++)
            {
                Assert.Equal(ReferenceMurmur3(data.AsSpan(0, length), seed), SketchHash.Hash(data.AsSpan(0, length), seed));
            }
        }
    }

    [Fact]
    public void Hash_EveryTailLength_DiffersFromNeighbours()
    {
        byte[] data = new byte[40];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 7);
        }

        var seen = new HashSet<ulong>();
        for (int length = 0; length <= data.Length; length++)
        {
            Assert.True(seen.Add(SketchHash.Hash(data.AsSpan(0, length))), $"length {length} collided");
        }
    }

    [Fact]
    public void Hash_NegativeZeroAndNaNPayloads_HashAsCanonicalValues()
    {
        Assert.Equal(SketchHash.Hash(0.0), SketchHash.Hash(-0.0));
        double otherNaN = BitConverter.Int64BitsToDouble(0x7ff8000000000123);
        Assert.Equal(SketchHash.Hash(double.NaN), SketchHash.Hash(otherNaN));
        Assert.NotEqual(SketchHash.Hash(1L), SketchHash.Hash(2L));
    }

    /// <summary>MurmurHash3 x64/128 (first half) as specified, one byte at a time.</summary>
    private static ulong ReferenceMurmur3(ReadOnlySpan<byte> data, ulong seed)
    {
        const ulong c1 = 0x87c37b91114253d5UL;
        const ulong c2 = 0x4cf5ad432745937fUL;
        static ulong Rotl(ulong x, int r) => (x << r) | (x >> (64 - r));
        static ulong Fmix(ulong k)
        {
            k ^= k >> 33;
            k *= 0xff51afd7ed558ccdUL;
            k ^= k >> 33;
            k *= 0xc4ceb9fe1a85ec53UL;
            return k ^ (k >> 33);
        }

        static ulong Word(ReadOnlySpan<byte> bytes, int from, int count)
        {
            ulong value = 0;
            for (int i = count - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[from + i];
            }

            return value;
        }

        ulong h1 = seed;
        ulong h2 = seed;
        int blocks = data.Length / 16;
        for (int i = 0; i < blocks; i++)
        {
            h1 ^= Rotl(Word(data, i * 16, 8) * c1, 31) * c2;
            h1 = (Rotl(h1, 27) + h2) * 5 + 0x52dce729;
            h2 ^= Rotl(Word(data, (i * 16) + 8, 8) * c2, 33) * c1;
            h2 = (Rotl(h2, 31) + h1) * 5 + 0x38495ab5;
        }

        int rest = data.Length % 16;
        if (rest > 8)
        {
            h2 ^= Rotl(Word(data, (blocks * 16) + 8, rest - 8) * c2, 33) * c1;
        }

        if (rest > 0)
        {
            h1 ^= Rotl(Word(data, blocks * 16, Math.Min(rest, 8)) * c1, 31) * c2;
        }

        h1 ^= (ulong)data.Length;
        h2 ^= (ulong)data.Length;
        h1 += h2;
        h2 += h1;
        h1 = Fmix(h1);
        h2 = Fmix(h2);
        return h1 + h2;
    }
}
