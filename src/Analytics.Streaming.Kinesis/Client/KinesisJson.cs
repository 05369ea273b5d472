using System.Text.Json;

namespace Analytics.Streaming.Kinesis;

/// <summary>The JSON 1.1 bodies of the Kinesis operations: writers for requests and parsers for responses.</summary>
internal static class KinesisJson
{
    public static void WriteStream(Utf8JsonWriter writer, KinesisStreamRequest request)
    {
        if (!string.IsNullOrEmpty(request.StreamName))
        {
            writer.WriteString("StreamName"u8, request.StreamName);
        }

        if (!string.IsNullOrEmpty(request.StreamArn))
        {
            writer.WriteString("StreamARN"u8, request.StreamArn);
        }
    }

    public static void WritePutRecord(Utf8JsonWriter writer, KinesisPutRecordRequest request)
    {
        writer.WriteStartObject();
        WriteStream(writer, request);
        writer.WriteBase64String("Data"u8, request.Data.Span);
        writer.WriteString("PartitionKey"u8, request.PartitionKey);
        if (request.ExplicitHashKey is not null)
        {
            writer.WriteString("ExplicitHashKey"u8, request.ExplicitHashKey);
        }

        if (request.SequenceNumberForOrdering is not null)
        {
            writer.WriteString("SequenceNumberForOrdering"u8, request.SequenceNumberForOrdering);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes a PutRecords body from any list of entries (the producer passes its own buffers).</summary>
    public static void WritePutRecords(Utf8JsonWriter writer, KinesisStreamRequest stream, IReadOnlyList<KinesisPutRecordsEntry> records)
    {
        writer.WriteStartObject();
        WriteStream(writer, stream);
        writer.WriteStartArray("Records"u8);
        if (records is KinesisPutRecordsEntry[] array)
        {
            foreach (ref readonly var entry in array.AsSpan())
            {
                WriteEntry(writer, entry);
            }
        }
        else
        {
            for (int i = 0; i < records.Count; i++)
            {
                WriteEntry(writer, records[i]);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteEntry(Utf8JsonWriter writer, in KinesisPutRecordsEntry entry)
    {
        writer.WriteStartObject();
        writer.WriteBase64String("Data"u8, entry.Data.Span);
        writer.WriteString("PartitionKey"u8, entry.PartitionKey);
        if (entry.ExplicitHashKey is not null)
        {
            writer.WriteString("ExplicitHashKey"u8, entry.ExplicitHashKey);
        }

        writer.WriteEndObject();
    }

    public static KinesisPutRecordsResponse ParsePutRecords(ReadOnlySpan<byte> body, int expectedCount)
    {
        var answer = ParseBatchAnswer(
            body,
            expectedCount,
            "PutRecords",
            "FailedRecordCount"u8,
            "Records"u8,
            "SequenceNumber"u8,
            "ShardId"u8,
            static (sequence, shard, code, message) => new KinesisPutRecordsEntryResult(sequence, shard, code, message));
        return new KinesisPutRecordsResponse(answer.Failed, answer.Entries, answer.EncryptionType);
    }

    public static Firehose.FirehosePutRecordBatchResponse ParsePutRecordBatch(ReadOnlySpan<byte> body, int expectedCount)
    {
        var answer = ParseBatchAnswer(
            body,
            expectedCount,
            "PutRecordBatch",
            "FailedPutCount"u8,
            "RequestResponses"u8,
            "RecordId"u8,
            default,
            static (id, _, code, message) => new Firehose.FirehosePutRecordBatchEntryResult(id, code, message));
        return new Firehose.FirehosePutRecordBatchResponse(answer.Failed, answer.Encrypted, answer.Entries);
    }

    /// <summary>
    /// Parses the answer of a batch call whose entries can fail one by one (PutRecords, PutRecordBatch): the failed
    /// count, the index-aligned entries, and the encryption members of either service.
    /// </summary>
    private static BatchAnswer<T> ParseBatchAnswer<T>(
        ReadOnlySpan<byte> body,
        int expectedCount,
        string operation,
        ReadOnlySpan<byte> failedCountName,
        ReadOnlySpan<byte> entriesName,
        ReadOnlySpan<byte> firstName,
        ReadOnlySpan<byte> secondName,
        Func<string?, string?, string?, string?, T> create)
    {
        var reader = new Utf8JsonReader(body);
        JsonReading.ExpectStartObject(ref reader);
        int failed = 0;
        string? encryptionType = null;
        bool? encrypted = null;
        T[]? entries = null;
        while (JsonReading.NextProperty(ref reader))
        {
            if (reader.ValueTextEquals(failedCountName))
            {
                failed = JsonReading.Int32(ref reader) ?? 0;
            }
            else if (reader.ValueTextEquals(entriesName))
            {
                entries = ParseResultEntries(ref reader, expectedCount, create, firstName, secondName);
            }
            else if (reader.ValueTextEquals("EncryptionType"u8))
            {
                encryptionType = JsonReading.String(ref reader);
            }
            else if (reader.ValueTextEquals("Encrypted"u8))
            {
                encrypted = JsonReading.Boolean(ref reader);
            }
            else
            {
                JsonReading.Skip(ref reader);
            }
        }

        if (entries is null || entries.Length != expectedCount)
        {
            throw new JsonException($"{operation} answered {entries?.Length ?? 0} results for {expectedCount} records.");
        }

        return new BatchAnswer<T>(failed, entries, encryptionType, encrypted);
    }

    /// <summary>Parses an index-aligned array of per-entry results (PutRecords, PutRecordBatch).</summary>
    private static T[] ParseResultEntries<T>(
        ref Utf8JsonReader reader,
        int expectedCount,
        Func<string?, string?, string?, string?, T> create,
        ReadOnlySpan<byte> firstName,
        ReadOnlySpan<byte> secondName)
    {
        JsonReading.Value(ref reader);
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Expected an array of results.");
        }

        var results = new T[expectedCount];
        int count = 0;
        string? lastSecond = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("Expected a result object.");
            }

            string? first = null, second = null, code = null, message = null;
            while (JsonReading.NextProperty(ref reader))
            {
                if (reader.ValueTextEquals(firstName))
                {
                    first = JsonReading.String(ref reader);
                }
                else if (!secondName.IsEmpty && reader.ValueTextEquals(secondName))
                {
                    // The second member is a shard id: a few values repeated over hundreds of entries, so reuse the last string.
                    JsonReading.Value(ref reader);
                    second = reader.TokenType == JsonTokenType.Null ? null
                        : lastSecond is not null && reader.ValueTextEquals(lastSecond) ? lastSecond
                        : lastSecond = reader.GetString();
                }
                else if (reader.ValueTextEquals("ErrorCode"u8))
                {
                    code = JsonReading.String(ref reader);
                }
                else if (reader.ValueTextEquals("ErrorMessage"u8))
                {
                    message = JsonReading.String(ref reader);
                }
                else
                {
                    JsonReading.Skip(ref reader);
                }
            }

            if (count == results.Length)
            {
                throw new JsonException($"The service answered more than {expectedCount} results.");
            }

            results[count++] = create(first, second, code, message);
        }

        return count == results.Length ? results : results[..count];
    }

    public static void WriteListShards(Utf8JsonWriter writer, KinesisListShardsRequest request)
    {
        writer.WriteStartObject();
        if (request.NextToken is not null)
        {
            writer.WriteString("NextToken"u8, request.NextToken);
        }
        else
        {
            WriteStream(writer, request);
            if (request.ExclusiveStartShardId is not null)
            {
                writer.WriteString("ExclusiveStartShardId"u8, request.ExclusiveStartShardId);
            }

            if (request.ShardFilter is { } filter)
            {
                writer.WriteStartObject("ShardFilter"u8);
                writer.WriteString("Type"u8, filter.Type switch
                {
                    KinesisShardFilterType.FromTrimHorizon => "FROM_TRIM_HORIZON",
                    KinesisShardFilterType.AtTrimHorizon => "AT_TRIM_HORIZON",
                    KinesisShardFilterType.AtLatest => "AT_LATEST",
                    KinesisShardFilterType.AfterShardId => "AFTER_SHARD_ID",
                    KinesisShardFilterType.AtTimestamp => "AT_TIMESTAMP",
                    KinesisShardFilterType.FromTimestamp => "FROM_TIMESTAMP",
                    _ => throw new ArgumentOutOfRangeException(nameof(request), filter.Type, "Unknown shard filter type."),
                });
                if (filter.ShardId is not null)
                {
                    writer.WriteString("ShardId"u8, filter.ShardId);
                }

                if (filter.Timestamp is { } timestamp)
                {
                    JsonReading.WriteTimestamp(writer, "Timestamp"u8, timestamp);
                }

                writer.WriteEndObject();
            }
        }

        if (request.MaxResults is { } max)
        {
            writer.WriteNumber("MaxResults"u8, max);
        }

        writer.WriteEndObject();
    }

    /// <summary>Parses a HashKeyRange object; the reader is on its StartObject.</summary>
    private static KinesisHashKeyRange ParseHashKeyRange(ref Utf8JsonReader reader)
    {
        string? start = null, end = null;
        while (JsonReading.NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("StartingHashKey"u8))
            {
                start = JsonReading.String(ref reader);
            }
            else if (reader.ValueTextEquals("EndingHashKey"u8))
            {
                end = JsonReading.String(ref reader);
            }
            else
            {
                JsonReading.Skip(ref reader);
            }
        }

        return HashKeyRange(start, end);
    }

    /// <summary>Builds a hash key range from the service's decimal texts (absent members read as 0).</summary>
    /// <exception cref="FormatException">A text is not a decimal hash key.</exception>
    public static KinesisHashKeyRange HashKeyRange(string? start, string? end) =>
        new(KinesisHashKey.Parse(start ?? "0"), KinesisHashKey.Parse(end ?? "0"));

    public static void WriteStartingPosition(Utf8JsonWriter writer, KinesisStartingPosition position, bool iteratorNames)
    {
        string type = position.Type switch
        {
            KinesisStartingPositionType.TrimHorizon => "TRIM_HORIZON",
            KinesisStartingPositionType.Latest => "LATEST",
            KinesisStartingPositionType.AtSequenceNumber => "AT_SEQUENCE_NUMBER",
            KinesisStartingPositionType.AfterSequenceNumber => "AFTER_SEQUENCE_NUMBER",
            KinesisStartingPositionType.AtTimestamp => "AT_TIMESTAMP",
            _ => throw new ArgumentOutOfRangeException(nameof(position), position.Type, "Unknown starting position type."),
        };
        if (position.Type is KinesisStartingPositionType.AtSequenceNumber or KinesisStartingPositionType.AfterSequenceNumber && string.IsNullOrEmpty(position.SequenceNumber))
        {
            throw new ArgumentException($"A {position.Type} starting position needs a SequenceNumber: use StartingPosition.{position.Type}(sequenceNumber).", nameof(position));
        }

        if (position.Type == KinesisStartingPositionType.AtTimestamp && position.Timestamp is null)
        {
            throw new ArgumentException("An AtTimestamp starting position needs a Timestamp: use StartingPosition.AtTimestamp(time).", nameof(position));
        }

        writer.WriteString(iteratorNames ? "ShardIteratorType"u8 : "Type"u8, type);
        if (position.SequenceNumber is not null && position.Type is KinesisStartingPositionType.AtSequenceNumber or KinesisStartingPositionType.AfterSequenceNumber)
        {
            writer.WriteString(iteratorNames ? "StartingSequenceNumber"u8 : "SequenceNumber"u8, position.SequenceNumber);
        }

        if (position.Timestamp is { } timestamp && position.Type == KinesisStartingPositionType.AtTimestamp)
        {
            JsonReading.WriteTimestamp(writer, "Timestamp"u8, timestamp);
        }
    }

    public static void WriteGetShardIterator(Utf8JsonWriter writer, KinesisGetShardIteratorRequest request)
    {
        writer.WriteStartObject();
        WriteStream(writer, request);
        writer.WriteString("ShardId"u8, request.ShardId);
        WriteStartingPosition(writer, request.StartingPosition, iteratorNames: true);
        writer.WriteEndObject();
    }

    public static void WriteGetRecords(Utf8JsonWriter writer, KinesisGetRecordsRequest request)
    {
        writer.WriteStartObject();
        writer.WriteString("ShardIterator"u8, request.ShardIterator);
        if (request.Limit is { } limit)
        {
            writer.WriteNumber("Limit"u8, limit);
        }

        if (request.StreamArn is not null)
        {
            writer.WriteString("StreamARN"u8, request.StreamArn);
        }

        writer.WriteEndObject();
    }

    /// <summary>Parses a GetRecords answer. Record data are decoded from base64 into shared arrays and sliced.</summary>
    public static KinesisGetRecordsResponse ParseGetRecords(ReadOnlySpan<byte> body)
    {
        var page = ParseRecordPage(body, "NextShardIterator"u8);
        return new KinesisGetRecordsResponse
        {
            Records = page.Records,
            NextShardIterator = page.Position,
            BehindLatest = page.BehindLatest,
            ChildShards = page.ChildShards,
        };
    }

    /// <summary>Parses the payload of a <c>SubscribeToShardEvent</c>; the same shape as a GetRecords answer.</summary>
    public static KinesisSubscribeToShardEvent ParseSubscribeToShardEvent(ReadOnlySpan<byte> body)
    {
        var page = ParseRecordPage(body, "ContinuationSequenceNumber"u8);
        return new KinesisSubscribeToShardEvent
        {
            Records = page.Records,
            ContinuationSequenceNumber = page.Position,
            BehindLatest = page.BehindLatest,
            ChildShards = page.ChildShards,
        };
    }

    /// <summary>
    /// Parses a page of records (GetRecords answer or SubscribeToShardEvent): the records, the member that says where
    /// to continue (<paramref name="positionName"/>), the lag and the child shards.
    /// </summary>
    private static RecordPage ParseRecordPage(ReadOnlySpan<byte> body, ReadOnlySpan<byte> positionName)
    {
        var reader = new Utf8JsonReader(body);
        JsonReading.ExpectStartObject(ref reader);
        var data = new DataChunks();
        IReadOnlyList<KinesisRecord> records = [];
        string? position = null;
        long? behind = null;
        IReadOnlyList<KinesisChildShard>? children = null;
        while (JsonReading.NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("Records"u8))
            {
                records = ParseRecords(ref reader, ref data);
            }
            else if (reader.ValueTextEquals(positionName))
            {
                position = JsonReading.String(ref reader);
            }
            else if (reader.ValueTextEquals("MillisBehindLatest"u8))
            {
                behind = JsonReading.Int64(ref reader);
            }
            else if (reader.ValueTextEquals("ChildShards"u8))
            {
                children = ParseChildShards(ref reader);
            }
            else
            {
                JsonReading.Skip(ref reader);
            }
        }

        return new RecordPage(records, position, behind is { } ms ? TimeSpan.FromMilliseconds(ms) : null, children);
    }

    private static List<KinesisRecord> ParseRecords(ref Utf8JsonReader reader, ref DataChunks data)
    {
        JsonReading.Value(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return new List<KinesisRecord>(0);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Expected an array of records.");
        }

        var records = new List<KinesisRecord>();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            SequenceNumber sequence = default;
            bool hasSequence = false;
            string? partitionKey = null, encryption = null;
            DateTimeOffset? arrival = null;
            ReadOnlyMemory<byte> payload = default;
            while (JsonReading.NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("Data"u8))
                {
                    JsonReading.Value(ref reader);
                    if (reader.TokenType != JsonTokenType.Null)
                    {
                        payload = data.Decode(ref reader);
                    }
                }
                else if (reader.ValueTextEquals("SequenceNumber"u8))
                {
                    string text = JsonReading.String(ref reader) ?? throw new JsonException("A record with a null SequenceNumber.");
                    sequence = SequenceNumber.Parse(text);
                    hasSequence = true;
                }
                else if (reader.ValueTextEquals("PartitionKey"u8))
                {
                    partitionKey = JsonReading.String(ref reader);
                }
                else if (reader.ValueTextEquals("ApproximateArrivalTimestamp"u8))
                {
                    arrival = JsonReading.Timestamp(ref reader);
                }
                else if (reader.ValueTextEquals("EncryptionType"u8))
                {
                    JsonReading.Value(ref reader);
                    encryption = reader.TokenType == JsonTokenType.Null ? null
                        : reader.ValueTextEquals("NONE"u8) ? "NONE"
                        : reader.ValueTextEquals("KMS"u8) ? "KMS"
                        : reader.GetString();
                }
                else
                {
                    JsonReading.Skip(ref reader);
                }
            }

            if (!hasSequence)
            {
                throw new JsonException("A record without SequenceNumber.");
            }

            records.Add(new KinesisRecord
            {
                SequenceNumber = sequence,
                Data = payload,
                PartitionKey = partitionKey ?? string.Empty,
                ApproximateArrivalTimestamp = arrival,
                EncryptionType = encryption,
            });
        }

        return records;
    }

    private static List<KinesisChildShard>? ParseChildShards(ref Utf8JsonReader reader)
    {
        JsonReading.Value(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        var children = new List<KinesisChildShard>();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string? id = null;
            var parents = new List<string>(2);
            KinesisHashKeyRange range = default;
            while (JsonReading.NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("ShardId"u8))
                {
                    id = JsonReading.String(ref reader);
                }
                else if (reader.ValueTextEquals("ParentShards"u8))
                {
                    JsonReading.Value(ref reader);
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.String)
                        {
                            parents.Add(reader.GetString()!);
                        }
                    }
                }
                else if (reader.ValueTextEquals("HashKeyRange"u8))
                {
                    JsonReading.Value(ref reader);
                    range = ParseHashKeyRange(ref reader);
                }
                else
                {
                    JsonReading.Skip(ref reader);
                }
            }

            children.Add(new KinesisChildShard(id ?? throw new JsonException("A child shard without ShardId."), parents, range));
        }

        return children;
    }

    public static void WriteConsumer(Utf8JsonWriter writer, KinesisDescribeStreamConsumerRequest request)
    {
        writer.WriteStartObject();
        if (request.ConsumerArn is not null)
        {
            writer.WriteString("ConsumerARN"u8, request.ConsumerArn);
        }

        if (request.StreamArn is not null)
        {
            writer.WriteString("StreamARN"u8, request.StreamArn);
        }

        if (request.ConsumerName is not null)
        {
            writer.WriteString("ConsumerName"u8, request.ConsumerName);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Decodes record data into 16 KiB arrays shared by consecutive records (small-object heap, no zeroing), so a
    /// response costs about one allocation per 16 KiB of data instead of one per record or one large array.
    /// </summary>
    private struct DataChunks
    {
        private const int ChunkSize = 16 * 1024;
        private byte[]? _chunk;
        private int _used;

        public ReadOnlyMemory<byte> Decode(ref Utf8JsonReader reader)
        {
            int max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
            max = max / 4 * 3 + 3;
            if (_chunk is null || _chunk.Length - _used < max)
            {
                _chunk = GC.AllocateUninitializedArray<byte>(Math.Max(ChunkSize, max));
                _used = 0;
            }

            int written = JsonReading.DecodeBase64(ref reader, _chunk, _used);
            var result = new ReadOnlyMemory<byte>(_chunk, _used, written);
            _used += written;
            return result;
        }
    }

    private readonly record struct RecordPage(IReadOnlyList<KinesisRecord> Records, string? Position, TimeSpan? BehindLatest, IReadOnlyList<KinesisChildShard>? ChildShards);

    private readonly record struct BatchAnswer<T>(int Failed, T[] Entries, string? EncryptionType, bool? Encrypted);
}
