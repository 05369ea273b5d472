using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Analytics.Streaming.Lambda;

/// <summary>
/// Source-generated System.Text.Json metadata of every event and response model of this package (trimming and AOT
/// safe). Property names are the documented ones, set explicitly on each member (System.Text.Json is case-sensitive).
/// </summary>
/// <remarks>
/// Use it with Amazon.Lambda.Serialization.SystemTextJson's <c>SourceGeneratorLambdaJsonSerializer&lt;LambdaJsonContext&gt;</c>
/// when a function takes the typed models, or let the handlers read and write streams themselves.
/// </remarks>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(KinesisStreamEvent))]
[JsonSerializable(typeof(KinesisStreamTumblingWindowEvent))]
[JsonSerializable(typeof(KinesisStreamBatchResponse))]
[JsonSerializable(typeof(KinesisStreamStateResponse))]
[JsonSerializable(typeof(FirehoseTransformationEvent))]
[JsonSerializable(typeof(FirehoseTransformationResult))]
[JsonSerializable(typeof(FirehoseTransformationResultRecord))]
[JsonSerializable(typeof(Dictionary<string, string>))]
public sealed partial class LambdaJsonContext : JsonSerializerContext;

/// <summary>Epoch seconds with a fraction (Lambda's Kinesis <c>approximateArrivalTimestamp</c>), read and written with millisecond precision.</summary>
internal sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        double seconds = reader.GetDouble();
        return double.IsFinite(seconds) && seconds is >= 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000, MidpointRounding.AwayFromZero))
            : throw new JsonException($"approximateArrivalTimestamp {seconds} is not an epoch time in seconds.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
        => writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000m);
}

/// <summary>Epoch milliseconds (Firehose's <c>approximateArrivalTimestamp</c>).</summary>
internal sealed class EpochMillisecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        double milliseconds = reader.GetDouble();
        return double.IsFinite(milliseconds) && milliseconds is >= 0 and < 253402300800000
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds)
            : throw new JsonException($"approximateArrivalTimestamp {milliseconds} is not an epoch time in milliseconds.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
        => writer.WriteNumberValue(value.ToUnixTimeMilliseconds());
}

/// <summary>An integer written as a JSON string, read from a string or a number.</summary>
internal sealed class FlexibleInt64Converter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetInt64();
        }

        var text = reader.ValueSpan;
        return reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && Utf8Parser.TryParse(text, out long value, out int consumed) && consumed == text.Length
            ? value
            : throw new JsonException("subsequenceNumber is neither an integer nor a string holding one.");
    }

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options)
        => writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
}

/// <summary>A JSON object of strings; number, Boolean and null values are kept as their JSON text.</summary>
internal sealed class StateDictionaryConverter : JsonConverter<Dictionary<string, string>>
{
    public override Dictionary<string, string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("The tumbling-window state is not a JSON object.");
        }

        var state = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            state[name] = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                _ => throw new JsonException($"The tumbling-window state value '{name}' is not a string or a number; this handler keeps its state as strings."),
            };
        }

        return state;
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, text) in value)
        {
            writer.WriteString(name, text);
        }

        writer.WriteEndObject();
    }
}
