using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Amazon.Runtime;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>
/// The order stream between the API and the consumer: an embedded in-process stream by default, Kinesis Data Streams
/// when <c>Kinesis:StreamName</c> is set (the producer writes with the order id as partition key, so one order's events
/// stay in order on one shard; the shard consumer reads back and resumes from the pipelines' checkpoints).
/// </summary>
public sealed class OrderStreams : IAsyncDisposable
{
    private readonly EmbeddedOrderStream? _embedded;
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
            _embedded = new EmbeddedOrderStream();
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

/// <summary>
/// The in-process stream (no AWS account needed): a bounded channel read back as batches of one partition with
/// increasing sequence numbers. Nothing survives a restart, so it cannot resume.
/// </summary>
/// <remarks>The same shape as the web-analytics sample's <c>EmbeddedStream</c>, for order events.</remarks>
public sealed class EmbeddedOrderStream : IEventSource<OrderEvent>
{
    /// <summary>The one partition.</summary>
    public const string PartitionId = "embedded-0";

    private readonly Channel<OrderEvent> _channel = Channel.CreateBounded<OrderEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private long _sequence;

    /// <inheritdoc />
    public bool CanResume => false;

    /// <summary>Appends an event (waits while the stream is full).</summary>
    /// <param name="order">The event.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the event is in the stream.</returns>
    public ValueTask WriteAsync(OrderEvent order, CancellationToken cancellationToken) =>
        _channel.Writer.TryWrite(order) ? ValueTask.CompletedTask : _channel.Writer.WriteAsync(order, cancellationToken);

    /// <summary>Ends the stream.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<OrderEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AnnouncePartitions([PartitionId]);
        var reader = _channel.Reader;
        var buffer = new List<StreamRecord<OrderEvent>>(500);
        while (true)
        {
            try
            {
                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            while (buffer.Count < 500 && reader.TryRead(out var e))
            {
                buffer.Add(new StreamRecord<OrderEvent>(e, SequenceNumber.FromInt64(++_sequence)));
            }

            yield return new RecordBatch<OrderEvent>(PartitionId, buffer.ToArray());
            buffer.Clear();
        }

        yield return new RecordBatch<OrderEvent>(PartitionId, Array.Empty<StreamRecord<OrderEvent>>(), isEndOfPartition: true);
    }
}
