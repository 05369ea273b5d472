using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The control-plane answers of Kinesis (and the error bodies of Kinesis and Firehose), read with source-generated
/// System.Text.Json and mapped to the public models. The hot paths (GetRecords, SubscribeToShard events,
/// PutRecords and PutRecordBatch answers) are read by hand in <see cref="KinesisJson"/> instead.
/// </summary>
/// <remarks>Member names are the service's PascalCase names; explicit <c>null</c> members (kinesis-local sends them) read as absent.</remarks>
internal static class KinesisWire
{
    public static KinesisPutRecordResponse ParsePutRecord(ReadOnlySpan<byte> body)
    {
        var answer = Read(body, KinesisWireContext.Default.PutRecordOutput);
        return new KinesisPutRecordResponse(
            answer.ShardId ?? throw Missing("PutRecord", "ShardId"),
            answer.SequenceNumber ?? throw Missing("PutRecord", "SequenceNumber"),
            answer.EncryptionType);
    }

    public static KinesisListShardsResponse ParseListShards(ReadOnlySpan<byte> body)
    {
        var answer = Read(body, KinesisWireContext.Default.ListShardsOutput);
        var shards = new KinesisShard[answer.Shards?.Count ?? 0];
        for (int i = 0; i < shards.Length; i++)
        {
            var shard = answer.Shards![i];
            shards[i] = new KinesisShard
            {
                ShardId = shard.ShardId ?? throw Missing("ListShards", "Shards[].ShardId"),
                ParentShardId = shard.ParentShardId,
                AdjacentParentShardId = shard.AdjacentParentShardId,
                HashKeyRange = KinesisJson.HashKeyRange(shard.HashKeyRange?.StartingHashKey, shard.HashKeyRange?.EndingHashKey),
                SequenceNumberRange = new KinesisSequenceNumberRange(shard.SequenceNumberRange?.StartingSequenceNumber ?? "0", shard.SequenceNumberRange?.EndingSequenceNumber),
            };
        }

        return new KinesisListShardsResponse(shards, answer.NextToken);
    }

    public static KinesisStreamSummary ParseDescribeStreamSummary(ReadOnlySpan<byte> body)
    {
        var summary = Read(body, KinesisWireContext.Default.DescribeStreamSummaryOutput).StreamDescriptionSummary
            ?? throw Missing("DescribeStreamSummary", "StreamDescriptionSummary");
        return new KinesisStreamSummary
        {
            StreamName = summary.StreamName ?? throw Missing("DescribeStreamSummary", "StreamName"),
            StreamArn = summary.StreamArn ?? string.Empty,
            StreamStatus = summary.StreamStatus ?? throw Missing("DescribeStreamSummary", "StreamStatus"),
            StreamMode = summary.StreamModeDetails?.StreamMode,
            RetentionPeriod = TimeSpan.FromHours(summary.RetentionPeriodHours ?? 24),
            StreamCreationTimestamp = summary.StreamCreationTimestamp,
            EncryptionType = summary.EncryptionType,
            OpenShardCount = summary.OpenShardCount ?? 0,
            ConsumerCount = summary.ConsumerCount,
            MaxRecordSizeInKiB = summary.MaxRecordSizeInKiB,
        };
    }

    public static KinesisGetShardIteratorResponse ParseGetShardIterator(ReadOnlySpan<byte> body) =>
        new(Read(body, KinesisWireContext.Default.GetShardIteratorOutput).ShardIterator ?? throw Missing("GetShardIterator", "ShardIterator"));

    /// <summary>Reads the answer of RegisterStreamConsumer (<c>Consumer</c>) or DescribeStreamConsumer (<c>ConsumerDescription</c>).</summary>
    public static KinesisRegisteredConsumer ParseConsumer(ReadOnlySpan<byte> body)
    {
        var answer = Read(body, KinesisWireContext.Default.ConsumerOutput);
        var consumer = answer.Consumer ?? answer.ConsumerDescription ?? throw Missing("StreamConsumer", "Consumer");
        return new KinesisRegisteredConsumer(
            consumer.ConsumerName ?? throw Missing("StreamConsumer", "ConsumerName"),
            consumer.ConsumerArn ?? throw Missing("StreamConsumer", "ConsumerARN"),
            consumer.ConsumerStatus ?? "ACTIVE",
            consumer.ConsumerCreationTimestamp,
            consumer.StreamArn);
    }

    /// <summary>Reads an error body: <c>{"__type": "...", "message": "..."}</c> (also <c>Message</c>, <c>code</c>); null members when it is not one.</summary>
    public static (string? Type, string? Message) ParseError(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return (null, null);
        }

        try
        {
            var error = JsonSerializer.Deserialize(body, KinesisWireContext.Default.ErrorOutput);
            return (error?.Type ?? error?.Code, error?.Message);
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, an empty 5xx): the caller falls back to the header and the status.
            return (null, null);
        }
    }

    private static T Read<T>(ReadOnlySpan<byte> body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class =>
        JsonSerializer.Deserialize(body, type) ?? throw new JsonException("The answer is null instead of a JSON object.");

    private static JsonException Missing(string operation, string member) => new($"The {operation} answer has no {member}.");
}

/// <summary>Reads epoch-seconds timestamps (fractional, possibly in scientific notation) to the millisecond; ISO-8601 strings too.</summary>
internal sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number => JsonReading.FromEpochSeconds(ref reader),
        JsonTokenType.String => DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture),
        _ => throw new JsonException($"Expected a timestamp, found {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000m);
}

internal sealed class PutRecordOutput
{
    public string? ShardId { get; set; }

    public string? SequenceNumber { get; set; }

    public string? EncryptionType { get; set; }
}

internal sealed class ListShardsOutput
{
    public List<ShardOutput>? Shards { get; set; }

    public string? NextToken { get; set; }
}

internal sealed class ShardOutput
{
    public string? ShardId { get; set; }

    public string? ParentShardId { get; set; }

    public string? AdjacentParentShardId { get; set; }

    public HashKeyRangeOutput? HashKeyRange { get; set; }

    public SequenceNumberRangeOutput? SequenceNumberRange { get; set; }
}

internal sealed class HashKeyRangeOutput
{
    public string? StartingHashKey { get; set; }

    public string? EndingHashKey { get; set; }
}

internal sealed class SequenceNumberRangeOutput
{
    public string? StartingSequenceNumber { get; set; }

    public string? EndingSequenceNumber { get; set; }
}

internal sealed class DescribeStreamSummaryOutput
{
    public StreamSummaryOutput? StreamDescriptionSummary { get; set; }
}

internal sealed class StreamSummaryOutput
{
    public string? StreamName { get; set; }

    [JsonPropertyName("StreamARN")]
    public string? StreamArn { get; set; }

    public string? StreamStatus { get; set; }

    public StreamModeDetailsOutput? StreamModeDetails { get; set; }

    public int? RetentionPeriodHours { get; set; }

    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? StreamCreationTimestamp { get; set; }

    public string? EncryptionType { get; set; }

    public int? OpenShardCount { get; set; }

    public int? ConsumerCount { get; set; }

    public int? MaxRecordSizeInKiB { get; set; }
}

internal sealed class StreamModeDetailsOutput
{
    public string? StreamMode { get; set; }
}

internal sealed class GetShardIteratorOutput
{
    public string? ShardIterator { get; set; }
}

internal sealed class ConsumerOutput
{
    public ConsumerDescriptionOutput? Consumer { get; set; }

    public ConsumerDescriptionOutput? ConsumerDescription { get; set; }
}

internal sealed class ConsumerDescriptionOutput
{
    public string? ConsumerName { get; set; }

    [JsonPropertyName("ConsumerARN")]
    public string? ConsumerArn { get; set; }

    public string? ConsumerStatus { get; set; }

    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset? ConsumerCreationTimestamp { get; set; }

    [JsonPropertyName("StreamARN")]
    public string? StreamArn { get; set; }
}

internal sealed class ErrorOutput
{
    [JsonPropertyName("__type")]
    public string? Type { get; set; }

    /// <summary>The message; services send <c>message</c> or <c>Message</c> (names are matched case-insensitively).</summary>
    public string? Message { get; set; }

    [JsonPropertyName("code")]
    public string? Code { get; set; }
}

/// <summary>Source-generated metadata for the control-plane answers (no reflection; trimming and AOT safe).</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(PutRecordOutput))]
[JsonSerializable(typeof(ListShardsOutput))]
[JsonSerializable(typeof(DescribeStreamSummaryOutput))]
[JsonSerializable(typeof(GetShardIteratorOutput))]
[JsonSerializable(typeof(ConsumerOutput))]
[JsonSerializable(typeof(ErrorOutput))]
internal sealed partial class KinesisWireContext : JsonSerializerContext;
