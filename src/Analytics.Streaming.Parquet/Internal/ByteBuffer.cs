using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// A growable byte buffer reused across pages and row groups (it never shrinks while its writer lives), its array
/// rented from the shared pool and returned by <see cref="Dispose"/> (after which it is empty and may grow again).
/// </summary>
internal sealed class ByteBuffer : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public ByteBuffer(int capacity = 256) => _buffer = Pooled.Rent<byte>(Math.Max(16, capacity));

    public int Length => _length;

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public void Clear() => _length = 0;

    public void Dispose()
    {
        _length = 0;
        Pooled.Return(ref _buffer);
    }

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

    public void SetByte(int offset, byte value) => _buffer[offset] = value;

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

    private void Grow(int size) => Pooled.Grow(ref _buffer, _length, (long)_length + size);
}
