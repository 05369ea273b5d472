using System.Text.Json;

namespace Analytics.Streaming.OpenSearch.Internal;

/// <summary>The outcome of one action of a <c>_bulk</c> answer.</summary>
internal readonly record struct BulkItem(int Status, string? ErrorType, string? ErrorReason);

/// <summary>Reads the <c>_bulk</c> answer: <c>{"took":..,"errors":bool,"items":[{"index":{..,"status":201}}, ..]}</c>.</summary>
internal static class BulkResponse
{
    /// <summary>Reads every item's status and error, in request order.</summary>
    /// <param name="body">The answer.</param>
    /// <param name="expected">How many actions were sent.</param>
    /// <param name="items">Receives one item per action.</param>
    /// <returns><see langword="true"/> when some item failed (the <c>errors</c> flag).</returns>
    /// <exception cref="InvalidDataException">The answer is not a bulk answer for <paramref name="expected"/> actions.</exception>
    public static bool Read(ReadOnlyMemory<byte> body, int expected, List<BulkItem> items)
    {
        items.Clear();
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("items", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException("the answer has no 'items' array");
            }

            if (array.GetArrayLength() != expected)
            {
                throw new InvalidDataException($"the answer has {array.GetArrayLength()} items for {expected} actions");
            }

            bool errors = root.TryGetProperty("errors", out var flag) && flag.ValueKind == JsonValueKind.True;
            foreach (var element in array.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException("an item is not an object");
                }

                JsonElement result = default;
                foreach (var property in element.EnumerateObject())
                {
                    result = property.Value;
                    break;
                }

                if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("status", out var status) || !status.TryGetInt32(out int code))
                {
                    throw new InvalidDataException("an item has no status");
                }

                if (result.TryGetProperty("error", out var error))
                {
                    var (type, reason) = ReadError(error);
                    items.Add(new BulkItem(code, type, reason));
                    errors = true;
                }
                else
                {
                    items.Add(new BulkItem(code, null, null));
                }
            }

            return errors;
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"the answer is not JSON: {exception.Message}", exception);
        }
    }

    /// <summary>Reads an error object (<c>{"type":..,"reason":..,"caused_by":{..}}</c>) or an old-style string error.</summary>
    public static (string Type, string Reason) ReadError(JsonElement error)
    {
        if (error.ValueKind == JsonValueKind.String)
        {
            return ("error", error.GetString() ?? string.Empty);
        }

        if (error.ValueKind != JsonValueKind.Object)
        {
            return ("error", error.GetRawText());
        }

        string type = error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "error";
        string reason = error.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : string.Empty;
        if (error.TryGetProperty("caused_by", out var cause) && cause.ValueKind == JsonValueKind.Object)
        {
            var (causeType, causeReason) = ReadError(cause);
            reason = $"{reason} (caused by {causeType}: {causeReason})";
        }

        return (type, reason);
    }
}
