using System.Net;

namespace Analytics.Streaming.Kinesis;

/// <summary>The error codes of Kinesis and Firehose this package acts on, and their classification.</summary>
internal static class KinesisErrors
{
    public const string ProvisionedThroughputExceeded = "ProvisionedThroughputExceededException";
    public const string ExpiredIterator = "ExpiredIteratorException";
    public const string ExpiredNextToken = "ExpiredNextTokenException";
    public const string ResourceNotFound = "ResourceNotFoundException";
    public const string ResourceInUse = "ResourceInUseException";
    public const string LimitExceeded = "LimitExceededException";
    public const string InvalidArgument = "InvalidArgumentException";

    /// <summary>The per-entry code of PutRecords and PutRecordBatch for an internal error.</summary>
    public const string InternalFailure = "InternalFailure";

    /// <summary>Firehose's throttling code.</summary>
    public const string ServiceUnavailable = "ServiceUnavailableException";

    /// <summary>The code given to calls that got no answer (connection refused or reset, client-side timeout).</summary>
    public const string TransportFailure = "TransportFailure";

    /// <summary>The code given to answers that are not in the documented shape.</summary>
    public const string MalformedResponse = "MalformedResponse";

    /// <summary>The code given when no credentials could be found.</summary>
    public const string MissingCredentials = "MissingCredentials";

    /// <summary>Throttling: the codes of botocore's standard retry mode, and HTTP 429 and 509.</summary>
    public static bool IsThrottling(string? errorCode, HttpStatusCode? statusCode) =>
        statusCode is (HttpStatusCode)429 or (HttpStatusCode)509 ||
        errorCode is ProvisionedThroughputExceeded or LimitExceeded or ServiceUnavailable or "KMSThrottlingException"
            or "Throttling" or "ThrottlingException" or "ThrottledException" or "RequestThrottledException"
            or "TooManyRequestsException" or "RequestLimitExceeded" or "BandwidthLimitExceeded" or "RequestThrottled"
            or "SlowDown";

    /// <summary>Worth another attempt later: throttling, HTTP 5xx, internal failures, request timeouts and transport failures.</summary>
    public static bool IsRetryable(string? errorCode, HttpStatusCode? statusCode) =>
        IsThrottling(errorCode, statusCode) ||
        (statusCode is { } status && (int)status >= 500) ||
        errorCode is InternalFailure or "InternalFailureException" or "InternalServerError" or TransportFailure
            or "RequestTimeout" or "RequestTimeoutException" or "PriorRequestNotComplete";

    /// <summary>
    /// Whether a failure is worth another attempt after a backoff: a retryable <see cref="KinesisException"/>, a
    /// connection failure, or a timeout. A cancellation by the caller is never retried: the retry pipeline checks the
    /// caller's token before asking.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        KinesisException kinesis => kinesis.IsRetryable,
        HttpRequestException => true,
        IOException => true,
        OperationCanceledException => true,
        _ => false,
    };

    /// <summary>Like <see cref="IsTransient"/>, and also a resource in use: a stream still being created or updated, a subscription still held by its previous connection.</summary>
    public static bool IsTransientOrInUse(Exception exception) => exception is KinesisResourceInUseException || IsTransient(exception);

    /// <summary>Groups a code for <see cref="KinesisException.Error"/>.</summary>
    public static KinesisErrorCode Classify(string? errorCode, HttpStatusCode? statusCode) => errorCode switch
    {
        ProvisionedThroughputExceeded => KinesisErrorCode.ProvisionedThroughputExceeded,
        LimitExceeded => KinesisErrorCode.LimitExceeded,
        "KMSThrottlingException" => KinesisErrorCode.KmsThrottling,
        ServiceUnavailable => KinesisErrorCode.ServiceUnavailable,
        InternalFailure or "InternalFailureException" or "InternalServerError" => KinesisErrorCode.InternalFailure,
        "RequestTimeout" or "RequestTimeoutException" or "PriorRequestNotComplete" => KinesisErrorCode.RequestTimeout,
        ExpiredIterator => KinesisErrorCode.ExpiredIterator,
        ExpiredNextToken => KinesisErrorCode.ExpiredNextToken,
        ResourceNotFound => KinesisErrorCode.ResourceNotFound,
        ResourceInUse => KinesisErrorCode.ResourceInUse,
        InvalidArgument or "ValidationException" => KinesisErrorCode.InvalidArgument,
        "AccessDeniedException" => KinesisErrorCode.AccessDenied,
        "KMSDisabledException" or "KMSInvalidStateException" or "KMSAccessDeniedException" or "KMSNotFoundException"
            or "KMSOptInRequired" or "InvalidKMSResourceException" => KinesisErrorCode.Kms,
        TransportFailure => KinesisErrorCode.TransportFailure,
        MalformedResponse => KinesisErrorCode.MalformedResponse,
        MissingCredentials => KinesisErrorCode.MissingCredentials,
        _ when IsThrottling(errorCode, statusCode) => KinesisErrorCode.Throttling,
        _ when statusCode == HttpStatusCode.ServiceUnavailable => KinesisErrorCode.ServiceUnavailable,
        _ when statusCode is { } status && (int)status >= 500 => KinesisErrorCode.InternalFailure,
        _ => KinesisErrorCode.Other,
    };
}
