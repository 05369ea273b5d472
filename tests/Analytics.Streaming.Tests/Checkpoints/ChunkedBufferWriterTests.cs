using System.Buffers;

namespace Analytics.Streaming.Tests.Checkpoints;

/// <summary>The pooled writer that window state is written into gives exactly the bytes a plain array writer does, across every chunk it grows through.</summary>
public sealed class ChunkedBufferWriterTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(100_000)]
    [InlineData(400_000)]
    public void ToArray_SmallWritesAcrossChunks_SameBytesAsArrayBufferWriter(int entries)
    {
        var expected = new ArrayBufferWriter<byte>();
        using var chunked = new ChunkedBufferWriter();
        for (int i = 0; i < entries; i++)
        {
            foreach (IBufferWriter<byte> writer in new IBufferWriter<byte>[] { expected, chunked })
            {
                StateCodec.WriteVarInt(writer, (ulong)i);
                StateCodec.WriteInt64(writer, i * 31L);
                StateCodec.WriteBytes(writer, new byte[i % 40]);
            }
        }

        Assert.Equal(expected.WrittenCount, chunked.WrittenCount);
        Assert.Equal(expected.WrittenSpan.ToArray(), chunked.ToArray());
    }
}
