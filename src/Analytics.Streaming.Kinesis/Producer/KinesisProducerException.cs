namespace Analytics.Streaming.Kinesis;

/// <summary>A user record the producer gave up on, with the last error.</summary>
/// <param name="Data">A copy of the record's data, so it can be re-driven.</param>
/// <param name="PartitionKey">The record's partition key.</param>
/// <param name="ExplicitHashKey">The record's explicit hash key, or <see langword="null"/>.</param>
/// <param name="ErrorCode">The last error code (per-record code of PutRecords, or the code of the failed call).</param>
/// <param name="ErrorMessage">The last error message.</param>
/// <param name="Attempts">How many times the record was sent.</param>
public sealed record KinesisProducerFailure(
    ReadOnlyMemory<byte> Data,
    string PartitionKey,
    string? ExplicitHashKey,
    string ErrorCode,
    string ErrorMessage,
    int Attempts);

/// <summary>Thrown by <see cref="KinesisProducer.FlushAsync"/> when records failed for good since the previous flush.</summary>
public sealed class KinesisProducerException : Exception
{
    /// <summary>Creates the exception with no failures.</summary>
    public KinesisProducerException()
        : this("Records could not be written to Kinesis.")
    {
    }

    /// <summary>Creates the exception with a message and no failures.</summary>
    /// <param name="message">The message.</param>
    public KinesisProducerException(string message)
        : this(message, [])
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KinesisProducerException(string message, Exception innerException)
        : base(message, innerException)
    {
        Failures = [];
    }

    /// <summary>Creates the exception for failed records.</summary>
    /// <param name="message">The message.</param>
    /// <param name="failures">The records that failed.</param>
    public KinesisProducerException(string message, IReadOnlyList<KinesisProducerFailure> failures)
        : base(message)
    {
        Failures = failures;
    }

    /// <summary>Gets the records that failed for good, each with its last error.</summary>
    public IReadOnlyList<KinesisProducerFailure> Failures { get; }
}
