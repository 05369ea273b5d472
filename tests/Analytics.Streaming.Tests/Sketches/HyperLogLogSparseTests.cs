using System.Buffers;
using System.Numerics;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Tests.Sketches;

/// <summary>
/// The sparse form (a table of the set registers) against registers computed here from the hashes: whichever form a
/// sketch is in, its registers, estimate, binary form, checkpoint state and merges must be those of the dense sketch.
/// </summary>
public sealed class HyperLogLogSparseTests
{
    /// <summary>Precisions with the value counts around the switch to dense (a sixteenth of the registers set).</summary>
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        foreach (int precision in new[] { 4, 5, 10, 14, 18 })
        {
            int m = 1 << precision;
            foreach (int values in new[] { 0, 1, 3, m / 32, m / 16, m / 16 + 1, m / 8, m / 4, 2 * m })
            {
                data.Add(precision, values);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Add_EitherForm_HoldsTheRegistersOfTheHashes(int precision, int values)
    {
        ulong[] hashes = Hashes(values, seed: (precision * 1_000) + values);
        var sketch = Sketch(precision, hashes);

        byte[] expected = Registers(hashes, precision);
        Assert.Equal(expected, RegistersOf(sketch));

        int set = expected.Count(r => r != 0);
        bool sparseFits = (1 << precision) / 8 >= 4 && set <= (1 << precision) / 16;
        Assert.Equal(sparseFits, sketch.IsSparse);
        Assert.Equal(set == 0, sketch.IsEmpty);

        // The estimate is the dense estimator's over the same registers.
        HyperLogLogSketch dense = HyperLogLogSketch.Deserialize(sketch.Serialize());
        Assert.False(dense.IsSparse);
        Assert.Equal(dense.Estimate(), sketch.Estimate());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void State_EitherForm_WritesTheSameBytesAndReadsBackSparseWhenSmall(int precision, int values)
    {
        var sketch = Sketch(precision, Hashes(values, seed: values - precision));

        // Deserialize always yields the dense form.
        HyperLogLogSketch dense = HyperLogLogSketch.Deserialize(sketch.Serialize());
        byte[] state = State(sketch);
        Assert.Equal(State(dense), state);

        ReadOnlySpan<byte> source = state;
        HyperLogLogSketch read = HyperLogLogSketch.ReadState(ref source);
        Assert.True(source.IsEmpty);
        Assert.Equal(sketch.IsSparse, read.IsSparse);
        Assert.Equal(sketch.Serialize(), read.Serialize());
    }

    [Theory]
    [InlineData(10, 10, 20, 30)]
    [InlineData(10, 10, 20, 2_000)]
    [InlineData(10, 10, 2_000, 30)]
    [InlineData(14, 10, 50, 60)]
    [InlineData(10, 14, 50, 60)]
    [InlineData(14, 10, 5_000, 60)]
    [InlineData(10, 14, 60, 5_000)]
    [InlineData(18, 5, 3, 1)]
    public void Merge_AnyForms_EqualsTheSketchOfTheUnionAtTheLowerPrecision(int leftPrecision, int rightPrecision, int leftValues, int rightValues)
    {
        ulong[] left = Hashes(leftValues, seed: 1);
        ulong[] right = Hashes(rightValues, seed: 2);
        var merged = Sketch(leftPrecision, left);
        var other = Sketch(rightPrecision, right);
        byte[] otherBefore = other.Serialize();

        merged.Merge(other);

        int precision = Math.Min(leftPrecision, rightPrecision);
        Assert.Equal(precision, merged.Precision);
        Assert.Equal(Registers([.. left, .. right], precision), RegistersOf(merged));
        Assert.Equal(otherBefore, other.Serialize());
        Assert.Equal(HyperLogLogSketch.Deserialize(merged.Serialize()).Estimate(), merged.Estimate());
    }

    [Fact]
    public void NewSketch_AFewValues_TakesBytesNotKilobytes()
    {
        long allocated = Allocations.Of(
            () =>
            {
                var sketch = new HyperLogLogSketch();
                for (long i = 0; i < 20; i++)
                {
                    sketch.Add(i);
                }

                return sketch;
            },
            out HyperLogLogSketch sketch);

        // 20 values at precision 14: a table of 64 slots at most (256 bytes), not 16 KiB of registers.
        Assert.InRange(allocated, 1, 1024);
        Assert.InRange(sketch.Estimate(), 19, 21);
    }

    [Fact]
    public void CloneAndClear_Sparse_KeepTheFormAndAreIndependent()
    {
        var sketch = Sketch(14, Hashes(100, seed: 3));
        HyperLogLogSketch copy = sketch.Clone();
        Assert.True(copy.IsSparse);
        copy.Add("one more");
        Assert.NotEqual(sketch.Serialize(), copy.Serialize());

        sketch.Clear();
        Assert.True(sketch.IsEmpty);
        Assert.True(sketch.IsSparse);
        Assert.Equal(0, sketch.Estimate());
        Assert.Equal(new HyperLogLogSketch(14).Serialize(), sketch.Serialize());
        Assert.False(copy.IsEmpty);
    }

    [Fact]
    public void Merge_ItselfOrAnEmptySketch_ChangesNothing()
    {
        var sketch = Sketch(12, Hashes(40, seed: 4));
        byte[] before = sketch.Serialize();
        sketch.Merge(sketch);
        sketch.Merge(new HyperLogLogSketch(12));
        Assert.Equal(before, sketch.Serialize());
        Assert.True(sketch.IsSparse);
    }

    [Theory]
    [InlineData(new byte[] { 10, 1, 1, 0, 60 }, "above the maximum rank")] // rank 60 at precision 10 (at most 55)
    [InlineData(new byte[] { 10, 1, 1, 0x80, 0x08, 3 }, "malformed")] // index 1,024 of 1,024 registers
    [InlineData(new byte[] { 10, 1, 2, 5, 3, 0, 4 }, "malformed")] // the same index twice
    [InlineData(new byte[] { 10, 1, 1, 5, 0 }, "malformed")] // a set register of rank 0
    [InlineData(new byte[] { 10, 1, 2, 5, 3 }, "ends inside")] // ends before the second register
    public void ReadState_MalformedSparseState_ThrowsFormatException(byte[] state, string message)
    {
        var error = Assert.Throws<FormatException>(() =>
        {
            ReadOnlySpan<byte> source = state;
            HyperLogLogSketch.ReadState(ref source);
        });
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static HyperLogLogSketch Sketch(int precision, ulong[] hashes)
    {
        var sketch = new HyperLogLogSketch(precision);
        foreach (ulong hash in hashes)
        {
            sketch.AddHash(hash);
        }

        return sketch;
    }

    private static ulong[] Hashes(int count, int seed)
    {
        var random = new Random(seed);
        var hashes = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            hashes[i] = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);
        }

        return hashes;
    }

    /// <summary>The registers as the HyperLogLog definition gives them: the top bits pick one, the leading zeros of the rest + 1 (at most 64 - precision + 1) are its rank.</summary>
    private static byte[] Registers(ulong[] hashes, int precision)
    {
        var registers = new byte[1 << precision];
        foreach (ulong hash in hashes)
        {
            int index = (int)(hash >> (64 - precision));
            ulong rest = hash << precision;
            int rank = Math.Min(BitOperations.LeadingZeroCount(rest), 64 - precision) + 1;
            registers[index] = (byte)Math.Max(registers[index], rank);
        }

        return registers;
    }

    /// <summary>The registers in the binary form: after the envelope header and the precision byte.</summary>
    private static byte[] RegistersOf(HyperLogLogSketch sketch)
    {
        byte[] bytes = sketch.Serialize();
        return bytes.AsSpan(bytes.Length - 8 - sketch.RegisterCount, sketch.RegisterCount).ToArray();
    }

    private static byte[] State(HyperLogLogSketch sketch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        sketch.WriteState(buffer);
        return buffer.WrittenSpan.ToArray();
    }
}
