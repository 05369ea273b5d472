using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Analytics.Streaming.Kinesis;

/// <summary>Helpers for reading AWS JSON 1.1 answers with <see cref="Utf8JsonReader"/>; explicit <c>null</c> members read as absent.</summary>
internal static class JsonReading
{
    public static void ExpectStartObject(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a JSON object.");
        }
    }

    /// <summary>Reads the next property name of the current object; false at its end.</summary>
    public static bool NextProperty(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of JSON.");
        }

        if (reader.TokenType == JsonTokenType.EndObject)
        {
            return false;
        }

        if (reader.TokenType != JsonTokenType.PropertyName)
        {
            throw new JsonException($"Expected a property name, found {reader.TokenType}.");
        }

        return true;
    }

    /// <summary>Moves to the value of the current property.</summary>
    public static void Value(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("Unexpected end of JSON.");
        }
    }

    public static void Skip(ref Utf8JsonReader reader)
    {
        Value(ref reader);
        reader.Skip();
    }

    public static string? String(ref Utf8JsonReader reader)
    {
        Value(ref reader);
        return reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
    }

    public static long? Int64(ref Utf8JsonReader reader)
    {
        Value(ref reader);
        return reader.TokenType == JsonTokenType.Null ? null : reader.GetInt64();
    }

    public static int? Int32(ref Utf8JsonReader reader)
    {
        Value(ref reader);
        return reader.TokenType == JsonTokenType.Null ? null : reader.GetInt32();
    }

    public static bool? Boolean(ref Utf8JsonReader reader)
    {
        Value(ref reader);
        return reader.TokenType == JsonTokenType.Null ? null : reader.GetBoolean();
    }

    /// <summary>Reads an epoch-seconds timestamp (possibly fractional or in scientific notation), to the millisecond.</summary>
    public static DateTimeOffset? Timestamp(ref Utf8JsonReader reader)
    {
        Value(ref reader);
        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.Number => FromEpochSeconds(reader.GetDouble()),
            JsonTokenType.String => DateTimeOffset.Parse(reader.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new JsonException($"Expected a timestamp, found {reader.TokenType}."),
        };
    }

    public static DateTimeOffset FromEpochSeconds(double seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000.0, MidpointRounding.AwayFromZero));

    /// <summary>Writes a timestamp as epoch seconds with millisecond precision.</summary>
    public static void WriteTimestamp(Utf8JsonWriter writer, ReadOnlySpan<byte> name, DateTimeOffset value) =>
        writer.WriteNumber(name, value.ToUnixTimeMilliseconds() / 1000m);

    /// <summary>Decodes the base64 string at the reader into <paramref name="target"/> at <paramref name="offset"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    public static int DecodeBase64(ref Utf8JsonReader reader, byte[] target, int offset)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a base64 string, found {reader.TokenType}.");
        }

        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            var status = Base64.DecodeFromUtf8(reader.ValueSpan, target.AsSpan(offset), out _, out int written);
            return status == OperationStatus.Done ? written : throw new FormatException("A Data member is not valid base64.");
        }

        byte[] bytes = reader.GetBytesFromBase64();
        bytes.CopyTo(target.AsSpan(offset));
        return bytes.Length;
    }
}
