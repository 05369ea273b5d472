namespace Analytics.Streaming.S3;

/// <summary>The zones of a data lake, each a top-level folder under the sink's prefix.</summary>
/// <remarks>
/// The usual convention: raw records exactly as received (often JSON lines) in <see cref="Raw"/>; cleaned, typed
/// Parquet in <see cref="Processed"/>; aggregates (window results, scores) in <see cref="Analytics"/>.
/// </remarks>
public enum DataLakeZone
{
    /// <summary>No zone folder: tables sit directly under the prefix.</summary>
    None,

    /// <summary><c>raw/</c>: records as received.</summary>
    Raw,

    /// <summary><c>processed/</c>: cleaned, typed records.</summary>
    Processed,

    /// <summary><c>analytics/</c>: aggregates ready for reporting.</summary>
    Analytics,
}

/// <summary>How deep time partitions go.</summary>
public enum TimePartitioning
{
    /// <summary>No time partitions.</summary>
    None,

    /// <summary>By year.</summary>
    Year,

    /// <summary>By year and month.</summary>
    Month,

    /// <summary>By year, month and day.</summary>
    Day,

    /// <summary>By year, month, day and hour (the Firehose default).</summary>
    Hour,
}

/// <summary>How partition folders are named.</summary>
public enum PartitionStyle
{
    /// <summary><c>name=value/</c> segments, understood by Hive, Glue crawlers, <c>MSCK REPAIR TABLE</c>, Spark and DuckDB (<c>hive_partitioning</c>).</summary>
    Hive,

    /// <summary>Bare <c>value/</c> segments, as Firehose writes (<c>YYYY/MM/dd/HH/</c>); Athena reads them through partition projection.</summary>
    Plain,
}
