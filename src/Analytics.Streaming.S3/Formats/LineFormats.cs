using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Analytics.Streaming.S3;

/// <summary>Newline-delimited formats: JSON lines of typed records, or raw record bytes one per line (the raw zone, as Firehose delivers).</summary>
public static class LineFormats
{
    /// <summary>JSON lines (<c>.jsonl</c>, or <c>.jsonl.gz</c> with <paramref name="gzip"/>), one record per line, serialized with source-generated metadata.</summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <param name="typeInfo">The serializer metadata of <typeparamref name="T"/>, from a <c>JsonSerializerContext</c>; must not write indented JSON.</param>
    /// <param name="gzip">Whether to gzip each object (Athena and DuckDB read <c>.gz</c> transparently).</param>
    /// <returns>The format.</returns>
    public static IObjectFormat<T> JsonLines<T>(JsonTypeInfo<T> typeInfo, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (typeInfo.Options.WriteIndented)
        {
            throw new ArgumentException("The JSON options write indented JSON, which breaks the one-record-per-line format: set WriteIndented = false.", nameof(typeInfo));
        }

        return new LineFormat<T>(gzip, ".jsonl", "application/x-ndjson", (record, output) => SerializeJson(record, output, typeInfo));
    }

    /// <summary>Raw records: each record's bytes followed by <c>\n</c> (Firehose's <c>AppendDelimiterToRecord</c>), for the raw zone.</summary>
    /// <param name="gzip">Whether to gzip each object.</param>
    /// <param name="fileExtension">The extension before any <c>.gz</c>; <c>.jsonl</c> by default, as most raw streams carry JSON.</param>
    /// <returns>The format.</returns>
    public static IObjectFormat<RawRecord> RawLines(bool gzip = false, string fileExtension = ".jsonl")
    {
        ArgumentException.ThrowIfNullOrEmpty(fileExtension);
        if (fileExtension[0] != '.')
        {
            throw new ArgumentException($"File extension '{fileExtension}' must start with a dot.", nameof(fileExtension));
        }

        return new LineFormat<RawRecord>(gzip, fileExtension, "application/octet-stream", static (record, output) => output.Write(record.Data.Span));
    }

    private static void SerializeJson<T>(T record, ArrayBufferWriter<byte> output, JsonTypeInfo<T> typeInfo)
    {
        using var writer = new Utf8JsonWriter(output);
        JsonSerializer.Serialize(writer, record, typeInfo);
        writer.Flush();
    }

    private sealed class LineFormat<T>(bool gzip, string extension, string contentType, Action<T, ArrayBufferWriter<byte>> serialize) : IObjectFormat<T>
    {
        public string FileExtension { get; } = gzip ? extension + ".gz" : extension;

        public string ContentType => gzip ? "application/gzip" : contentType;

        public IObjectWriter<T> CreateWriter(Stream output)
        {
            ArgumentNullException.ThrowIfNull(output);
            return new Writer(gzip ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true) : output, gzip, serialize);
        }

        private sealed class Writer(Stream output, bool owned, Action<T, ArrayBufferWriter<byte>> serialize) : IObjectWriter<T>
        {
            private readonly ArrayBufferWriter<byte> _line = new(256);
            private bool _completed;

            public long SizeEstimate { get; private set; }

            public bool TryWrite(T record, [NotNullWhen(false)] out string? error)
            {
                ObjectDisposedException.ThrowIf(_completed, this);
                _line.ResetWrittenCount();
                try
                {
                    serialize(record, _line);
                }
                catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
                {
                    error = $"The record cannot be written as JSON: {ex.Message}";
                    return false;
                }

                _line.Write("\n"u8);
                output.Write(_line.WrittenSpan);
                SizeEstimate += _line.WrittenCount;
                error = null;
                return true;
            }

            public void Complete()
            {
                if (!_completed)
                {
                    _completed = true;
                    if (owned)
                    {
                        output.Dispose();
                    }
                }
            }

            public void Dispose()
            {
                if (owned && !_completed)
                {
                    output.Dispose();
                }

                _completed = true;
            }
        }
    }
}
