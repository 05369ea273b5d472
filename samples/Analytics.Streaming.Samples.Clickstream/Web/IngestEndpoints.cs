using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// The beacon endpoints, open to anyone (they are what web pages call): <c>GET /collect.gif</c> (a 1x1 GIF, the
/// event in query parameters) and <c>POST /collect</c> (a JSON batch). Refusals are RFC 9457 problem details:
/// 400 for malformed or invalid input (with the fields at fault), 413 for bodies over the limit, 415 for other
/// content types. Each refusal is counted by reason.
/// </summary>
public static class IngestEndpoints
{
    /// <summary>A transparent 1x1 GIF (43 bytes).</summary>
    public static ReadOnlySpan<byte> Pixel =>
    [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ];

    private static readonly string[] PixelParameters = ["page", "vid", "ref", "ua", "lt", "item", "ts", "cb"];

    /// <summary>Maps the beacon endpoints.</summary>
    public static void MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapGet("/collect.gif", CollectPixelAsync).RequireCors("beacons").AllowAnonymous();
        app.MapPost("/collect", CollectBatchAsync).RequireCors("beacons").AllowAnonymous();
    }

    private static async Task<IResult> CollectPixelAsync(HttpContext http, BeaconParser parser, IClickWriter writer, IngestStatistics statistics, DashboardState state)
    {
        var query = http.Request.Query;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (name, values) in query)
        {
            if (!PixelParameters.Contains(name, StringComparer.Ordinal))
            {
                errors[name] = [$"Unknown parameter. Parameters: {string.Join(", ", PixelParameters)}."];
            }
            else if (values.Count > 1)
            {
                errors[name] = ["Given more than once."];
            }
        }

        var click = errors.Count == 0
            ? parser.ParseQuery(name => query.TryGetValue(name, out var v) ? v.ToString() : null, http.Request.Headers.UserAgent.ToString(), NullIfEmpty(http.Request.Headers.Referer.ToString()), errors)
            : null;
        if (click is null)
        {
            return Refuse(statistics, state, RejectReason.InvalidField, errors);
        }

        if (await WriteAsync(writer, [click], http.RequestAborted).ConfigureAwait(false) is { } stopping)
        {
            return stopping;
        }

        statistics.Accepted(1);
        http.Response.Headers.CacheControl = "no-store, max-age=0";
        return Results.File(Pixel.ToArray(), "image/gif");
    }

    private static async Task<IResult> CollectBatchAsync(HttpContext http, BeaconParser parser, IClickWriter writer, IngestStatistics statistics, DashboardState state)
    {
        var limits = parser.Limits;
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !(mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || mediaType.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)))
        {
            // text/plain is what navigator.sendBeacon sends for a string.
            statistics.Rejected(RejectReason.UnsupportedMediaType);
            state.Touch();
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported content type.", "Send the batch as application/json (or text/plain, as navigator.sendBeacon does).");
        }

        if (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            statistics.Rejected(RejectReason.UnsupportedMediaType);
            state.Touch();
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported charset.", "Send the batch in UTF-8.");
        }

        if (http.Request.ContentLength > limits.MaxBodyBytes)
        {
            return TooLarge(statistics, state, limits);
        }

        byte[]? body;
        int length;
        try
        {
            (body, length) = await ReadLimitedAsync(http.Request.Body, limits.MaxBodyBytes, http.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            statistics.Rejected(RejectReason.Malformed);
            state.Touch();
            return Problem(ex.StatusCode, "The request body could not be read.", ex.Message);
        }

        if (body is null)
        {
            return TooLarge(statistics, state, limits);
        }

        try
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var events = parser.ParseJson(body.AsMemory(0, length), http.Request.Headers.UserAgent.ToString(), errors, out var reason);
            if (events is null)
            {
                return Refuse(statistics, state, reason, errors);
            }

            if (await WriteAsync(writer, events, http.RequestAborted).ConfigureAwait(false) is { } stopping)
            {
                return stopping;
            }

            statistics.Accepted(events.Count);
            return TypedResults.Json(new AcceptedBeacons(events.Count), DashboardJson.Default.AcceptedBeacons, statusCode: StatusCodes.Status202Accepted);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>Reads at most <paramref name="max"/> bytes; <see langword="null"/> when the body is longer.</summary>
    private static async Task<(byte[]? Body, int Length)> ReadLimitedAsync(Stream stream, int max, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(max + 1, 64 * 1024));
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > max)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }

                byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(max + 1, buffer.Length * 2));
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (length > max)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }

                return (buffer, length);
            }

            length += read;
            if (length > max)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, 0);
            }
        }
    }

    /// <summary>Writes to the stream; a 503 problem when the service is stopping (the embedded stream is closed).</summary>
    private static async Task<IResult?> WriteAsync(IClickWriter writer, IReadOnlyList<ClickEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            await writer.WriteAsync(events, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "The service is stopping.", "Send the beacon again later.");
        }
    }

    private static IResult TooLarge(IngestStatistics statistics, DashboardState state, IngestLimits limits)
    {
        statistics.Rejected(RejectReason.TooLarge);
        state.Touch();
        return Problem(StatusCodes.Status413PayloadTooLarge, "The request body is too large.", $"At most {limits.MaxBodyBytes:N0} bytes per request; split the batch.");
    }

    private static IResult Refuse(IngestStatistics statistics, DashboardState state, RejectReason reason, Dictionary<string, string[]> errors)
    {
        statistics.Rejected(reason);
        state.Touch();
        return reason == RejectReason.Malformed && errors.Count == 1 && errors.TryGetValue("body", out var body)
            ? Problem(StatusCodes.Status400BadRequest, "The body is not a batch of events.", body[0])
            : TypedResults.ValidationProblem(errors, title: "The beacon was refused.", detail: reason == RejectReason.TooLarge ? "Too many events in one request." : "Fix the fields listed in errors.");
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
