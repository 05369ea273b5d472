using System.Globalization;
using System.IO.Compression;

namespace Analytics.Streaming.Parquet;

/// <summary>Options of a <see cref="ParquetWriter{T}"/>. Validated when the writer is created.</summary>
public sealed class ParquetWriterOptions
{
    /// <summary>Gets the defaults (a shared instance; treat it as read-only).</summary>
    public static ParquetWriterOptions Default { get; } = new();

    /// <summary>Gets or sets the page compression codec. Default <see cref="ParquetCompression.Snappy"/>.</summary>
    public ParquetCompression Compression { get; set; } = ParquetCompression.Snappy;

    /// <summary>
    /// Gets or sets the compression level for <see cref="ParquetCompression.Gzip"/>, <see cref="ParquetCompression.Brotli"/>
    /// and <see cref="ParquetCompression.Zstd"/>. Default <see cref="System.IO.Compression.CompressionLevel.Fastest"/>
    /// (GZIP level 1, Brotli quality 1, ZSTD level 1), which suits streaming.
    /// </summary>
    /// <remarks>
    /// ZSTD levels: <see cref="System.IO.Compression.CompressionLevel.Fastest"/> 1,
    /// <see cref="System.IO.Compression.CompressionLevel.Optimal"/> 3 (ZSTD's own default),
    /// <see cref="System.IO.Compression.CompressionLevel.SmallestSize"/> 19 (slow; for compaction jobs, not streams),
    /// <see cref="System.IO.Compression.CompressionLevel.NoCompression"/> ZSTD's fastest negative level (barely compresses).
    /// Brotli qualities: NoCompression 0, Fastest 1, Optimal 4, SmallestSize 11. SNAPPY has no levels.
    /// </remarks>
    public CompressionLevel CompressionLevel { get; set; } = CompressionLevel.Fastest;

    /// <summary>
    /// Gets or sets the size in bytes at which a row group is closed and written to the stream (the compressed
    /// bytes buffered for it). This bounds the writer's memory: about this much plus one page per column.
    /// Default 64 MiB; at least 64 KiB.
    /// </summary>
    public int RowGroupSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>Gets or sets the most rows in a row group, whatever its size. Default 1,048,576; at least 1.</summary>
    public int MaxRowsPerRowGroup { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the encoded size in bytes at which a data page is closed. Default 1 MiB (as Firehose); at least 1 KiB.</summary>
    public int PageSize { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the most level entries (values and nulls) in one data page. Default 20,000; at least 1.</summary>
    public int MaxValuesPerPage { get; set; } = 20_000;

    /// <summary>
    /// Gets or sets a value indicating whether columns start dictionary-encoded (RLE_DICTIONARY). A column falls back to
    /// PLAIN for the rest of its row group when its dictionary would exceed <see cref="DictionaryPageSizeLimit"/>, or
    /// early, after its first page, when the distinct values of that page show the column has more distinct values
    /// than the limit holds (timestamps, unique ids). Default <see langword="true"/>.
    /// BOOLEAN, BINARY and wide DECIMAL columns are always PLAIN.
    /// </summary>
    public bool EnableDictionary { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether INT32 and INT64 columns (integers, timestamps, dates, decimals of up to
    /// 18 digits) may use DELTA_BINARY_PACKED: a chunk's first page takes it when it is smaller than the dictionary
    /// entries and indices, a page without dictionary when it is smaller than PLAIN. Times, sequence numbers and
    /// scaled decimals then cost a few bits a value instead of 4 or 8 bytes. Default <see langword="false"/>, because
    /// not every reader decodes it: DuckDB, Arrow (pyarrow, Spark), Trino and Athena, and hyparquet do; Parquet.Net 6
    /// does only for plain integer columns, not for timestamps, dates or decimals. The S3 package's compaction reads it.
    /// </summary>
    public bool EnableDeltaEncoding { get; set; }

    /// <summary>Gets or sets the most bytes of PLAIN-encoded dictionary entries per column chunk. Default 1 MiB; at least 1 KiB.</summary>
    public int DictionaryPageSizeLimit { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether column statistics (min, max, null count) are written for every column
    /// chunk, with <c>column_orders</c> in the footer so engines can skip row groups. Default <see langword="true"/>.
    /// </summary>
    public bool WriteStatistics { get; set; } = true;

    /// <summary>
    /// Gets or sets the longest string or binary min/max value kept in statistics, in bytes; a chunk whose min or max
    /// is longer gets only its null count. Default 1,024; 0 keeps none.
    /// </summary>
    public int MaxStatisticsSize { get; set; } = 1024;

    /// <summary>Gets or sets the <c>created_by</c> string of the footer. Default <c>Analytics.Streaming.Parquet version x.y.z</c>.</summary>
    public string CreatedBy { get; set; } = "Analytics.Streaming.Parquet version " + typeof(ParquetWriterOptions).Assembly.GetName().Version?.ToString(3);

    /// <summary>Gets the key/value metadata written into the footer (e.g. a schema version). Empty by default.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Throws when an option is out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Compression))
        {
            throw new ArgumentException($"{nameof(Compression)} {(int)Compression} is not supported; use Uncompressed, Snappy, Gzip, Brotli or Zstd.", nameof(Compression));
        }

        Require(RowGroupSize >= 64 * 1024, nameof(RowGroupSize), RowGroupSize, "at least 65536 bytes");
        Require(MaxRowsPerRowGroup >= 1, nameof(MaxRowsPerRowGroup), MaxRowsPerRowGroup, "at least 1");
        Require(PageSize >= 1024, nameof(PageSize), PageSize, "at least 1024 bytes");
        Require(MaxValuesPerPage >= 1, nameof(MaxValuesPerPage), MaxValuesPerPage, "at least 1");
        Require(DictionaryPageSizeLimit >= 1024, nameof(DictionaryPageSizeLimit), DictionaryPageSizeLimit, "at least 1024 bytes");
        Require(MaxStatisticsSize >= 0, nameof(MaxStatisticsSize), MaxStatisticsSize, "0 or more");
        if (string.IsNullOrWhiteSpace(CreatedBy))
        {
            throw new ArgumentException($"{nameof(CreatedBy)} is empty; give the application name and version.", nameof(CreatedBy));
        }
    }

    private static void Require(bool condition, string name, int value, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} is {value}; it must be {rule}."), name);
        }
    }
}
