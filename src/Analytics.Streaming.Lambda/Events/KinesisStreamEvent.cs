using System.Text.Json.Serialization;

namespace Analytics.Streaming.Lambda;

/// <summary>
/// The event Lambda's Kinesis event source mapping sends: a batch of records of one shard of one stream, in shard
/// order. The names follow the documented JSON (and the <c>@types/aws-lambda</c> definitions).
/// </summary>
/// <remarks>Plain data: deserialize it with <see cref="LambdaJsonContext"/> (source-generated, trimming and AOT safe).</remarks>
public sealed class KinesisStreamEvent
{
    /// <summary>Gets or sets the records (JSON <c>Records</c>, capital R), in shard order.</summary>
    [JsonPropertyName("Records")]
    public IList<KinesisStreamRecord> Records { get; set; } = [];
}

/// <summary>
/// The event of a Kinesis event source mapping with tumbling windows (<c>TumblingWindowInSeconds</c>): the records,
/// the window they belong to, and the state the previous invocation for that window returned.
/// </summary>
public sealed class KinesisStreamTumblingWindowEvent
{
    /// <summary>Gets or sets the records (JSON <c>Records</c>), in shard order; may be empty on the final invocation of a window.</summary>
    [JsonPropertyName("Records")]
    public IList<KinesisStreamRecord> Records { get; set; } = [];

    /// <summary>Gets or sets the window (by the records' arrival time in the stream).</summary>
    [JsonPropertyName("window")]
    public KinesisTumblingWindow? Window { get; set; }

    /// <summary>
    /// Gets or sets the state the previous invocation of this window returned; empty at the start of a window. Values
    /// are strings (AWS examples show numbers too; both are read, as text).
    /// </summary>
    [JsonPropertyName("state")]
    [JsonConverter(typeof(StateDictionaryConverter))]
    public Dictionary<string, string>? State { get; set; }

    /// <summary>Gets or sets the shard the records come from.</summary>
    [JsonPropertyName("shardId")]
    public string? ShardId { get; set; }

    /// <summary>Gets or sets the ARN of the stream.</summary>
    [JsonPropertyName("eventSourceARN")]
    public string? EventSourceArn { get; set; }

    /// <summary>Gets or sets a value indicating whether this is the last invocation of the window: do the final processing; the state is discarded after it succeeds.</summary>
    [JsonPropertyName("isFinalInvokeForWindow")]
    public bool IsFinalInvokeForWindow { get; set; }

    /// <summary>Gets or sets a value indicating whether the window ended early (its state reached Lambda's limit, or the shard ended).</summary>
    [JsonPropertyName("isWindowTerminatedEarly")]
    public bool IsWindowTerminatedEarly { get; set; }
}

/// <summary>The window of a tumbling-window invocation: ISO-8601 UTC instants, <c>[start, end)</c>.</summary>
public sealed class KinesisTumblingWindow
{
    /// <summary>Gets or sets the start of the window.</summary>
    [JsonPropertyName("start")]
    public DateTimeOffset Start { get; set; }

    /// <summary>Gets or sets the end of the window (exclusive).</summary>
    [JsonPropertyName("end")]
    public DateTimeOffset End { get; set; }
}

/// <summary>One record of a Lambda Kinesis event.</summary>
public sealed class KinesisStreamRecord
{
    /// <summary>Gets or sets the Kinesis record.</summary>
    [JsonPropertyName("kinesis")]
    public KinesisStreamRecordPayload Kinesis { get; set; } = new();

    /// <summary>Gets or sets the event source, <c>aws:kinesis</c>.</summary>
    [JsonPropertyName("eventSource")]
    public string? EventSource { get; set; }

    /// <summary>Gets or sets the event version, <c>1.0</c>.</summary>
    [JsonPropertyName("eventVersion")]
    public string? EventVersion { get; set; }

    /// <summary>Gets or sets the event id, <c>shardId-000000000006:49590338271490256608559692538361571095921575989136588898</c>: the only place the shard id appears per record.</summary>
    [JsonPropertyName("eventID")]
    public string EventId { get; set; } = string.Empty;

    /// <summary>Gets or sets the event name, <c>aws:kinesis:record</c>.</summary>
    [JsonPropertyName("eventName")]
    public string? EventName { get; set; }

    /// <summary>Gets or sets the ARN of the role the mapping uses to read the stream.</summary>
    [JsonPropertyName("invokeIdentityArn")]
    public string? InvokeIdentityArn { get; set; }

    /// <summary>Gets or sets the region of the stream.</summary>
    [JsonPropertyName("awsRegion")]
    public string? AwsRegion { get; set; }

    /// <summary>Gets or sets the ARN of the stream.</summary>
    [JsonPropertyName("eventSourceARN")]
    public string? EventSourceArn { get; set; }

    /// <summary>Gets the shard id: the part of <see cref="EventId"/> before the colon.</summary>
    /// <exception cref="FormatException"><see cref="EventId"/> is not <c>shardId:sequenceNumber</c>.</exception>
    [JsonIgnore]
    public string ShardId => GetShardId(EventId);

    /// <summary>Returns the shard id of an event id of the form <c>shardId:sequenceNumber</c>.</summary>
    /// <param name="eventId">The event id.</param>
    /// <returns>The shard id.</returns>
    /// <exception cref="FormatException">The event id has no colon, or nothing before it.</exception>
    public static string GetShardId(string? eventId)
    {
        int colon = eventId?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0
            ? eventId![..colon]
            : throw new FormatException($"The Kinesis event record's eventID '{eventId}' is not of the form shardId:sequenceNumber.");
    }
}

/// <summary>The Kinesis part of a Lambda Kinesis event record.</summary>
public sealed class KinesisStreamRecordPayload
{
    /// <summary>Gets or sets the schema version, <c>1.0</c>.</summary>
    [JsonPropertyName("kinesisSchemaVersion")]
    public string? KinesisSchemaVersion { get; set; }

    /// <summary>Gets or sets the partition key the producer chose (<c>a</c> for a KPL aggregate).</summary>
    [JsonPropertyName("partitionKey")]
    public string PartitionKey { get; set; } = string.Empty;

    /// <summary>Gets or sets the sequence number: decimal text, usually 56 digits, increasing inside the shard.</summary>
    [JsonPropertyName("sequenceNumber")]
    public string SequenceNumber { get; set; } = string.Empty;

    /// <summary>Gets or sets the payload bytes (base64 in JSON). A KPL aggregate arrives whole: Lambda does not deaggregate.</summary>
    [JsonPropertyName("data")]
    public ReadOnlyMemory<byte> Data { get; set; }

    /// <summary>Gets or sets when Kinesis accepted the record (JSON: epoch seconds with a fraction, millisecond precision).</summary>
    [JsonPropertyName("approximateArrivalTimestamp")]
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset ApproximateArrivalTimestamp { get; set; }

    /// <summary>Gets or sets the encryption type, <c>NONE</c> or <c>KMS</c>; may be absent.</summary>
    [JsonPropertyName("encryptionType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EncryptionType { get; set; }
}

/// <summary>
/// The response of a Kinesis handler with <c>ReportBatchItemFailures</c>: Lambda checkpoints just before the lowest
/// sequence number listed and retries from it, in order. An empty list means every record succeeded.
/// </summary>
public sealed class KinesisStreamBatchResponse
{
    /// <summary>Gets or sets the failed records; this library lists at most one, the first failure.</summary>
    [JsonPropertyName("batchItemFailures")]
    public IList<KinesisStreamBatchItemFailure> BatchItemFailures { get; set; } = [];
}

/// <summary>One failed record of a partial batch response.</summary>
public sealed class KinesisStreamBatchItemFailure
{
    /// <summary>Gets or sets the failed record's <c>kinesis.sequenceNumber</c>.</summary>
    [JsonPropertyName("itemIdentifier")]
    public string ItemIdentifier { get; set; } = string.Empty;
}

/// <summary>
/// The response of a tumbling-window handler: the state for the next invocation of the window (always present,
/// otherwise Lambda counts the invocation as failed) and the partial batch failures.
/// </summary>
public sealed class KinesisStreamStateResponse
{
    /// <summary>Gets or sets the state to hand to the next invocation of the window (at most 1 MB per shard).</summary>
    [JsonPropertyName("state")]
    public Dictionary<string, string> State { get; set; } = [];

    /// <summary>Gets or sets the failed records; at most one, the first failure.</summary>
    [JsonPropertyName("batchItemFailures")]
    public IList<KinesisStreamBatchItemFailure> BatchItemFailures { get; set; } = [];
}
