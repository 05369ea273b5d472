using System.Buffers;

namespace Analytics.Streaming.S3;

/// <summary>
/// The bytes of one object that are not uploaded yet, in pooled chunks: the object writer appends, the sink cuts
/// parts off the front and uploads them, so memory per open object stays near one part.
/// </summary>
/// <remarks>Not thread safe: one writer and the sink take turns on one task.</remarks>
internal sealed class PartBuffer : Stream
{
    private const int ChunkSize = 256 * 1024;
    private readonly List<byte[]> _chunks = [];
    private int _head; // offset of the first buffered byte in _chunks[0]
    private long _length; // buffered bytes
    private long _total; // every byte ever written

    /// <summary>Gets the number of bytes written since the object began (uploaded or not).</summary>
    public long TotalWritten => _total;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    /// <summary>Gets the number of buffered bytes (written and not yet discarded).</summary>
    public override long Length => _length;

    public override long Position
    {
        get => _total;
        set => throw new NotSupportedException("The part buffer is append-only.");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            long end = _head + _length;
            int inLast = (int)(end % ChunkSize);
            if (end == (long)_chunks.Count * ChunkSize)
            {
                _chunks.Add(ArrayPool<byte>.Shared.Rent(ChunkSize));
                inLast = 0;
            }

            var last = _chunks[^1];
            int n = Math.Min(buffer.Length, ChunkSize - inLast);
            buffer[..n].CopyTo(last.AsSpan(inLast));
            buffer = buffer[n..];
            _length += n;
            _total += n;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Returns a seekable read-only view of the first <paramref name="count"/> buffered bytes, valid until the next write or discard.</summary>
    /// <param name="count">The number of bytes, at most <see cref="Length"/>.</param>
    /// <returns>The view.</returns>
    public Stream OpenFront(long count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _length);
        return new FrontView(this, count);
    }

    /// <summary>Drops the first <paramref name="count"/> buffered bytes (uploaded) and returns emptied chunks to the pool.</summary>
    /// <param name="count">The number of bytes.</param>
    public void Discard(long count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _length);
        long head = _head + count;
        int whole = (int)(head / ChunkSize);
        for (int i = 0; i < whole; i++)
        {
            ArrayPool<byte>.Shared.Return(_chunks[i]);
        }

        _chunks.RemoveRange(0, whole);
        _head = (int)(head % ChunkSize);
        _length -= count;
        if (_length == 0 && _chunks.Count == 1)
        {
            ArrayPool<byte>.Shared.Return(_chunks[0]);
            _chunks.Clear();
            _head = 0;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var chunk in _chunks)
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            _chunks.Clear();
            _length = 0;
            _head = 0;
        }

        base.Dispose(disposing);
    }

    private sealed class FrontView(PartBuffer owner, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = value >= 0 && value <= length ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int total = 0;
            while (!buffer.IsEmpty && _position < length)
            {
                long absolute = owner._head + _position;
                var chunk = owner._chunks[(int)(absolute / ChunkSize)];
                int inChunk = (int)(absolute % ChunkSize);
                int n = (int)Math.Min(Math.Min(buffer.Length, ChunkSize - inChunk), length - _position);
                chunk.AsSpan(inChunk, n).CopyTo(buffer);
                buffer = buffer[n..];
                _position += n;
                total += n;
            }

            return total;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => length + offset,
            };
            return _position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
