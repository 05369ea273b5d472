namespace Analytics.Streaming.Parquet;

/// <summary>
/// A record holds a value its column cannot store: a null in a required column, a decimal with more digits than
/// the column's precision or more fractional digits than its scale, a string that is not valid UTF-16 (a lone
/// surrogate). The record is rejected whole (none of its columns is written) and the writer stays usable.
/// </summary>
public sealed class ParquetValueException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ParquetValueException"/> class.</summary>
    public ParquetValueException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ParquetValueException"/> class.</summary>
    /// <param name="message">The reason.</param>
    public ParquetValueException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ParquetValueException"/> class.</summary>
    /// <param name="message">The reason.</param>
    /// <param name="innerException">The cause.</param>
    public ParquetValueException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ParquetValueException"/> class.</summary>
    /// <param name="column">The dotted path of the column that rejected the value.</param>
    /// <param name="rowNumber">The zero-based row number the record would have had in the file.</param>
    /// <param name="reason">Why the value does not fit.</param>
    public ParquetValueException(string column, long rowNumber, string reason)
        : base($"Row {rowNumber}: column '{column}' {reason}")
    {
        Column = column;
        RowNumber = rowNumber;
        Reason = reason;
    }

    /// <summary>Initializes a new instance of the <see cref="ParquetValueException"/> class.</summary>
    /// <param name="column">The dotted path of the column that rejected the value.</param>
    /// <param name="rowNumber">The zero-based row number the record would have had in the file.</param>
    /// <param name="reason">Why the value does not fit.</param>
    /// <param name="innerException">The cause, such as an exception thrown by the column's accessor.</param>
    public ParquetValueException(string column, long rowNumber, string reason, Exception? innerException)
        : base($"Row {rowNumber}: column '{column}' {reason}", innerException)
    {
        Column = column;
        RowNumber = rowNumber;
        Reason = reason;
    }

    /// <summary>Gets the dotted path of the column that rejected the value, or <see langword="null"/>.</summary>
    public string? Column { get; }

    /// <summary>Gets the zero-based row number the rejected record would have had in the file.</summary>
    public long RowNumber { get; }

    /// <summary>Gets why the value does not fit, without the row and column prefix (e.g. for an error prefix in a data lake).</summary>
    public string? Reason { get; }
}
