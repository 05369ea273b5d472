using System.Buffers;
using Analytics.Streaming.Samples.OrderTracking.Orders;
using Analytics.Streaming.Samples.OrderTracking.Processing;
using Microsoft.Net.Http.Headers;

namespace Analytics.Streaming.Samples.OrderTracking.Web;

/// <summary>
/// The orders API: <c>POST /orders</c> (place), <c>GET /orders/{id}</c> (status), <c>POST /orders/{id}/status</c>
/// (move along the lifecycle), <c>GET /customers/{id}/orders</c> (a customer's orders). Refusals are RFC 9457
/// problems: 400 with the fields at fault (malformed JSON, missing fields, negative amounts, unknown fields, too many
/// items), 413 for bodies over <see cref="OrderLimits.MaxBodyBytes"/>, 415 for other content types, 404 for unknown
/// orders and 409 for moves the lifecycle forbids.
/// </summary>
public static class OrderEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    /// <param name="app">The application.</param>
    public static void MapOrders(this IEndpointRouteBuilder app)
    {
        app.MapPost("/orders", PlaceAsync);
        app.MapGet("/orders/{orderId}", GetAsync);
        app.MapPost("/orders/{orderId}/status", ChangeStatusAsync);
        app.MapGet("/customers/{customerId}/orders", ListAsync);
    }

    private static async Task<IResult> PlaceAsync(HttpContext http, OrderRequests requests, OrderService orders, LiveState live)
    {
        var (body, refused) = await ReadJsonBodyAsync(http, requests.Limits).ConfigureAwait(false);
        if (refused is not null)
        {
            live.Rejected();
            return refused;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var request = requests.ParsePlaceOrder(body, errors);
        if (request is null)
        {
            live.Rejected();
            return Results.ValidationProblem(errors, "The order was not accepted; see the errors per field.", title: "Invalid order.");
        }

        var result = await orders.PlaceAsync(request, http.RequestAborted).ConfigureAwait(false);
        if (result.Outcome == CommandOutcome.Conflict)
        {
            live.Rejected();
            return Results.Problem(result.Reason, statusCode: StatusCodes.Status409Conflict, title: "Order id in use.");
        }

        live.Accepted();
        var e = result.Order!;
        var accepted = new OrderAccepted(e.OrderId, e.Status, e.Version, e.Amount, $"/orders/{e.OrderId}");
        return result.Outcome == CommandOutcome.Published
            ? TypedResults.Created(accepted.Location, accepted)
            : TypedResults.Ok(accepted);
    }

    private static async Task<IResult> GetAsync(string orderId, IOrderStatusStore store, OrderService orders, CancellationToken cancellationToken)
    {
        if (!OrderRequests.IsValidId(orderId))
        {
            return InvalidId("orderId");
        }

        if (await store.GetAsync(orderId, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return TypedResults.Ok(stored);
        }

        // Published but not yet stored by the consumer: answer from what was published.
        return orders.Published(orderId) is { } e
            ? TypedResults.Ok(new OrderView(e.OrderId, e.CustomerId, e.Email, e.Status, e.Version, e.Amount, e.Items, e.Time, null, null))
            : Results.Problem($"No order {orderId}.", statusCode: StatusCodes.Status404NotFound, title: "Unknown order.");
    }

    private static async Task<IResult> ChangeStatusAsync(string orderId, HttpContext http, OrderRequests requests, OrderService orders, LiveState live)
    {
        if (!OrderRequests.IsValidId(orderId))
        {
            live.Rejected();
            return InvalidId("orderId");
        }

        var (body, refused) = await ReadJsonBodyAsync(http, requests.Limits).ConfigureAwait(false);
        if (refused is not null)
        {
            live.Rejected();
            return refused;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (OrderRequests.ParseStatusChange(body, errors) is not { } status)
        {
            live.Rejected();
            return Results.ValidationProblem(errors, "The status change was not accepted; see the errors per field.", title: "Invalid status change.");
        }

        var result = await orders.ChangeStatusAsync(orderId, status, http.RequestAborted).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case CommandOutcome.NotFound:
                live.Rejected();
                return Results.Problem(result.Reason, statusCode: StatusCodes.Status404NotFound, title: "Unknown order.");
            case CommandOutcome.Conflict:
                live.Rejected();
                return Results.Problem(result.Reason, statusCode: StatusCodes.Status409Conflict, title: "Status change not allowed.");
            default:
                live.Accepted();
                var e = result.Order!;
                var accepted = new OrderAccepted(e.OrderId, e.Status, e.Version, e.Amount, $"/orders/{e.OrderId}");
                return result.Outcome == CommandOutcome.Published ? TypedResults.Accepted(accepted.Location, accepted) : TypedResults.Ok(accepted);
        }
    }

    private static async Task<IResult> ListAsync(string customerId, IOrderStatusStore store, CancellationToken cancellationToken)
    {
        if (!OrderRequests.IsValidId(customerId))
        {
            return InvalidId("customerId");
        }

        var list = await store.ListByCustomerAsync(customerId, 1000, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CustomerOrders(customerId, list));
    }

    private static IResult InvalidId(string name) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [name] = ["Must be 1 to 64 characters: letters, digits, '.', '_' or '-'."] }, title: "Invalid id.");

    /// <summary>Reads a JSON body of at most the limit; answers 415 or 413 (or 400 for an unreadable body) instead.</summary>
    private static async Task<(ReadOnlyMemory<byte> Body, IResult? Refused)> ReadJsonBodyAsync(HttpContext http, OrderLimits limits)
    {
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return (default, Results.Problem("Send the body as application/json in UTF-8.", statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type."));
        }

        var tooLarge = Results.Problem($"The body is larger than {limits.MaxBodyBytes} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large.");
        if (http.Request.ContentLength > limits.MaxBodyBytes)
        {
            return (default, tooLarge);
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(4096);
                int read = await http.Request.Body.ReadAsync(memory, http.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer.WrittenMemory, null);
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > limits.MaxBodyBytes)
                {
                    return (default, tooLarge);
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            return (default, Results.Problem(ex.Message, statusCode: ex.StatusCode, title: "The request body could not be read."));
        }
    }
}
