using System.Net;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace Analytics.Streaming.DynamoDB;

/// <summary>Sorts DynamoDB failures into transient (retried), validation (the item is bad) and the rest (surfaced).</summary>
internal static class DynamoDbWriteErrors
{
    /// <summary>Whether another attempt may succeed: throttling, 5xx, dropped connections and timeouts.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        ProvisionedThroughputExceededException or RequestLimitExceededException or ThrottlingException
            or InternalServerErrorException or ReplicatedWriteConflictException => true,
        AmazonServiceException service when service.ErrorCode is "ThrottlingException" or "TooManyRequestsException"
            or "ProvisionedThroughputExceededException" or "RequestLimitExceeded" or "InternalFailure" or "ServiceUnavailable" => true,
        AmazonServiceException service when (int)service.StatusCode >= 500 && service.StatusCode != HttpStatusCode.NotImplemented => true,
        AmazonServiceException { InnerException: { } inner } => IsTransient(inner),
        HttpRequestException or IOException or TimeoutException => true,
        OperationCanceledException => true, // a request timeout; the caller's own cancellation is never retried
        _ => false,
    };

    /// <summary>Whether DynamoDB refused the request's content (a bad attribute, a key of the wrong type, an empty set).</summary>
    public static bool IsValidation(Exception exception)
        => exception is AmazonDynamoDBException { ErrorCode: "ValidationException" or "SerializationException" }
            || (exception is AmazonServiceException { StatusCode: HttpStatusCode.BadRequest, ErrorCode: "ValidationException" });

    /// <summary>The error code to log.</summary>
    public static string Code(Exception? exception) => exception switch
    {
        null => "UnprocessedItems",
        AmazonServiceException { ErrorCode: { Length: > 0 } code } => code,
        _ => exception.GetType().Name,
    };
}
