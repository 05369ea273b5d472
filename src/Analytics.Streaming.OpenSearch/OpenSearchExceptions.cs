namespace Analytics.Streaming.OpenSearch;

/// <summary>A request to the cluster failed in a way retrying cannot fix (401, 403, 413, a malformed answer), or retries ran out.</summary>
public class OpenSearchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OpenSearchException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public OpenSearchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public OpenSearchException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="statusCode">The HTTP status of the answer, when there was one.</param>
    /// <param name="errorType">The error type the cluster gave (<c>security_exception</c>), when it gave one.</param>
    /// <param name="innerException">The cause.</param>
    public OpenSearchException(string message, int? statusCode, string? errorType, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = errorType;
    }

    /// <summary>Gets the HTTP status of the answer, when there was one.</summary>
    public int? StatusCode { get; }

    /// <summary>Gets the error type the cluster gave, when it gave one.</summary>
    public string? ErrorType { get; }
}

/// <summary>Actions could not be delivered after every attempt (items or requests kept answering 429 or 5xx).</summary>
public sealed class OpenSearchDeliveryException : OpenSearchException
{
    /// <summary>Creates the exception.</summary>
    public OpenSearchDeliveryException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public OpenSearchDeliveryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public OpenSearchDeliveryException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="failedActions">How many actions were not delivered.</param>
    /// <param name="statusCode">The last status.</param>
    /// <param name="errorType">The last error type.</param>
    /// <param name="innerException">The cause.</param>
    public OpenSearchDeliveryException(string message, int failedActions, int? statusCode, string? errorType, Exception? innerException = null)
        : base(message, statusCode, errorType, innerException)
    {
        FailedActions = failedActions;
    }

    /// <summary>Gets how many actions were not delivered.</summary>
    public int FailedActions { get; }
}
