using System.Text.Json;
using Amazon.Runtime;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>
/// The order stream between the API and the consumer: an embedded in-process stream (the core package's <see cref="ChannelSource{T}"/>) by default, Kinesis Data Streams
/// when <c>Kinesis:StreamName</c> is set (the producer writes with the order id as partition key, so one order's events
/// stay in order on one shard; the shard consumer reads back and resumes from the pipelines' checkpoints).
/// </summary>
public sealed class OrderStreams : IAsyncDisposable
{
    private readonly ChannelSource<OrderEvent>? _embedded;
    private readonly KinesisClient? _kinesis;
    private readonly KinesisProducer? _producer;

    /// <summary>Creates the stream the options ask for.</summary>
    /// <param name="options">The Kinesis options.</param>
    /// <param name="loggerFactory">Logging.</param>
    /// <param name="credentials">AWS credentials; <see langword="null"/> uses AWSSDK.Core's default chain.</param>
    public OrderStreams(KinesisOptions options, ILoggerFactory loggerFactory, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.StreamName))
        {
            _embedded = new ChannelSource<OrderEvent>(capacity: 10_000, maxBatchSize: 500, partitionId: "embedded-0");
            Source = _embedded;
            Mode = "embedded stream";
        }
        else
        {
            _kinesis = new KinesisClient(new KinesisClientOptions { Region = options.Region, ServiceUrl = options.ServiceUrl, Credentials = credentials, LoggerFactory = loggerFactory });
            _producer = new KinesisProducer(_kinesis, new KinesisProducerOptions { StreamName = options.StreamName, LoggerFactory = loggerFactory, Linger = TimeSpan.FromMilliseconds(20) });
            Source = new KinesisShardConsumer(_kinesis, new KinesisConsumerOptions { StreamName = options.StreamName, LoggerFactory = loggerFactory, IdleTimeBetweenReads = TimeSpan.FromMilliseconds(200) })
                .Decode(new JsonEventDecoder<OrderEvent>(OrderJson.Default.OrderEvent));
            Mode = $"Kinesis stream {options.StreamName}";
        }
    }

    /// <summary>Gets what the consumer reads.</summary>
    public IEventSource<OrderEvent> Source { get; }

    /// <summary>Gets a description, for the start-up lines and the live page.</summary>
    public string Mode { get; }

    /// <summary>Gets a value indicating whether the source resumes from checkpoints (Kinesis).</summary>
    public bool CanResume => Source.CanResume;

    /// <summary>Publishes one event and returns once the stream holds it (the API answers only then).</summary>
    /// <param name="order">The event.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the event is stored in the stream.</returns>
    public async Task PublishAsync(OrderEvent order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (_embedded is not null)
        {
            await _embedded.WriteAsync(order, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _producer!.AddAsync(JsonSerializer.SerializeToUtf8Bytes(order, OrderJson.Default.OrderEvent), order.OrderId, cancellationToken: cancellationToken).ConfigureAwait(false);
        await _producer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the embedded stream (Kinesis goes on).</summary>
    public void Complete() => _embedded?.Complete();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_producer is not null)
        {
            await _producer.DisposeAsync().ConfigureAwait(false);
        }

        _kinesis?.Dispose();
    }
}
