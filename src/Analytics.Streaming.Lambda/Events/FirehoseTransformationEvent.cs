using System.Text.Json.Serialization;

namespace Analytics.Streaming.Lambda;

/// <summary>
/// The event Firehose sends to a data-transformation function: a buffered batch of records (at most 6 MB), each to be
/// answered exactly once. The names follow the documented JSON (and the <c>@types/aws-lambda</c> definitions).
/// </summary>
public sealed class FirehoseTransformationEvent
{
    /// <summary>Gets or sets the id of this invocation.</summary>
    [JsonPropertyName("invocationId")]
    public string? InvocationId { get; set; }

    /// <summary>Gets or sets the ARN of the delivery stream.</summary>
    [JsonPropertyName("deliveryStreamArn")]
    public string? DeliveryStreamArn { get; set; }

    /// <summary>Gets or sets the ARN of the Kinesis stream feeding the delivery stream, when it has one.</summary>
    [JsonPropertyName("sourceKinesisStreamArn")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SourceKinesisStreamArn { get; set; }

    /// <summary>Gets or sets the region.</summary>
    [JsonPropertyName("region")]
    public string? Region { get; set; }

    /// <summary>Gets or sets the records.</summary>
    [JsonPropertyName("records")]
    public IList<FirehoseTransformationEventRecord> Records { get; set; } = [];
}

/// <summary>One record of a Firehose transformation event.</summary>
public sealed class FirehoseTransformationEventRecord
{
    /// <summary>Gets or sets the record id, which the response must return exactly once.</summary>
    [JsonPropertyName("recordId")]
    public string RecordId { get; set; } = string.Empty;

    /// <summary>Gets or sets when Firehose (or the source stream) accepted the record (JSON: epoch milliseconds).</summary>
    [JsonPropertyName("approximateArrivalTimestamp")]
    [JsonConverter(typeof(EpochMillisecondsConverter))]
    public DateTimeOffset ApproximateArrivalTimestamp { get; set; }

    /// <summary>Gets or sets the payload (base64 in JSON). With a Kinesis source, Firehose has already deaggregated KPL records.</summary>
    [JsonPropertyName("data")]
    public ReadOnlyMemory<byte> Data { get; set; }

    /// <summary>Gets or sets where the record sits in the source Kinesis stream, when the delivery stream reads one.</summary>
    [JsonPropertyName("kinesisRecordMetadata")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FirehoseRecordMetadata? KinesisRecordMetadata { get; set; }
}

/// <summary>The Kinesis origin of a Firehose record.</summary>
public sealed class FirehoseRecordMetadata
{
    /// <summary>Gets or sets the shard.</summary>
    [JsonPropertyName("shardId")]
    public string? ShardId { get; set; }

    /// <summary>Gets or sets the partition key.</summary>
    [JsonPropertyName("partitionKey")]
    public string? PartitionKey { get; set; }

    /// <summary>Gets or sets the arrival time in the stream (JSON: epoch milliseconds).</summary>
    [JsonPropertyName("approximateArrivalTimestamp")]
    [JsonConverter(typeof(EpochMillisecondsConverter))]
    public DateTimeOffset ApproximateArrivalTimestamp { get; set; }

    /// <summary>Gets or sets the sequence number.</summary>
    [JsonPropertyName("sequenceNumber")]
    public string? SequenceNumber { get; set; }

    /// <summary>Gets or sets the index inside a KPL aggregate (JSON: a string in the type definitions, a number in AWS examples; both are read, a string is written).</summary>
    [JsonPropertyName("subsequenceNumber")]
    [JsonConverter(typeof(FlexibleInt64Converter))]
    public long SubsequenceNumber { get; set; }
}

/// <summary>The response of a Firehose transformation function: one entry per input record, in any order.</summary>
public sealed class FirehoseTransformationResult
{
    /// <summary>Gets or sets the entries.</summary>
    [JsonPropertyName("records")]
    public IList<FirehoseTransformationResultRecord> Records { get; set; } = [];
}

/// <summary>The outcome of one record, as Firehose reads it.</summary>
public sealed class FirehoseTransformationResultRecord
{
    /// <summary>The <see cref="Result"/> of a record transformed successfully: its <see cref="Data"/> is delivered.</summary>
    public const string Ok = "Ok";

    /// <summary>The <see cref="Result"/> of a record left out on purpose (counts as success).</summary>
    public const string Dropped = "Dropped";

    /// <summary>The <see cref="Result"/> of a record that could not be transformed: Firehose writes it under the error output prefix.</summary>
    public const string ProcessingFailed = "ProcessingFailed";

    /// <summary>Gets or sets the id of the input record.</summary>
    [JsonPropertyName("recordId")]
    public string RecordId { get; set; } = string.Empty;

    /// <summary>Gets or sets the outcome: exactly <see cref="Ok"/>, <see cref="Dropped"/> or <see cref="ProcessingFailed"/>.</summary>
    [JsonPropertyName("result")]
    public string Result { get; set; } = Ok;

    /// <summary>Gets or sets the transformed bytes (base64 in JSON) of an <see cref="Ok"/> record; absent otherwise.</summary>
    [JsonPropertyName("data")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ReadOnlyMemory<byte>? Data { get; set; }

    /// <summary>Gets or sets the dynamic partitioning keys of an <see cref="Ok"/> record (<c>!{partitionKeyFromLambda:name}</c> in the S3 prefix).</summary>
    [JsonPropertyName("metadata")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FirehoseTransformationMetadata? Metadata { get; set; }

    /// <summary>
    /// Gets or sets why a record was <see cref="ProcessingFailed"/> (or <see cref="Dropped"/>). Not part of the response
    /// Firehose reads (it has no such field): logged and kept here for the caller.
    /// </summary>
    [JsonIgnore]
    public string? Reason { get; set; }
}

/// <summary>The metadata of a transformed record.</summary>
public sealed class FirehoseTransformationMetadata
{
    /// <summary>Gets or sets the partition keys: names and values for dynamic partitioning.</summary>
    [JsonPropertyName("partitionKeys")]
    public IDictionary<string, string> PartitionKeys { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
