using System.Text.Json;
using Amazon.Runtime;
using System.Text.Json.Serialization;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Kinesis.Firehose;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>Source-generated JSON for events on Kinesis and Firehose.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ClickEvent))]
internal sealed partial class ClickJson : JsonSerializerContext;

/// <summary>Where accepted beacons go: the embedded stream, Kinesis Data Streams, and optionally Firehose as well.</summary>
public interface IClickWriter
{
    /// <summary>Writes accepted events; waits while the stream is full (backpressure on the callers).</summary>
    /// <param name="events">The events.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the events are in the stream.</returns>
    ValueTask WriteAsync(IReadOnlyList<ClickEvent> events, CancellationToken cancellationToken);
}

/// <summary>
/// The stream between ingest and the pipelines: the embedded in-process stream by default, Kinesis Data Streams when
/// <c>Ingest:Kinesis:StreamName</c> is set (the producer writes, the shard consumer reads back and resumes from
/// checkpoints), and Firehose as an extra copy of every accepted beacon when <c>Ingest:Firehose:DeliveryStreamName</c> is set.
/// </summary>
public sealed class ClickStreams : IClickWriter, IAsyncDisposable
{
    private readonly ChannelSource<ClickEvent>? _embedded;
    private readonly KinesisClient? _kinesis;
    private readonly KinesisProducer? _producer;
    private readonly FirehoseClient? _firehoseClient;

    /// <summary>Creates the streams the options ask for.</summary>
    /// <param name="options">The ingest options.</param>
    /// <param name="loggerFactory">Logging for the Kinesis and Firehose components.</param>
    /// <param name="credentials">AWS credentials; <see langword="null"/> uses AWSSDK.Core's default chain (environment, profile, instance role).</param>
    public ClickStreams(IngestOptions options, ILoggerFactory loggerFactory, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Kinesis.StreamName))
        {
            _embedded = new ChannelSource<ClickEvent>(capacity: 100_000, maxBatchSize: 2_000, partitionId: "embedded-0");
            Source = _embedded;
            Mode = "embedded stream";
        }
        else
        {
            _kinesis = new KinesisClient(new KinesisClientOptions { Region = options.Kinesis.Region, ServiceUrl = options.Kinesis.ServiceUrl, Credentials = credentials, LoggerFactory = loggerFactory });
            _producer = new KinesisProducer(_kinesis, new KinesisProducerOptions { StreamName = options.Kinesis.StreamName, LoggerFactory = loggerFactory });
            Source = new KinesisShardConsumer(_kinesis, new KinesisConsumerOptions { StreamName = options.Kinesis.StreamName, LoggerFactory = loggerFactory, IdleTimeBetweenReads = TimeSpan.FromMilliseconds(200) })
                .Decode(new JsonEventDecoder<ClickEvent>(ClickJson.Default.ClickEvent), Environment.ProcessorCount);
            Mode = $"Kinesis stream {options.Kinesis.StreamName}";
        }

        if (!string.IsNullOrWhiteSpace(options.Firehose.DeliveryStreamName))
        {
            _firehoseClient = new FirehoseClient(new FirehoseClientOptions { Region = options.Firehose.Region, ServiceUrl = options.Firehose.ServiceUrl, Credentials = credentials, LoggerFactory = loggerFactory });
            Firehose = new FirehoseSink<WindowResult<StreamPosition, ClickEvent>>(
                _firehoseClient,
                new FirehoseSinkOptions { DeliveryStreamName = options.Firehose.DeliveryStreamName, LoggerFactory = loggerFactory },
                static (view, buffer) =>
                {
                    using var json = new Utf8JsonWriter(buffer);
                    JsonSerializer.Serialize(json, view.Value, ClickJson.Default.ClickEvent);
                });
            Mode += $" + Firehose {options.Firehose.DeliveryStreamName}";
        }
    }

    /// <summary>Gets what the pipelines read.</summary>
    public IEventSource<ClickEvent> Source { get; }

    /// <summary>
    /// Gets the Firehose delivery of every event when <c>Ingest:Firehose:DeliveryStreamName</c> is set, for a pipeline
    /// without windows: batched, and delivered through its checkpoints (at least once), not in the beacon's request.
    /// </summary>
    public ISink<WindowResult<StreamPosition, ClickEvent>>? Firehose { get; }

    /// <summary>Gets a description of the streams, for the dashboard and the start-up lines.</summary>
    public string Mode { get; }

    /// <summary>Gets a value indicating whether the source resumes from checkpoints (Kinesis).</summary>
    public bool CanResume => Source.CanResume;

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<ClickEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (_embedded is not null)
        {
            await _embedded.WriteAsync(events, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            foreach (var click in events)
            {
                await _producer!.AddAsync(JsonSerializer.SerializeToUtf8Bytes(click, ClickJson.Default.ClickEvent), click.UserId, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

    }

    /// <summary>Ends the embedded stream (the pipelines then close their windows); Kinesis streams go on.</summary>
    public void Complete() => _embedded?.Complete();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_producer is not null)
        {
            await _producer.DisposeAsync().ConfigureAwait(false);
        }

        if (Firehose is not null)
        {
            await Firehose.DisposeAsync().ConfigureAwait(false);
        }

        _kinesis?.Dispose();
        _firehoseClient?.Dispose();
    }
}
