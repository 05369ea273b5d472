using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Analytics.Streaming;

/// <summary>Decodes UTF-8 JSON payloads with System.Text.Json, using source-generated metadata (trimming and AOT safe).</summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>
/// Malformed JSON, JSON <c>null</c> and values of the wrong type are dead letters with
/// <see cref="DeadLetterReason.DecodeFailed"/>. A number too large for its <see cref="double"/> or <see cref="float"/>
/// field (such as <c>1e400</c>, which would otherwise become infinity and poison every sum it reaches) is a dead
/// letter with <see cref="DeadLetterReason.InvalidValue"/>.
/// </remarks>
public sealed class JsonEventDecoder<T> : IEventDecoder<T>
{
    private readonly JsonTypeInfo<T> _typeInfo;

    /// <summary>Creates a decoder.</summary>
    /// <param name="typeInfo">The serializer metadata of <typeparamref name="T"/>, from a <c>JsonSerializerContext</c>.</param>
    public JsonEventDecoder(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        var options = new JsonSerializerOptions(typeInfo.Options);
        options.Converters.Insert(0, new FiniteDoubleConverter());
        options.Converters.Insert(0, new FiniteSingleConverter());
        _typeInfo = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    /// <inheritdoc />
    public bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out T value, out DecodeError error)
    {
        try
        {
            value = JsonSerializer.Deserialize(record.Data.Span, _typeInfo);
            if (value is null)
            {
                error = new DecodeError(DeadLetterReason.DecodeFailed, $"The payload is JSON null, not a {typeof(T).Name}.");
                return false;
            }

            error = default;
            return true;
        }
        catch (JsonException ex) when (ex.InnerException is NotFiniteNumberException || ex is NotFiniteJsonException)
        {
            value = default;
            error = new DecodeError(DeadLetterReason.InvalidValue, $"A number in the {typeof(T).Name} is out of range: {ex.Message}");
            return false;
        }
        catch (JsonException ex)
        {
            value = default;
            error = new DecodeError(DeadLetterReason.DecodeFailed, $"Malformed JSON for {typeof(T).Name}: {ex.Message}");
            return false;
        }
    }

    private sealed class NotFiniteJsonException(string message) : JsonException(message, new NotFiniteNumberException(message));

    private sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            double value = reader.GetDouble();
            return double.IsFinite(value) ? value : throw new NotFiniteJsonException($"{System.Text.Encoding.UTF8.GetString(reader.ValueSpan)} does not fit a double.");
        }

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }

    private sealed class FiniteSingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            float value = reader.GetSingle();
            return float.IsFinite(value) ? value : throw new NotFiniteJsonException($"{System.Text.Encoding.UTF8.GetString(reader.ValueSpan)} does not fit a float.");
        }

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }
}
