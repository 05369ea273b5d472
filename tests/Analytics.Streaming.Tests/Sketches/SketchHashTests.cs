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
}
