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
        // A forward-only read: only each item's status (and error, when there is one) is looked at; the rest is skipped.
        items.Clear();
        bool errors = false, sawItems = false;
        try
        {
            var reader = new Utf8JsonReader(body.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException("the answer is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("errors"u8))
                {
                    reader.Read();
                    errors |= reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("items"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        throw new InvalidDataException("'items' is not an array");
                    }

                    sawItems = true;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        var item = ReadItem(ref reader);
                        errors |= item.ErrorType is not null;
                        items.Add(item);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"the answer is not JSON: {exception.Message}", exception);
        }

        if (!sawItems)
        {
            throw new InvalidDataException("the answer has no 'items' array");
        }

        if (items.Count != expected)
        {
            throw new InvalidDataException($"the answer has {items.Count} items for {expected} actions");
        }

        return errors;
    }

    /// <summary>Reads <c>{"index":{..,"status":201,"error":{..}}}</c>; the reader is on its start and ends on its end.</summary>
    private static BulkItem ReadItem(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject || !reader.Read() || reader.TokenType != JsonTokenType.PropertyName
            || !reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("an item is not an object keyed by its action");
        }

        int? status = null;
        string? type = null, reason = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                status = reader.TryGetInt32(out int value) ? value : throw new InvalidDataException("an item's status is not a number");
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                using var error = JsonDocument.ParseValue(ref reader);
                (type, reason) = ReadError(error.RootElement);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // The action's object has ended; the item's object ends next.
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndObject)
        {
            throw new InvalidDataException("an item holds more than its action");
        }

        return new BulkItem(status ?? throw new InvalidDataException("an item has no status"), type, reason);
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
