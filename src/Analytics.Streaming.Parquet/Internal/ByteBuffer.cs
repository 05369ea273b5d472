using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>A growable byte buffer reused across pages and row groups (it never shrinks while its writer lives).</summary>
internal sealed class ByteBuffer
{
    private byte[] _buffer;
    private int _length;

    public ByteBuffer(int capacity = 256) => _buffer = new byte[Math.Max(16, capacity)];

    public int Length => _length;

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public byte[] Array => _buffer;

    public void Clear() => _length = 0;

    public void SetLength(int length) => _length = length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _length < size)
        {
            Grow(size);
        }

        return _buffer.AsSpan(_length);
    }

    public void Advance(int count) => _length += count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte value)
    {
        if (_length == _buffer.Length)
        {
            Grow(1);
        }

        _buffer[_length++] = value;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    public void WriteInt32LittleEndian(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value);
        _length += 4;
    }

    public void PatchInt32LittleEndian(int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(offset), value);

    public void WriteVarint(ulong value)
    {
        var span = GetSpan(10);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _length += i;
    }

    private void Grow(int size)
    {
        long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + size);
        if (wanted > System.Array.MaxLength)
        {
            wanted = (long)_length + size;
            if (wanted > System.Array.MaxLength)
            {
                throw new InvalidOperationException("A Parquet page or column chunk grew beyond 2 GiB; lower RowGroupSize or PageSize.");
            }
        }

        System.Array.Resize(ref _buffer, (int)wanted);
    }
}
