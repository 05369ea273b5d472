using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Analytics.Streaming.Kinesis;

/// <summary>Helpers for reading AWS JSON 1.1 answers with <see cref="Utf8JsonReader"/>; explicit <c>null</c> members read as absent.</summary>
internal static class JsonReading
{
    private static readonly ulong MaxMilliseconds = (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

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
            JsonTokenType.Number => FromEpochSeconds(ref reader),
            JsonTokenType.String => DateTimeOffset.Parse(reader.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new JsonException($"Expected a timestamp, found {reader.TokenType}."),
        };
    }

    /// <summary>Reads the epoch-seconds number at the reader to the millisecond.</summary>
    public static DateTimeOffset FromEpochSeconds(ref Utf8JsonReader reader)
        => !reader.HasValueSequence && TryParseEpochMilliseconds(reader.ValueSpan, out long milliseconds)
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
            : FromEpochSeconds(reader.GetDouble());

    public static DateTimeOffset FromEpochSeconds(double seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000.0, MidpointRounding.AwayFromZero));

    /// <summary>
    /// Reads epoch seconds as whole milliseconds from the number's text, without going through a <see cref="double"/>
    /// (its parse was about a tenth of a GetRecords record's decoding): <c>1.733097600123E9</c> as in the API reference,
    /// <c>1733097600.123</c> as emulators do, any form whose value is a whole number of milliseconds up to the year
    /// 9999. Such a text gives exactly what <see cref="FromEpochSeconds(double)"/> gives. Others (a sign, digits below
    /// the millisecond, more than 18 digits, an out-of-range value) return <see langword="false"/> and take that way.
    /// </summary>
    /// <param name="text">The number's text (JSON grammar: digits, then optionally a fraction and an exponent).</param>
    /// <param name="milliseconds">Milliseconds since the Unix epoch.</param>
    /// <returns>Whether the text was read.</returns>
    public static bool TryParseEpochMilliseconds(ReadOnlySpan<byte> text, out long milliseconds)
    {
        milliseconds = 0;
        ulong digits = 0;
        int significant = 0;
        int i = ReadDigits(text, 0, ref digits, ref significant);
        if (i == 0)
        {
            return false;
        }

        int fractionDigits = 0;
        if (i < text.Length && text[i] == '.')
        {
            int end = ReadDigits(text, i + 1, ref digits, ref significant);
            fractionDigits = end - (i + 1);
            i = end;
            if (fractionDigits == 0)
            {
                return false;
            }
        }

        int exponent = 0;
        if (i < text.Length && (text[i] | 0x20) == 'e')
        {
            i++;
            bool negative = i < text.Length && text[i] == '-';
            i += i < text.Length && (text[i] == '-' || text[i] == '+') ? 1 : 0;
            int start = i;
            for (; i < text.Length && char.IsAsciiDigit((char)text[i]) && i - start < 4; i++)
            {
                exponent = (exponent * 10) + (text[i] - '0');
            }

            if (i == start)
            {
                return false;
            }

            exponent = negative ? -exponent : exponent;
        }

        if (i != text.Length || significant > 18)
        {
            return false;
        }

        // value = digits x 10^(exponent - fractionDigits) seconds = digits x 10^shift milliseconds.
        int shift = exponent - fractionDigits + 3;
        for (; shift < 0; shift++)
        {
            if (digits % 10 != 0)
            {
                return false; // below the millisecond: the double's rounding decides
            }

            digits /= 10;
        }

        for (; shift > 0; shift--)
        {
            if (digits > MaxMilliseconds / 10)
            {
                return false;
            }

            digits *= 10;
        }

        if (digits > MaxMilliseconds)
        {
            return false;
        }

        milliseconds = (long)digits;
        return true;
    }

    /// <summary>
    /// Appends the ASCII digits from <paramref name="index"/> to <paramref name="value"/> and returns the index after
    /// them; <paramref name="significant"/> counts the digits from the first non-zero one, and past 18 of them the
    /// value stops growing (the caller then gives up).
    /// </summary>
    private static int ReadDigits(ReadOnlySpan<byte> text, int index, ref ulong value, ref int significant)
    {
        for (; index < text.Length && char.IsAsciiDigit((char)text[index]); index++)
        {
            if (significant < 19)
            {
                value = (value * 10) + (ulong)(text[index] - '0');
            }

            significant += value != 0 ? 1 : 0;
        }

        return index;
    }

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
