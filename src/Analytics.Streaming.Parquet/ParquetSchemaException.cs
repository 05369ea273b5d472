namespace Analytics.Streaming.Parquet;

/// <summary>
/// A schema is invalid, or a record map does not match the schema it is bound to (a column whose accessor returns a
/// type the field cannot hold, a duplicate name, an unsupported element type). Thrown when the map or writer is built,
/// never in the middle of a file.
/// </summary>
public sealed class ParquetSchemaException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ParquetSchemaException"/> class.</summary>
    public ParquetSchemaException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ParquetSchemaException"/> class.</summary>
    /// <param name="message">What is wrong and what to change.</param>
    public ParquetSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ParquetSchemaException"/> class.</summary>
    /// <param name="message">What is wrong and what to change.</param>
    /// <param name="innerException">The cause.</param>
    public ParquetSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
