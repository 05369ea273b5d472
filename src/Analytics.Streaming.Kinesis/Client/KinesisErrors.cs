using System.Net;

namespace Analytics.Streaming.Kinesis;

/// <summary>Error codes of Kinesis and Firehose and their retry classification.</summary>
public static class KinesisErrors
{
    /// <summary><c>ProvisionedThroughputExceededException</c>.</summary>
    public const string ProvisionedThroughputExceeded = "ProvisionedThroughputExceededException";

    /// <summary><c>ExpiredIteratorException</c>.</summary>
    public const string ExpiredIterator = "ExpiredIteratorException";

    /// <summary><c>ExpiredNextTokenException</c>.</summary>
    public const string ExpiredNextToken = "ExpiredNextTokenException";

    /// <summary><c>ResourceNotFoundException</c>.</summary>
    public const string ResourceNotFound = "ResourceNotFoundException";

    /// <summary><c>ResourceInUseException</c>.</summary>
    public const string ResourceInUse = "ResourceInUseException";

    /// <summary><c>LimitExceededException</c>.</summary>
    public const string LimitExceeded = "LimitExceededException";

    /// <summary><c>InvalidArgumentException</c>.</summary>
    public const string InvalidArgument = "InvalidArgumentException";

    /// <summary><c>InternalFailure</c> (the per-entry code of PutRecords and PutRecordBatch).</summary>
    public const string InternalFailure = "InternalFailure";

    /// <summary><c>ServiceUnavailableException</c> (Firehose throttling).</summary>
    public const string ServiceUnavailable = "ServiceUnavailableException";

    /// <summary>The code used for transport failures (connection refused, reset, timeout) with no answer.</summary>
    public const string TransportFailure = "TransportFailure";

    /// <summary>Returns whether an error is throttling.</summary>
    /// <param name="errorCode">The error code.</param>
    /// <param name="statusCode">The HTTP status, if any.</param>
    /// <returns><see langword="true"/> for the throttling codes of botocore's standard retry mode, and HTTP 429 and 509.</returns>
    public static bool IsThrottling(string? errorCode, HttpStatusCode? statusCode) =>
        statusCode is (HttpStatusCode)429 or (HttpStatusCode)509 ||
        errorCode is ProvisionedThroughputExceeded or LimitExceeded or ServiceUnavailable or "KMSThrottlingException"
            or "Throttling" or "ThrottlingException" or "ThrottledException" or "RequestThrottledException"
            or "TooManyRequestsException" or "RequestLimitExceeded" or "BandwidthLimitExceeded" or "RequestThrottled"
            or "SlowDown";

    /// <summary>Returns whether retrying the same call later may succeed.</summary>
    /// <param name="errorCode">The error code.</param>
    /// <param name="statusCode">The HTTP status, if any.</param>
    /// <returns><see langword="true"/> for throttling, HTTP 5xx, internal failures, request timeouts and transport failures.</returns>
    public static bool IsRetryable(string? errorCode, HttpStatusCode? statusCode) =>
        IsThrottling(errorCode, statusCode) ||
        (statusCode is { } status && (int)status >= 500) ||
        errorCode is InternalFailure or "InternalFailureException" or "InternalServerError" or TransportFailure
            or "RequestTimeout" or "RequestTimeoutException" or "PriorRequestNotComplete";
}
