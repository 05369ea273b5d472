namespace Analytics.Streaming.Parquet;

/// <summary>The resolution of a timestamp column (an INT64 count of units since the Unix epoch, UTC).</summary>
public enum ParquetTimestampUnit
{
    /// <summary>Milliseconds since 1970-01-01T00:00:00Z (<c>TIMESTAMP_MILLIS</c>); what Athena's engine v2 reads natively.</summary>
    Milliseconds = 0,

    /// <summary>Microseconds since 1970-01-01T00:00:00Z (<c>TIMESTAMP_MICROS</c>); the default.</summary>
    Microseconds = 1,
}
