using System.Net;

namespace Analytics.Streaming.Kinesis;

/// <summary>Turns an AWS JSON error answer into a typed <see cref="KinesisException"/>.</summary>
internal static class KinesisErrorParser
{
    public static KinesisException Parse(string operation, HttpResponseMessage response, ReadOnlySpan<byte> body, string? requestId)
    {
        var (type, message) = KinesisWire.ParseError(body);
        if (type is null && response.Headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            type = values.FirstOrDefault();
        }

        return Create(operation, NormalizeCode(type, response.StatusCode), message, response.StatusCode, requestId);
    }

    /// <summary>Takes the part after the last '#' and before any ':' (<c>com.amazonaws...#Code:extra</c>).</summary>
    public static string NormalizeCode(string? type, HttpStatusCode status)
    {
        if (string.IsNullOrEmpty(type))
        {
            return status switch
            {
                HttpStatusCode.TooManyRequests => "TooManyRequestsException",
                HttpStatusCode.ServiceUnavailable => KinesisErrors.ServiceUnavailable,
                HttpStatusCode.NotFound => KinesisErrors.ResourceNotFound,
                >= HttpStatusCode.InternalServerError => "InternalFailureException",
                _ => "HttpStatus" + ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
        }

        int hash = type.LastIndexOf('#');
        if (hash >= 0)
        {
            type = type[(hash + 1)..];
        }

        int colon = type.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 ? type[..colon] : type;
    }

    public static KinesisException Create(string operation, string code, string? message, HttpStatusCode? status, string? requestId)
    {
        string text = string.IsNullOrEmpty(message) ? $"{operation} failed with {code}." : $"{operation} failed with {code}: {message}";
        return code switch
        {
            KinesisErrors.ExpiredIterator => new KinesisExpiredIteratorException(text, status, requestId) { Operation = operation },
            KinesisErrors.ResourceNotFound => new KinesisResourceNotFoundException(text, status, requestId) { Operation = operation },
            KinesisErrors.ResourceInUse => new KinesisResourceInUseException(text, status, requestId) { Operation = operation },
            _ => new KinesisException(text, code, status, requestId) { Operation = operation },
        };
    }
}
