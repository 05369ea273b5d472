namespace Analytics.Streaming.Parquet;

/// <summary>The logical kind of a <see cref="ParquetField"/>; it fixes the physical Parquet type and annotations.</summary>
public enum ParquetColumnKind
{
    /// <summary>BOOLEAN.</summary>
    Boolean,

    /// <summary>INT32 (signed 32-bit integer).</summary>
    Int32,

    /// <summary>INT64 (signed 64-bit integer).</summary>
    Int64,

    /// <summary>FLOAT (IEEE 754 single precision).</summary>
    Float,

    /// <summary>DOUBLE (IEEE 754 double precision).</summary>
    Double,

    /// <summary>DECIMAL(precision, scale): INT32 up to precision 9, INT64 up to 18, FIXED_LEN_BYTE_ARRAY up to 38.</summary>
    Decimal,

    /// <summary>BYTE_ARRAY annotated STRING (UTF-8).</summary>
    String,

    /// <summary>BYTE_ARRAY without annotation (opaque bytes).</summary>
    Binary,

    /// <summary>INT64 annotated TIMESTAMP(isAdjustedToUTC = true, unit).</summary>
    Timestamp,

    /// <summary>INT32 annotated DATE (days since 1970-01-01).</summary>
    Date,

    /// <summary>A LIST group (three-level layout: <c>name / list / element</c>).</summary>
    List,

    /// <summary>A MAP group (<c>name / key_value / key, value</c>); keys are required.</summary>
    Map,
}
