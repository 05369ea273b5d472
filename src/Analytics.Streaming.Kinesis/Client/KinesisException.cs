using System.Net;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// An error answer from Kinesis Data Streams or Firehose (or a transport failure the retry policy gave up on),
/// with the service's error code.
/// </summary>
/// <remarks>
/// Subclasses exist for the codes callers act on; any other code arrives as this type with
/// <see cref="ErrorCode"/> set (for example <c>AccessDeniedException</c>, <c>KMSDisabledException</c>).
/// </remarks>
public class KinesisException : Exception
{
    /// <summary>Creates an exception with no details.</summary>
    public KinesisException()
        : this("The Kinesis call failed.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KinesisException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public KinesisException(string message, Exception? innerException)
        : this(message, "Unknown", null, null, innerException)
    {
    }

    /// <summary>Creates an exception for an error answer.</summary>
    /// <param name="message">The service's message (or a description of the failure).</param>
    /// <param name="errorCode">The error code (the <c>__type</c> of the answer without namespace).</param>
    /// <param name="statusCode">The HTTP status, when there was an answer.</param>
    /// <param name="requestId">The <c>x-amzn-RequestId</c> of the answer, when there was one.</param>
    /// <param name="innerException">The cause, for transport failures.</param>
    public KinesisException(string message, string errorCode, HttpStatusCode? statusCode, string? requestId, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
        StatusCode = statusCode;
        RequestId = requestId;
    }

    /// <summary>Gets the service's error code, such as <c>ResourceNotFoundException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>Gets the HTTP status of the answer; <see langword="null"/> for transport failures.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the request id of the answer, for AWS support; <see langword="null"/> when unknown.</summary>
    public string? RequestId { get; }

    /// <summary>Gets a value indicating whether retrying the same call later may succeed (throttling, 5xx, transport failures).</summary>
    public bool IsRetryable => KinesisErrors.IsRetryable(ErrorCode, StatusCode);

    /// <summary>Gets a value indicating whether the error is throttling.</summary>
    public bool IsThrottling => KinesisErrors.IsThrottling(ErrorCode, StatusCode);
}

/// <summary>The shard's or the account's throughput limit was exceeded (retryable after a backoff; for reads wait about a second).</summary>
public sealed class ProvisionedThroughputExceededException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public ProvisionedThroughputExceededException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ProvisionedThroughputExceeded, statusCode, requestId)
    {
    }
}

/// <summary>The shard iterator is older than 5 minutes: get a new one (after the last record handed on, or from the checkpoint).</summary>
public sealed class ExpiredIteratorException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public ExpiredIteratorException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ExpiredIterator, statusCode, requestId)
    {
    }
}

/// <summary>The <c>ListShards</c> paging token is older than 300 seconds: restart the listing.</summary>
public sealed class ExpiredNextTokenException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public ExpiredNextTokenException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ExpiredNextToken, statusCode, requestId)
    {
    }
}

/// <summary>The stream, shard, consumer or delivery stream does not exist.</summary>
public sealed class ResourceNotFoundException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public ResourceNotFoundException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ResourceNotFound, statusCode, requestId)
    {
    }
}

/// <summary>The resource is busy or exists already (a stream not <c>ACTIVE</c>, a consumer name taken): poll its status.</summary>
public sealed class ResourceInUseException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public ResourceInUseException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ResourceInUse, statusCode, requestId)
    {
    }
}

/// <summary>A control-plane rate or count limit was exceeded (retryable after a backoff).</summary>
public sealed class LimitExceededException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public LimitExceededException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.LimitExceeded, statusCode, requestId)
    {
    }
}

/// <summary>The request was malformed or broke a rule (a bad hash key, a bad parameter combination). Not retryable.</summary>
public sealed class InvalidArgumentException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public InvalidArgumentException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.InvalidArgument, statusCode, requestId)
    {
    }
}
