using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Analytics.Streaming.Samples.OrderTracking.Orders;

/// <summary>A validated request to place an order.</summary>
/// <param name="OrderId">The client's order id (an idempotency key), or <see langword="null"/> to have one made.</param>
/// <param name="CustomerId">The customer.</param>
/// <param name="Email">The confirmation's recipient.</param>
/// <param name="Items">The lines.</param>
/// <param name="Amount">The total, computed from the lines.</param>
public sealed record PlaceOrder(string? OrderId, string CustomerId, string Email, IReadOnlyList<OrderItem> Items, decimal Amount);

/// <summary>
/// Parses and validates the API's JSON bodies without trusting them: every failure is collected per field (JSON
/// pointer-like names such as <c>items[2].quantity</c>) for a 400 problem; nothing throws on garbage.
/// </summary>
public sealed partial class OrderRequests(OrderLimits limits)
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };
    private static readonly string[] OrderFields = ["orderId", "customerId", "email", "items", "amount"];
    private static readonly string[] ItemFields = ["sku", "quantity", "unitPrice"];

    /// <summary>Gets the limits.</summary>
    public OrderLimits Limits { get; } = limits;

    /// <summary>Whether <paramref name="id"/> is a valid order or customer id (1 to 64 letters, digits, <c>.</c>, <c>_</c>, <c>-</c>).</summary>
    /// <param name="id">The id.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    /// <summary>Parses a place-order body.</summary>
    /// <param name="body">The UTF-8 JSON.</param>
    /// <param name="errors">Receives the problems by field.</param>
    /// <returns>The order, or <see langword="null"/> with <paramref name="errors"/> filled.</returns>
    public PlaceOrder? ParsePlaceOrder(ReadOnlyMemory<byte> body, Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        using var document = Parse(body, errors);
        if (document is null)
        {
            return null;
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors["$"] = ["The body must be a JSON object: {\"customerId\", \"email\", \"items\": [{\"sku\", \"quantity\", \"unitPrice\"}]}."];
            return null;
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!OrderFields.Contains(property.Name, StringComparer.Ordinal))
            {
                errors[property.Name] = [$"Unknown field. Fields: {string.Join(", ", OrderFields)}."];
            }
        }

        string? orderId = null;
        if (root.TryGetProperty("orderId", out var orderIdElement) && orderIdElement.ValueKind != JsonValueKind.Null)
        {
            orderId = Id(orderIdElement, "orderId", errors);
        }

        string? customerId = root.TryGetProperty("customerId", out var customer) ? Id(customer, "customerId", errors) : Missing("customerId", errors);
        string? email = root.TryGetProperty("email", out var emailElement) ? Email(emailElement, errors) : Missing("email", errors);
        var items = root.TryGetProperty("items", out var itemsElement) ? Items(itemsElement, errors) : Missing<List<OrderItem>>("items", errors);

        decimal total = 0;
        if (items is not null)
        {
            foreach (var item in items)
            {
                total += item.Quantity * item.UnitPrice;
            }
        }

        if (root.TryGetProperty("amount", out var amountElement) && amountElement.ValueKind != JsonValueKind.Null)
        {
            if (!amountElement.TryGetDecimal(out decimal amount))
            {
                errors["amount"] = ["Must be a number."];
            }
            else if (amount < 0)
            {
                errors["amount"] = ["Must not be negative."];
            }
            else if (items is not null && amount != total)
            {
                errors["amount"] = [string.Create(CultureInfo.InvariantCulture, $"Does not match the items' total {total} (quantity times unit price, summed); leave it out to have it computed.")];
            }
        }

        return errors.Count == 0 ? new PlaceOrder(orderId, customerId!, email!, items!, total) : null;
    }

    /// <summary>Parses a status-change body <c>{"status": "Confirmed"}</c>.</summary>
    /// <param name="body">The UTF-8 JSON.</param>
    /// <param name="errors">Receives the problems by field.</param>
    /// <returns>The requested status, or <see langword="null"/> with <paramref name="errors"/> filled.</returns>
    public static OrderStatus? ParseStatusChange(ReadOnlyMemory<byte> body, Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        using var document = Parse(body, errors);
        if (document is null)
        {
            return null;
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status))
        {
            errors["status"] = ["Required: {\"status\": \"Confirmed\" | \"Shipped\" | \"Delivered\" | \"Cancelled\"}."];
            return null;
        }

        foreach (var property in root.EnumerateObject())
        {
            if (property.Name != "status")
            {
                errors[property.Name] = ["Unknown field. Fields: status."];
            }
        }

        if (status.ValueKind != JsonValueKind.String
            || !Enum.TryParse<OrderStatus>(status.GetString(), ignoreCase: true, out var value)
            || !Enum.IsDefined(value)
            || int.TryParse(status.GetString(), out _))
        {
            errors["status"] = ["Must be one of Confirmed, Shipped, Delivered, Cancelled."];
            return null;
        }

        if (value == OrderStatus.Placed)
        {
            errors["status"] = ["Orders are placed with POST /orders; this changes the status of a placed order."];
            return null;
        }

        return errors.Count == 0 ? value : null;
    }

    private static JsonDocument? Parse(ReadOnlyMemory<byte> body, Dictionary<string, string[]> errors)
    {
        if (body.IsEmpty)
        {
            errors["$"] = ["The body is empty; send a JSON object."];
            return null;
        }

        try
        {
            return JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            errors["$"] = [$"Malformed JSON: {ex.Message}"];
            return null;
        }
    }

    private static T? Missing<T>(string name, Dictionary<string, string[]> errors)
        where T : class
    {
        errors[name] = ["Required."];
        return null;
    }

    private static string? Missing(string name, Dictionary<string, string[]> errors) => Missing<string>(name, errors);

    private static string? Id(JsonElement element, string name, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            errors[name] = ["Must be a string."];
            return null;
        }

        string value = element.GetString()!;
        if (!IsValidId(value))
        {
            errors[name] = ["Must be 1 to 64 characters: letters, digits, '.', '_' or '-'."];
            return null;
        }

        return value;
    }

    private static string? Email(JsonElement element, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            errors["email"] = ["Must be a string."];
            return null;
        }

        string value = element.GetString()!;
        if (value.Length is 0 or > 254 || !EmailPattern().IsMatch(value))
        {
            errors["email"] = ["Must be an e-mail address such as ada@example.com (at most 254 characters)."];
            return null;
        }

        return value;
    }

    private List<OrderItem>? Items(JsonElement element, Dictionary<string, string[]> errors)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            errors["items"] = ["Must be an array of {\"sku\", \"quantity\", \"unitPrice\"}."];
            return null;
        }

        int count = element.GetArrayLength();
        if (count == 0 || count > Limits.MaxItems)
        {
            errors["items"] = [string.Create(CultureInfo.InvariantCulture, $"Must hold 1 to {Limits.MaxItems} items; got {count}.")];
            return null;
        }

        var items = new List<OrderItem>(count);
        int index = 0;
        int before = errors.Count;
        foreach (var item in element.EnumerateArray())
        {
            string at = string.Create(CultureInfo.InvariantCulture, $"items[{index++}]");
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors[at] = ["Must be an object {\"sku\", \"quantity\", \"unitPrice\"}."];
                continue;
            }

            foreach (var property in item.EnumerateObject())
            {
                if (!ItemFields.Contains(property.Name, StringComparer.Ordinal))
                {
                    errors[$"{at}.{property.Name}"] = [$"Unknown field. Fields: {string.Join(", ", ItemFields)}."];
                }
            }

            string? sku = item.TryGetProperty("sku", out var skuElement) ? Id(skuElement, $"{at}.sku", errors) : Missing($"{at}.sku", errors);
            int quantity = 0;
            if (!item.TryGetProperty("quantity", out var q))
            {
                errors[$"{at}.quantity"] = ["Required."];
            }
            else if (q.ValueKind != JsonValueKind.Number || !q.TryGetInt32(out quantity) || quantity < 1 || quantity > Limits.MaxQuantity)
            {
                errors[$"{at}.quantity"] = [string.Create(CultureInfo.InvariantCulture, $"Must be a whole number from 1 to {Limits.MaxQuantity}.")];
            }

            decimal price = 0;
            if (!item.TryGetProperty("unitPrice", out var p))
            {
                errors[$"{at}.unitPrice"] = ["Required."];
            }
            else if (p.ValueKind != JsonValueKind.Number || !p.TryGetDecimal(out price))
            {
                errors[$"{at}.unitPrice"] = ["Must be a number."];
            }
            else if (price < 0)
            {
                errors[$"{at}.unitPrice"] = ["Must not be negative."];
            }
            else if (price > Limits.MaxUnitPrice || decimal.Round(price, 2) != price)
            {
                errors[$"{at}.unitPrice"] = [string.Create(CultureInfo.InvariantCulture, $"Must be at most {Limits.MaxUnitPrice} with at most 2 decimals.")];
            }

            if (sku is not null)
            {
                items.Add(new OrderItem(sku, quantity, price));
            }
        }

        return errors.Count == before ? items : null;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();
}
