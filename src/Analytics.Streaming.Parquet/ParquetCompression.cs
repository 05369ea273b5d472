namespace Analytics.Streaming.Parquet;

/// <summary>The compression codec applied to every page of a file.</summary>
/// <remarks>
/// The numeric values are the Parquet <c>CompressionCodec</c> ids. ZSTD is not offered: the package depends only on
/// IronSnappy and the base class library, and the BCL has no Zstandard encoder.
/// </remarks>
public enum ParquetCompression
{
    /// <summary>Pages are stored as encoded, without compression.</summary>
    Uncompressed = 0,

    /// <summary>Snappy raw block format (IronSnappy); fast, the default of Firehose, Glue and Spark.</summary>
    Snappy = 1,

    /// <summary>GZIP (RFC 1952) members produced by <see cref="System.IO.Compression.GZipStream"/>.</summary>
    Gzip = 2,

    /// <summary>Brotli produced by <see cref="System.IO.Compression.BrotliEncoder"/>; smaller and slower than Snappy.</summary>
    Brotli = 4,
}
