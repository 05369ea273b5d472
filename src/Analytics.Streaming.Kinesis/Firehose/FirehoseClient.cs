using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>
/// An Amazon Data Firehose client over the service's JSON 1.1 API (<c>PutRecordBatch</c>), with the same signing,
/// retries and typed errors as <see cref="KinesisClient"/>.
/// </summary>
/// <remarks>Thread-safe; share one instance. Uses <c>https://firehose.{region}.amazonaws.com</c> unless <see cref="AwsClientOptions.ServiceUrl"/> overrides it.</remarks>
public sealed class FirehoseClient : IFirehoseClient, IDisposable
{
    private readonly AwsJsonTransport _transport;

    /// <summary>Creates a client.</summary>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public FirehoseClient(FirehoseClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FirehoseClient>();
        _transport = new AwsJsonTransport(options, "firehose", "Firehose", "Firehose_20150804.", logger);
    }

    /// <summary>Gets the endpoint requests go to.</summary>
    public Uri Endpoint => _transport.Endpoint;

    /// <inheritdoc />
    public Task<FirehosePutRecordBatchResponse> PutRecordBatchAsync(FirehosePutRecordBatchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.DeliveryStreamName, nameof(request));
        if (request.Records is null || request.Records.Count is 0 or > 500)
        {
            throw new ArgumentException($"PutRecordBatch takes 1 to 500 records; got {request.Records?.Count ?? 0}.", nameof(request));
        }

        return _transport.CallAsync(
            "PutRecordBatch",
            request,
            static (writer, r) => WriteRequest(writer, r.DeliveryStreamName, r.Records),
            static (body, r) => KinesisJson.ParsePutRecordBatch(body, r.Records.Count),
            cancellationToken);
    }

    /// <summary>Closes the client's connections.</summary>
    public void Dispose() => _transport.Dispose();

    internal static void WriteRequest(Utf8JsonWriter writer, string deliveryStreamName, IReadOnlyList<ReadOnlyMemory<byte>> records)
    {
        writer.WriteStartObject();
        writer.WriteString("DeliveryStreamName"u8, deliveryStreamName);
        writer.WriteStartArray("Records"u8);
        for (int i = 0; i < records.Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteBase64String("Data"u8, records[i].Span);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
