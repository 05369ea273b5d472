namespace Analytics.Streaming.Parquet;

/// <summary>The compression codec applied to every page of a file.</summary>
/// <remarks>
/// The numeric values are the Parquet <c>CompressionCodec</c> ids. Every codec here is read by Athena, Spark, Trino,
/// DuckDB, pyarrow and Parquet.Net. <see cref="ParquetWriterOptions.CompressionLevel"/> sets the level of GZIP,
/// BROTLI and ZSTD.
/// </remarks>
public enum ParquetCompression
{
    /// <summary>Pages are stored as encoded, without compression.</summary>
    Uncompressed = 0,

    /// <summary>Snappy raw block format (Snappier); fast, the default of Firehose, Glue and Spark.</summary>
    Snappy = 1,

    /// <summary>GZIP (RFC 1952) members produced by <see cref="System.IO.Compression.GZipStream"/>.</summary>
    Gzip = 2,

    /// <summary>Brotli produced by <see cref="System.IO.Compression.BrotliEncoder"/>; smaller and slower than Snappy.</summary>
    Brotli = 4,

    /// <summary>
    /// Zstandard frames (ZstdSharp, a managed port of the reference library); files smaller than SNAPPY's at a
    /// moderate cost in speed, the usual choice for data kept long.
    /// </summary>
    Zstd = 6,
}
