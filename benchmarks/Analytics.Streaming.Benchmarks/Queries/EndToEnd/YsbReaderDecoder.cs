using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Analytics.Streaming.Benchmarks.Queries.EndToEnd;

/// <summary>
/// A YSB event decoder written by hand on <see cref="Utf8JsonReader"/>, as a user who needs the speed writes one behind
/// <see cref="IEventDecoder{T}"/>. It reads every member into the same <see cref="YsbJsonEvent"/> as the library's
/// <see cref="JsonEventDecoder{T}"/> (strings included), so the two differ only in how the JSON is read. Member names
/// are case-sensitive and unknown members are skipped, as with the serializer; anything but one object, and an
/// <c>event_time</c> other than a whole number (or a string of its digits without escapes), is a decode failure.
/// </summary>
public sealed class YsbReaderDecoder : IEventDecoder<YsbJsonEvent>
{
    /// <inheritdoc />
    public bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out YsbJsonEvent value, out DecodeError error)
    {
        try
        {
            value = Read(record.Data.Span);
            error = default;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            value = null;
            error = new DecodeError(DeadLetterReason.DecodeFailed, $"Malformed JSON for {nameof(YsbJsonEvent)}: {ex.Message}");
            return false;
        }
    }

    private static YsbJsonEvent Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected an object.");
        }

        var e = new YsbJsonEvent();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("user_id"u8))
            {
                e.UserId = Next(ref reader).GetGuid();
            }
            else if (reader.ValueTextEquals("page_id"u8))
            {
                e.PageId = Next(ref reader).GetGuid();
            }
            else if (reader.ValueTextEquals("ad_id"u8))
            {
                e.AdId = Next(ref reader).GetGuid();
            }
            else if (reader.ValueTextEquals("ad_type"u8))
            {
                e.AdType = Next(ref reader).GetString() ?? string.Empty;
            }
            else if (reader.ValueTextEquals("event_type"u8))
            {
                e.EventType = Next(ref reader).GetString() ?? string.Empty;
            }
            else if (reader.ValueTextEquals("event_time"u8))
            {
                e.EventTime = ReadTime(ref Next(ref reader));
            }
            else if (reader.ValueTextEquals("ip_address"u8))
            {
                e.IpAddress = Next(ref reader).GetString() ?? string.Empty;
            }
            else
            {
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw new JsonException("Expected one object and nothing after it.");
        }

        return e;
    }

    private static ref Utf8JsonReader Next(ref Utf8JsonReader reader)
    {
        reader.Read();
        return ref reader;
    }

    /// <summary>Unix milliseconds, as a number or (YSB) a string of digits.</summary>
    private static long ReadTime(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetInt64();
        }

        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped
            && Utf8Parser.TryParse(reader.ValueSpan, out long ms, out int consumed) && consumed == reader.ValueSpan.Length)
        {
            return ms;
        }

        throw new JsonException("event_time is not a whole number of milliseconds.");
    }
}
