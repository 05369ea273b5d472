using System.IO.Compression;
using Snappier;
using ZstdSharp;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// Compresses page bodies with the configured codec (no framing: the codec's own format, as Parquet wants) into one
/// scratch buffer reused for every page of the writer, so compression allocates nothing per page (GZIP excepted: a
/// <see cref="GZipStream"/> per page).
/// </summary>
internal sealed class PageCompressor : IDisposable
{
    private readonly ParquetCompression _codec;
    private readonly CompressionLevel _level;
    private readonly ByteBuffer _scratch = new(64 * 1024);
    private readonly BufferStream _stream;
    private readonly Compressor? _zstd;

    public PageCompressor(ParquetCompression codec, CompressionLevel level)
    {
        _codec = codec;
        _level = level;
        _stream = new BufferStream(_scratch);
        if (codec == ParquetCompression.Zstd)
        {
            _zstd = new Compressor(ZstdLevel(level));
        }
    }

    public ParquetCompression Codec => _codec;

    /// <summary>The ZSTD level used for a <see cref="CompressionLevel"/> (see <see cref="ParquetWriterOptions.CompressionLevel"/>).</summary>
    public static int ZstdLevel(CompressionLevel level) => level switch
    {
        CompressionLevel.NoCompression => Compressor.MinCompressionLevel,
        CompressionLevel.Fastest => 1,
        CompressionLevel.SmallestSize => 19,
        _ => Compressor.DefaultCompressionLevel,
    };

    public void Dispose()
    {
        _stream.Dispose();
        _zstd?.Dispose();
        _scratch.Dispose();
    }

    /// <summary>Compresses <paramref name="body"/>; the result stays valid until the next call.</summary>
    public ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> body)
    {
        _scratch.Clear();
        switch (_codec)
        {
            case ParquetCompression.Uncompressed:
                return body;
            case ParquetCompression.Snappy:
                _scratch.Advance(Snappy.Compress(body, _scratch.GetSpan(Snappy.GetMaxCompressedLength(body.Length))));
                break;
            case ParquetCompression.Zstd:
                _scratch.Advance(_zstd!.Wrap(body, _scratch.GetSpan(Compressor.GetCompressBound(body.Length))));
                break;
            case ParquetCompression.Gzip:
                using (var gzip = new GZipStream(_stream, _level, leaveOpen: true))
                {
                    gzip.Write(body);
                }

                break;
            case ParquetCompression.Brotli:
                {
                    int quality = _level switch
                    {
                        CompressionLevel.NoCompression => 0,
                        CompressionLevel.Fastest => 1,
                        CompressionLevel.SmallestSize => 11,
                        _ => 4,
                    };
                    var span = _scratch.GetSpan(BrotliEncoder.GetMaxCompressedLength(body.Length));
                    if (!BrotliEncoder.TryCompress(body, span, out int written, quality, 22))
                    {
                        throw new InvalidOperationException("Brotli could not compress a page into its maximum compressed length.");
                    }

                    _scratch.Advance(written);
                    break;
                }

            default:
                throw new InvalidOperationException($"Unsupported codec {_codec}.");
        }

        return _scratch.Span;
    }

    /// <summary>A write-only stream appending to a <see cref="ByteBuffer"/> (for GZipStream).</summary>
    private sealed class BufferStream : Stream
    {
        private readonly ByteBuffer _buffer;

        public BufferStream(ByteBuffer buffer) => _buffer = buffer;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _buffer.Length;

        public override long Position
        {
            get => _buffer.Length;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _buffer.Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => _buffer.Write(buffer);

        public override void WriteByte(byte value) => _buffer.WriteByte(value);
    }
}
