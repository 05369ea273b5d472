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

        return new LineFormat<T>(gzip, ".jsonl", "application/x-ndjson", (record, line) => SerializeJson(record, line, typeInfo));
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

        return new LineFormat<RawRecord>(gzip, fileExtension, "application/octet-stream", static (record, line) => line.Buffer.Write(record.Data.Span));
    }

    private static void SerializeJson<T>(T record, Line line, JsonTypeInfo<T> typeInfo)
    {
        var writer = line.Json;
        JsonSerializer.Serialize(writer, record, typeInfo);
        writer.Flush();
    }

    /// <summary>The reusable buffers of one object writer: the line being built and a JSON writer over it.</summary>
    private sealed class Line : IDisposable
    {
        private Utf8JsonWriter? _json;

        public ArrayBufferWriter<byte> Buffer { get; } = new(256);

        public Utf8JsonWriter Json
        {
            get
            {
                if (_json is null)
                {
                    _json = new Utf8JsonWriter(Buffer);
                }
                else
                {
                    _json.Reset(Buffer);
                }

                return _json;
            }
        }

        public void Dispose() => _json?.Dispose();
    }

    private sealed class LineFormat<T>(bool gzip, string extension, string contentType, Action<T, Line> serialize) : IObjectFormat<T>
    {
        public string FileExtension { get; } = gzip ? extension + ".gz" : extension;

        public string ContentType => gzip ? "application/gzip" : contentType;

        public IObjectWriter<T> CreateWriter(Stream output)
        {
            ArgumentNullException.ThrowIfNull(output);
            return new Writer(gzip ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true) : output, gzip, serialize);
        }

        private sealed class Writer(Stream output, bool owned, Action<T, Line> serialize) : IObjectWriter<T>
        {
            private readonly Line _line = new();
            private bool _completed;

            public long SizeEstimate { get; private set; }

            public bool TryWrite(T record, [NotNullWhen(false)] out string? error)
            {
                ObjectDisposedException.ThrowIf(_completed, this);
                _line.Buffer.ResetWrittenCount();
                try
                {
                    serialize(record, _line);
                }
#pragma warning disable CA1031 // The line is built in its own buffer, so any failure (a NaN the options refuse, a converter that throws) refuses this record only.
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    error = $"The record cannot be written as JSON: {ex.Message}";
                    return false;
                }

                _line.Buffer.Write("\n"u8);
                output.Write(_line.Buffer.WrittenSpan);
                SizeEstimate += _line.Buffer.WrittenCount;
                error = null;
                return true;
            }

            public void Complete()
            {
                if (!_completed)
                {
                    _completed = true;
                    _line.Dispose();
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

                _line.Dispose();

                _completed = true;
            }
        }
    }
}
