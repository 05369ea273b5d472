using System.Text.Json;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The client's JSON 1.1 body codec for the two hot operations, for custom transports, Lambda adapters and
/// benchmarks: write a PutRecords body, parse a GetRecords body.
/// </summary>
/// <remarks>Thread-safe and stateless. Data are base64-encoded straight into the writer's buffer and decoded into one array per body.</remarks>
public static class KinesisJsonCodec
{
    /// <summary>Writes a PutRecords request body.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="streamName">The stream name, or <see langword="null"/> when <paramref name="streamArn"/> is given.</param>
    /// <param name="streamArn">The stream ARN, or <see langword="null"/>.</param>
    /// <param name="records">The records.</param>
    public static void WritePutRecords(Utf8JsonWriter writer, string? streamName, string? streamArn, IReadOnlyList<PutRecordsEntry> records)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(records);
        KinesisJson.WritePutRecords(writer, new StreamRequest { StreamName = streamName, StreamArn = streamArn }, records);
    }

    /// <summary>Parses a GetRecords response body.</summary>
    /// <param name="body">The UTF-8 JSON body.</param>
    /// <returns>The response.</returns>
    /// <exception cref="JsonException">The body is not a GetRecords answer.</exception>
    /// <exception cref="FormatException">A value (base64 data, sequence number, hash key) is malformed.</exception>
    public static GetRecordsResponse ParseGetRecords(ReadOnlySpan<byte> body) => KinesisJson.ParseGetRecords(body);
}
