using System.Diagnostics.CodeAnalysis;
using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.S3;

/// <summary>Parquet objects written with <see cref="ParquetWriter{T}"/>: the format of the processed and analytics zones, read by Athena, Glue, Spark and DuckDB.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <remarks>
/// <para>
/// A record whose value does not fit its column (<see cref="ParquetValueException"/>: a null in a required column,
/// a decimal with too many digits, an accessor that throws) is refused whole and goes to the sink's error prefix;
/// the object carries on without it.
/// </para>
/// <para>
/// Memory per open object is one row group (<see cref="ParquetWriterOptions.RowGroupSize"/>): with many open
/// partitions, lower it (the sink's default options use 16 MiB row groups instead of the writer's 64 MiB).
/// </para>
/// </remarks>
public sealed class ParquetObjectFormat<T> : IObjectFormat<T>, ITableFormat
{
    private readonly ParquetWriterOptions _options;

    /// <summary>Creates the format.</summary>
    /// <param name="map">How records map to columns.</param>
    /// <param name="options">Writer options (codec, row groups, dictionary); validated here. <see langword="null"/> for SNAPPY with 16 MiB row groups.</param>
    public ParquetObjectFormat(ParquetRecordMap<T> map, ParquetWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        Map = map;
        _options = options ?? new ParquetWriterOptions { RowGroupSize = 16 * 1024 * 1024 };
        _options.Validate();
    }

    /// <summary>Gets the record map.</summary>
    public ParquetRecordMap<T> Map { get; }

    /// <summary>Gets the schema of the objects.</summary>
    public ParquetSchema Schema => Map.Schema;

    /// <inheritdoc />
    public string FileExtension => ".parquet";

    /// <inheritdoc />
    public string ContentType => "application/vnd.apache.parquet";

    /// <inheritdoc />
    public IReadOnlyList<TableColumn> Columns
    {
        get
        {
            var columns = new List<TableColumn>(Schema.Fields.Count);
            foreach (var parquetField in Schema.Fields)
            {
                columns.Add(new TableColumn(parquetField.Name, parquetField.ToHiveType()));
            }

            return columns;
        }
    }

    /// <inheritdoc />
    public TableStorage Storage => TableStorage.Parquet(_options.Compression.ToString().ToUpperInvariant());

    /// <inheritdoc />
    public IObjectWriter<T> CreateWriter(Stream output) => new Writer(new ParquetWriter<T>(output, Map, _options, leaveOpen: true));

    private sealed class Writer(ParquetWriter<T> writer) : IObjectWriter<T>
    {
        public long SizeEstimate => writer.BytesWritten + writer.BufferedBytes;

        public bool TryWrite(T record, [NotNullWhen(false)] out string? error)
        {
            try
            {
                writer.Write(record);
                error = null;
                return true;
            }
            catch (ParquetValueException ex)
            {
                error = ex.Message;
                return false;
            }
        }

        public void Complete() => writer.Complete();

        public void Dispose() => writer.Dispose();
    }
}
