using System.Net;

namespace Analytics.Streaming.Kinesis;

/// <summary>What went wrong in a Kinesis or Firehose call, as <see cref="KinesisException.Error"/> reports it.</summary>
/// <remarks>
/// The service's own code is always in <see cref="KinesisException.ErrorCode"/>; this enum groups the codes callers act
/// on. Codes the package does not know map to <see cref="Other"/>.
/// </remarks>
public enum KinesisErrorCode
{
    /// <summary>A code not listed here; see <see cref="KinesisException.ErrorCode"/>.</summary>
    Other,

    /// <summary><c>ProvisionedThroughputExceededException</c>: a shard's or the account's throughput limit (retryable; for reads wait about a second).</summary>
    ProvisionedThroughputExceeded,

    /// <summary><c>LimitExceededException</c>: a control-plane rate or count limit (retryable after a backoff).</summary>
    LimitExceeded,

    /// <summary>Any other throttling answer (<c>ThrottlingException</c>, <c>TooManyRequestsException</c>, HTTP 429, ...; retryable).</summary>
    Throttling,

    /// <summary><c>KMSThrottlingException</c>: the stream's KMS key is throttled (retryable).</summary>
    KmsThrottling,

    /// <summary><c>ServiceUnavailableException</c> or HTTP 503 (Firehose's throttling answer; retryable).</summary>
    ServiceUnavailable,

    /// <summary><c>InternalFailure</c> or an HTTP 5xx answer (retryable; a write may still have happened).</summary>
    InternalFailure,

    /// <summary><c>RequestTimeout</c>, <c>RequestTimeoutException</c> or <c>PriorRequestNotComplete</c> from the service (retryable).</summary>
    RequestTimeout,

    /// <summary><c>ExpiredIteratorException</c>: the shard iterator is older than 5 minutes (get a new one).</summary>
    ExpiredIterator,

    /// <summary><c>ExpiredNextTokenException</c>: a <c>ListShards</c> paging token is older than 300 seconds (restart the listing).</summary>
    ExpiredNextToken,

    /// <summary><c>ResourceNotFoundException</c>: the stream, shard, consumer or delivery stream does not exist.</summary>
    ResourceNotFound,

    /// <summary><c>ResourceInUseException</c>: the resource is busy (a stream not <c>ACTIVE</c>) or exists already.</summary>
    ResourceInUse,

    /// <summary><c>InvalidArgumentException</c> or <c>ValidationException</c>: the request breaks a rule.</summary>
    InvalidArgument,

    /// <summary><c>AccessDeniedException</c>: the credentials may not do this.</summary>
    AccessDenied,

    /// <summary>A KMS problem other than throttling (<c>KMSDisabledException</c>, <c>KMSAccessDeniedException</c>, <c>InvalidKMSResourceException</c>, ...).</summary>
    Kms,

    /// <summary>No answer: the connection failed, broke, or the attempt timed out on the client (retryable).</summary>
    TransportFailure,

    /// <summary>The answer was not in the documented shape.</summary>
    MalformedResponse,

    /// <summary>No credentials were given and none were found in AWSSDK.Core's default chain.</summary>
    MissingCredentials,
}

/// <summary>
/// An error answer from Kinesis Data Streams or Firehose, or a call that got no answer, after the client's retry policy
/// gave up on it.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Error"/> says what happened in a form to switch on; <see cref="ErrorCode"/> keeps the service's code
/// verbatim. <see cref="KinesisExpiredIteratorException"/>, <see cref="KinesisResourceNotFoundException"/> and
/// <see cref="KinesisResourceInUseException"/> are subclasses because callers catch them; every other error arrives as
/// this type.
/// </para>
/// <para>
/// <see cref="IsRetryable"/> follows the AWS SDKs' standard classification (throttling, HTTP 5xx, internal failures,
/// request timeouts, connection failures); by the time an exception reaches the caller, retryable ones have been
/// retried per the owner's <c>Retry</c> options.
/// </para>
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
        Error = KinesisErrors.Classify(errorCode, statusCode);
    }

    /// <summary>Gets what went wrong, grouped for callers to act on.</summary>
    public KinesisErrorCode Error { get; }

    /// <summary>Gets the service's error code verbatim, such as <c>ResourceNotFoundException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>Gets the HTTP status of the answer; <see langword="null"/> when there was none.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the request id of the answer, for AWS support; <see langword="null"/> when unknown.</summary>
    public string? RequestId { get; }

    /// <summary>Gets the operation that failed, such as <c>GetRecords</c>, when known.</summary>
    internal string? Operation { get; init; }

    /// <summary>Gets a value indicating whether retrying the same call later may succeed (throttling, 5xx, transport failures).</summary>
    public bool IsRetryable => KinesisErrors.IsRetryable(ErrorCode, StatusCode);

    /// <summary>Gets a value indicating whether the error is throttling.</summary>
    public bool IsThrottling => KinesisErrors.IsThrottling(ErrorCode, StatusCode);
}

/// <summary>The shard iterator is older than 5 minutes: get a new one (after the last record handed on, or from the checkpoint).</summary>
public sealed class KinesisExpiredIteratorException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public KinesisExpiredIteratorException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ExpiredIterator, statusCode, requestId)
    {
    }
}

/// <summary>The stream, shard, consumer or delivery stream does not exist (a configuration problem; not retried).</summary>
public sealed class KinesisResourceNotFoundException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public KinesisResourceNotFoundException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ResourceNotFound, statusCode, requestId)
    {
    }
}

/// <summary>The resource is busy or exists already (a stream not <c>ACTIVE</c>, a consumer name taken): poll its status.</summary>
public sealed class KinesisResourceInUseException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The service's message.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="requestId">The request id.</param>
    public KinesisResourceInUseException(string message, HttpStatusCode? statusCode = null, string? requestId = null)
        : base(message, KinesisErrors.ResourceInUse, statusCode, requestId)
    {
    }
}
