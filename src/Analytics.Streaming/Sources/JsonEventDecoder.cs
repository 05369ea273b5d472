using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Analytics.Streaming;

/// <summary>Decodes UTF-8 JSON payloads with System.Text.Json, using source-generated metadata (trimming and AOT safe).</summary>
/// <typeparam name="T">The event type.</typeparam>
/// <param name="typeInfo">The serializer metadata of <typeparamref name="T"/>, from a <c>JsonSerializerContext</c>.</param>
public sealed class JsonEventDecoder<T>(JsonTypeInfo<T> typeInfo) : IEventDecoder<T>
{
    private readonly JsonTypeInfo<T> _typeInfo = typeInfo ?? throw new ArgumentNullException(nameof(typeInfo));

    /// <inheritdoc />
    public bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error)
    {
        try
        {
            value = JsonSerializer.Deserialize(record.Data.Span, _typeInfo);
            if (value is null)
            {
                error = $"The payload is JSON null, not a {typeof(T).Name}.";
                return false;
            }

            error = null;
            return true;
        }
        catch (JsonException ex)
        {
            value = default;
            error = $"Malformed JSON for {typeof(T).Name}: {ex.Message}";
            return false;
        }
    }
}
