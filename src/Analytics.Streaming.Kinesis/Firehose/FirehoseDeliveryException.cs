namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>Thrown by <see cref="FirehoseSink{T}"/> when records could not be delivered after every attempt.</summary>
public sealed class FirehoseDeliveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FirehoseDeliveryException()
        : this("Records could not be delivered to Firehose.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public FirehoseDeliveryException(string message)
        : base(message)
    {
        ErrorCode = "Unknown";
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public FirehoseDeliveryException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ErrorCode = innerException is KinesisException k ? k.ErrorCode : "Unknown";
    }

    /// <summary>Creates the exception for undelivered records.</summary>
    /// <param name="message">The message.</param>
    /// <param name="failedRecordCount">How many records were not delivered.</param>
    /// <param name="errorCode">The last error code.</param>
    /// <param name="innerException">The failed call, when the whole call failed.</param>
    public FirehoseDeliveryException(string message, int failedRecordCount, string errorCode, Exception? innerException = null)
        : base(message, innerException)
    {
        FailedRecordCount = failedRecordCount;
        ErrorCode = errorCode;
    }

    /// <summary>Gets how many records were not delivered.</summary>
    public int FailedRecordCount { get; }

    /// <summary>Gets the last error code.</summary>
    public string ErrorCode { get; }
}
