using System.Buffers;

namespace Analytics.Streaming;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over pooled chunks that grow from 64 KiB to 4 MiB: writing a large window state
/// never copies what was already written (as a doubling array would), and <see cref="ToArray"/> copies it once.
/// </summary>
internal sealed class ChunkedBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int FirstChunk = 1 << 16;
    private const int LargestChunk = 1 << 22;
    private readonly List<(byte[] Chunk, int Used)> _full = [];
    private byte[] _current = ArrayPool<byte>.Shared.Rent(FirstChunk);
    private int _used;

    public long WrittenCount { get; private set; }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_used + count > _current.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _used += count;
        WrittenCount += count;
    }

    // Ensure first, then read _current: Ensure may replace it, and `_current.AsSpan(Ensure(...))` would read the
    // field before the call and hand out the full chunk it just retired.
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        int start = Ensure(sizeHint);
        return _current.AsMemory(start);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        int start = Ensure(sizeHint);
        return _current.AsSpan(start);
    }

    public byte[] ToArray()
    {
        if (WrittenCount > Array.MaxLength)
        {
            throw new InvalidOperationException($"The window state ({WrittenCount:N0} bytes) is larger than one array can hold; lower the number of keys or use fewer, smaller sketches.");
        }

        byte[] result = GC.AllocateUninitializedArray<byte>((int)WrittenCount);
        int at = 0;
        foreach (var (chunk, used) in _full)
        {
            chunk.AsSpan(0, used).CopyTo(result.AsSpan(at));
            at += used;
        }

        _current.AsSpan(0, _used).CopyTo(result.AsSpan(at));
        return result;
    }

    public void Dispose()
    {
        foreach (var (chunk, _) in _full)
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        _full.Clear();
        ArrayPool<byte>.Shared.Return(_current);
        _current = [];
    }

    /// <summary>Makes room for <paramref name="sizeHint"/> bytes in the current chunk; returns where they start.</summary>
    private int Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_current.Length - _used >= needed)
        {
            return _used;
        }

        _full.Add((_current, _used));
        int next = Math.Max(needed, Math.Min(LargestChunk, _current.Length * 2));
        _current = ArrayPool<byte>.Shared.Rent(next);
        _used = 0;
        return 0;
    }
}
