using System.Buffers;
using System.Text.Json;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The record a dead letter becomes on a Kinesis or Firehose stream: one JSON object with the fields of Firehose's
/// error output (<c>attemptsMade</c>, <c>arrivalTimestamp</c>, <c>errorCode</c>, <c>errorMessage</c>,
/// <c>attemptEndingTimestamp</c>, <c>rawData</c>) and the source position (<c>partitionId</c>, <c>sequenceNumber</c>,
/// <c>subSequenceNumber</c>), the layout the S3 package's dead-letter sink writes too.
/// </summary>
/// <remarks>
/// A record must fit the stream's limit (1,000 KiB for Firehose, 1 MiB for Kinesis Data Streams), so a payload whose
/// base64 would not fit is cut: <c>rawData</c> then holds its first bytes, <c>rawDataLength</c> the full length and
/// <c>rawDataTruncated</c> is <see langword="true"/>. A message is cut to 4,096 characters.
/// </remarks>
public static class DeadLetterRecord
{
    /// <summary>The longest message kept, in characters.</summary>
    public const int MaxMessageLength = 4096;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the record of <paramref name="deadLetter"/>.</summary>
    /// <param name="deadLetter">The dead letter.</param>
    /// <param name="arrival">When it arrived (the timestamps).</param>
    /// <param name="output">Where the JSON goes.</param>
    /// <param name="maxBytes">The most bytes the record may take; the payload is cut to fit. At least 8 KiB.</param>
    public static void Write(DeadLetter deadLetter, DateTimeOffset arrival, IBufferWriter<byte> output, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 8 * 1024);
        string message = deadLetter.Message.Length > MaxMessageLength ? deadLetter.Message[..MaxMessageLength] : deadLetter.Message;
        string partition = deadLetter.Position.PartitionId.Length > 1024 ? deadLetter.Position.PartitionId[..1024] : deadLetter.Position.PartitionId;

        // Everything but the payload takes at most: message and partition escaped (6 bytes per char at worst), sequence, field names.
        int fixedBytes = 512 + (6 * (message.Length + partition.Length)) + 128;
        int payloadRoom = ((maxBytes - fixedBytes) / 4 * 3) - 3;
        var payload = deadLetter.Payload.Span;
        bool truncated = payload.Length > payloadRoom;
        if (truncated)
        {
            payload = payload[..Math.Max(0, payloadRoom)];
        }

        long ms = arrival.ToUnixTimeMilliseconds();
        using var json = new Utf8JsonWriter(output, WriterOptions);
        json.WriteStartObject();
        json.WriteNumber("attemptsMade"u8, 1);
        json.WriteNumber("arrivalTimestamp"u8, ms);
        json.WriteString("errorCode"u8, deadLetter.Reason.ToString());
        json.WriteString("errorMessage"u8, ValidText(message));
        json.WriteNumber("attemptEndingTimestamp"u8, ms);
        json.WriteBase64String("rawData"u8, payload);
        if (truncated)
        {
            json.WriteBoolean("rawDataTruncated"u8, true);
            json.WriteNumber("rawDataLength"u8, deadLetter.Payload.Length);
        }

        json.WriteString("partitionId"u8, ValidText(partition));
        json.WriteString("sequenceNumber"u8, deadLetter.Position.Sequence.ToString());
        json.WriteNumber("subSequenceNumber"u8, deadLetter.Position.SubSequence);
        json.WriteEndObject();
    }

    /// <summary>Reads a record back.</summary>
    /// <param name="record">The record's bytes (a trailing newline is allowed).</param>
    /// <returns>The arrival time and the dead letter (with the payload as stored, cut or not).</returns>
    /// <exception cref="InvalidDataException">The bytes are not a dead-letter record.</exception>
    public static StoredDeadLetter Parse(ReadOnlySpan<byte> record)
    {
        try
        {
            var reader = new Utf8JsonReader(record);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var reason = Enum.TryParse<DeadLetterReason>(root.GetProperty("errorCode").GetString(), out var known) ? known : DeadLetterReason.Rejected;
            var position = new StreamPosition(
                root.GetProperty("partitionId").GetString()!,
                SequenceNumber.Parse(root.GetProperty("sequenceNumber").GetString()!),
                root.GetProperty("subSequenceNumber").GetInt64());
            return new StoredDeadLetter(
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("arrivalTimestamp").GetInt64()),
                new DeadLetter(position, reason, root.GetProperty("errorMessage").GetString()!, root.GetProperty("rawData").GetBytesFromBase64()));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"Not a dead-letter record: {ex.Message}", ex);
        }
    }

    private static string ValidText(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune == System.Text.Rune.ReplacementChar)
            {
                return System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(text));
            }
        }

        return text;
    }
}
