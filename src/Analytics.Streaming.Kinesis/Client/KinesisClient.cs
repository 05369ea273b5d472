using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Amazon.Runtime.EventStreams;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// A Kinesis Data Streams client over the service's JSON 1.1 API: <see cref="HttpClient"/>, SigV4 signing with
/// AWSSDK.Core, retries with exponential backoff and full jitter, errors mapped to typed exceptions.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe; create one per process (or per endpoint) and share it. Disposing it closes its connections (a
/// handler passed in <see cref="AwsClientOptions.HttpHandler"/> is left open).
/// </para>
/// <para>
/// Retries: throttling (<c>ProvisionedThroughputExceededException</c>, <c>LimitExceededException</c>, ...),
/// HTTP 5xx, internal failures, request timeouts and connection failures are retried per
/// <see cref="AwsClientOptions.Retry"/> (each retry is logged and counted); everything else is thrown at once. Per-record failures inside a
/// successful <c>PutRecords</c> answer are returned, not retried (the producer retries them).
/// </para>
/// <para>
/// <see cref="SubscribeToShardAsync"/> uses HTTP/2 (h2c prior knowledge over http endpoints such as emulators,
/// ALPN over https).
/// </para>
/// </remarks>
public sealed class KinesisClient : IKinesisClient, IDisposable
{
    private const string Service = "kinesis";
    private readonly AwsJsonTransport _transport;

    /// <summary>Creates a client.</summary>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which and what to change.</exception>
    public KinesisClient(KinesisClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<KinesisClient>();
        _transport = new AwsJsonTransport(options, Service, "Kinesis", "Kinesis_20131202.", logger);
    }

    /// <summary>Gets the endpoint requests go to.</summary>
    public Uri Endpoint => _transport.Endpoint;

    /// <inheritdoc />
    public Task<KinesisPutRecordResponse> PutRecordAsync(KinesisPutRecordRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.ValidateStream();
        return _transport.CallAsync(
            "PutRecord",
            request,
            static (writer, r) => KinesisJson.WritePutRecord(writer, r),
            static (body, _) => KinesisWire.ParsePutRecord(body),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<KinesisPutRecordsResponse> PutRecordsAsync(KinesisPutRecordsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.ValidateStream();
        if (request.Records is null || request.Records.Count is 0 or > 500)
        {
            throw new ArgumentException($"PutRecords takes 1 to 500 records; got {request.Records?.Count ?? 0}. Split the batch (the producer does this for you).", nameof(request));
        }

        return _transport.CallAsync(
            "PutRecords",
            request,
            static (writer, r) => KinesisJson.WritePutRecords(writer, r, r.Records),
            static (body, r) => KinesisJson.ParsePutRecords(body, r.Records.Count),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<KinesisListShardsResponse> ListShardsAsync(KinesisListShardsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.NextToken is null)
        {
            request.ValidateStream();
        }

        return _transport.CallAsync(
            "ListShards",
            request,
            static (writer, r) => KinesisJson.WriteListShards(writer, r),
            static (body, _) => KinesisWire.ParseListShards(body),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<KinesisStreamSummary> DescribeStreamSummaryAsync(KinesisDescribeStreamSummaryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.ValidateStream();
        return _transport.CallAsync(
            "DescribeStreamSummary",
            request,
            static (writer, r) =>
            {
                writer.WriteStartObject();
                KinesisJson.WriteStream(writer, r);
                writer.WriteEndObject();
            },
            static (body, _) => KinesisWire.ParseDescribeStreamSummary(body),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<KinesisGetShardIteratorResponse> GetShardIteratorAsync(KinesisGetShardIteratorRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.ValidateStream();
        ArgumentException.ThrowIfNullOrEmpty(request.ShardId, nameof(request));
        return _transport.CallAsync(
            "GetShardIterator",
            request,
            static (writer, r) => KinesisJson.WriteGetShardIterator(writer, r),
            static (body, _) => KinesisWire.ParseGetShardIterator(body),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<KinesisGetRecordsResponse> GetRecordsAsync(KinesisGetRecordsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ShardIterator, nameof(request));
        if (request.Limit is < 1 or > 10000)
        {
            throw new ArgumentException($"GetRecords Limit must be 1 to 10000; got {request.Limit}.", nameof(request));
        }

        return _transport.CallAsync(
            "GetRecords",
            request,
            static (writer, r) => KinesisJson.WriteGetRecords(writer, r),
            static (body, _) => KinesisJson.ParseGetRecords(body),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<KinesisRegisteredConsumer> RegisterStreamConsumerAsync(KinesisRegisterStreamConsumerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.StreamArn, nameof(request));
        ArgumentException.ThrowIfNullOrEmpty(request.ConsumerName, nameof(request));
        return _transport.CallAsync(
            "RegisterStreamConsumer",
            request,
            static (writer, r) =>
            {
                writer.WriteStartObject();
                writer.WriteString("StreamARN"u8, r.StreamArn);
                writer.WriteString("ConsumerName"u8, r.ConsumerName);
                writer.WriteEndObject();
            },
            static (body, _) => KinesisWire.ParseConsumer(body),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<KinesisRegisteredConsumer> DescribeStreamConsumerAsync(KinesisDescribeStreamConsumerRequest request, CancellationToken cancellationToken)
    {
        ValidateConsumer(request);
        return _transport.CallAsync(
            "DescribeStreamConsumer",
            request,
            static (writer, r) => KinesisJson.WriteConsumer(writer, r),
            static (body, _) => KinesisWire.ParseConsumer(body),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task DeregisterStreamConsumerAsync(KinesisDescribeStreamConsumerRequest request, CancellationToken cancellationToken)
    {
        ValidateConsumer(request);
        return _transport.CallAsync(
            "DeregisterStreamConsumer",
            request,
            static (writer, r) => KinesisJson.WriteConsumer(writer, r),
            static (_, _) => true,
            cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<KinesisSubscribeToShardEvent> SubscribeToShardAsync(
        KinesisSubscribeToShardRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ConsumerArn, nameof(request));
        ArgumentException.ThrowIfNullOrEmpty(request.ShardId, nameof(request));

        using var body = new PooledBufferWriter(512);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("ConsumerARN"u8, request.ConsumerArn);
            writer.WriteString("ShardId"u8, request.ShardId);
            writer.WriteStartObject("StartingPosition"u8);
            KinesisJson.WriteStartingPosition(writer, request.StartingPosition, iteratorNames: false);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        using var activity = _transport.StartActivity("SubscribeToShard");
        HttpResponseMessage response;
        try
        {
            response = await OpenSubscriptionAsync(body.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        catch (KinesisException exception) when (AwsJsonTransport.Failed(activity, exception))
        {
            throw;
        }

        using (response)
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var reader = new EventStreamReader(stream);
                try
                {
                    while (true)
                    {
                        var message = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                        if (message is null)
                        {
                            yield break;
                        }

                        var evt = Interpret(message);
                        if (evt is not null)
                        {
                            yield return evt;
                        }
                    }
                }
                finally
                {
                    reader.Dispose();
                }
            }
        }
    }

    /// <summary>Closes the client's connections.</summary>
    public void Dispose() => _transport.Dispose();

    private static void ValidateConsumer(KinesisDescribeStreamConsumerRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ConsumerArn is null && (request.StreamArn is null || request.ConsumerName is null))
        {
            throw new ArgumentException("Identify the consumer by ConsumerArn, or by StreamArn and ConsumerName.", nameof(request));
        }
    }

    /// <summary>Opens the event stream, retrying as the other calls do; the response is returned unread.</summary>
    private async Task<HttpResponseMessage> OpenSubscriptionAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        await _transport.Retry.ExecuteAsync(
            static async (call, token) =>
            {
                using var result = await call.Transport.SendOnceAsync("SubscribeToShard", call.Body, HttpCompletionOption.ResponseHeadersRead, HttpVersion.Version20, token).ConfigureAwait(false);
                return result.Exception is { } failure ? throw failure : result.TakeStreamed();
            },
            (Transport: _transport, Body: body),
            cancellationToken).ConfigureAwait(false);

    private static KinesisSubscribeToShardEvent? Interpret(EventStreamMessage message)
    {
        string messageType = HeaderOrNull(message, ":message-type") ?? "event";
        switch (messageType)
        {
            case "event":
                string? eventType = HeaderOrNull(message, ":event-type");
                if (eventType != "SubscribeToShardEvent")
                {
                    return null; // initial-response and unknown future events
                }

                try
                {
                    return KinesisJson.ParseSubscribeToShardEvent(message.Payload ?? []);
                }
                catch (Exception exception) when (exception is JsonException or FormatException)
                {
                    throw new KinesisException($"SubscribeToShard: an event is not the expected JSON: {exception.Message}", KinesisErrors.MalformedResponse, HttpStatusCode.OK, null, exception);
                }

            case "exception":
                {
                    string code = HeaderOrNull(message, ":exception-type") ?? "UnknownException";
                    string? text = KinesisWire.ParseError(message.Payload ?? []).Message;
                    throw KinesisErrorParser.Create("SubscribeToShard", code, text, HttpStatusCode.OK, null);
                }

            default:
                throw KinesisErrorParser.Create(
                    "SubscribeToShard",
                    HeaderOrNull(message, ":error-code") ?? "InternalFailure",
                    HeaderOrNull(message, ":error-message"),
                    HttpStatusCode.OK,
                    null);
        }
    }

    private static string? HeaderOrNull(EventStreamMessage message, string name) =>
        message.Headers is { } headers && headers.TryGetValue(name, out var header) ? header.AsString() : null;

    /// <summary>Reads <c>application/vnd.amazon.eventstream</c> frames: a 4-byte big-endian total length, then the rest of the message.</summary>
    private sealed class EventStreamReader : IDisposable
    {
        private readonly Stream _stream;
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);

        public EventStreamReader(Stream stream)
        {
            _stream = stream;
        }

        public async ValueTask<EventStreamMessage?> ReadAsync(CancellationToken cancellationToken)
        {
            if (!await FillAsync(0, 4, allowEnd: true, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            int total = BinaryPrimitives.ReadInt32BigEndian(_buffer);
            if (total < 16 || total > 32 * 1024 * 1024)
            {
                throw new KinesisException($"SubscribeToShard: an event-stream frame declares an impossible length of {total} bytes.", KinesisErrors.MalformedResponse, HttpStatusCode.OK, null);
            }

            if (total > _buffer.Length)
            {
                byte[] bigger = ArrayPool<byte>.Shared.Rent(total);
                _buffer.AsSpan(0, 4).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }

            await FillAsync(4, total - 4, allowEnd: false, cancellationToken).ConfigureAwait(false);
            try
            {
                return EventStreamMessage.FromBuffer(_buffer, 0, total);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw new KinesisException($"SubscribeToShard: a malformed event-stream frame ({exception.Message}).", KinesisErrors.MalformedResponse, HttpStatusCode.OK, null, exception);
            }
        }

        public void Dispose()
        {
            byte[] buffer = _buffer;
            _buffer = [];
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async ValueTask<bool> FillAsync(int offset, int count, bool allowEnd, CancellationToken cancellationToken)
        {
            int read = 0;
            while (read < count)
            {
                int n;
                try
                {
                    n = await _stream.ReadAsync(_buffer.AsMemory(offset + read, count - read), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is IOException or HttpRequestException)
                {
                    throw new KinesisException($"SubscribeToShard: the event stream broke: {exception.Message}", KinesisErrors.TransportFailure, null, null, exception);
                }

                if (n == 0)
                {
                    if (allowEnd && read == 0)
                    {
                        return false;
                    }

                    throw new KinesisException("SubscribeToShard: the event stream ended in the middle of a frame.", KinesisErrors.TransportFailure, null, null);
                }

                read += n;
            }

            return true;
        }
    }
}
