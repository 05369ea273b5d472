using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Analytics.Streaming.Samples.Clickstream.Web;

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
/// An in-process stream (the default, no AWS account needed): writers append events to a bounded channel, the
/// pipelines read them back as batches of one partition with increasing sequence numbers. Nothing is kept across a
/// restart: it cannot resume (<see cref="CanResume"/> is false), so the service runs its pipelines without a
/// checkpoint store in this mode.
/// </summary>
public sealed class EmbeddedStream : IClickWriter, IEventSource<ClickEvent>
{
    /// <summary>The one partition of the stream.</summary>
    public const string PartitionId = "embedded-0";

    private readonly Channel<ClickEvent> _channel;
    private readonly int _maxBatch;
    private long _sequence;
    private int _reading;

    /// <summary>Creates the stream.</summary>
    /// <param name="capacity">Events buffered before writers wait.</param>
    /// <param name="maxBatch">The largest batch handed to the pipelines.</param>
    public EmbeddedStream(int capacity = 100_000, int maxBatch = 2_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _maxBatch = maxBatch;
        _channel = Channel.CreateBounded<ClickEvent>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    /// <summary>Gets the number of events written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    private long _written;

    /// <inheritdoc />
    public bool CanResume => false;

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<ClickEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            if (!_channel.Writer.TryWrite(e))
            {
                await _channel.Writer.WriteAsync(e, cancellationToken).ConfigureAwait(false);
            }
        }

        Interlocked.Add(ref _written, events.Count);
    }

    /// <summary>Ends the stream: the reader delivers what is buffered, then ends (the pipelines close their windows).</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<ClickEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("The embedded stream has one reader: run the pipelines over it with StreamPipeline.RunAsync(source, pipelines) (fan-out).");
        }

        context.AnnouncePartitions([PartitionId]);
        var reader = _channel.Reader;
        var buffer = new List<StreamRecord<ClickEvent>>(_maxBatch);
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

            while (buffer.Count < _maxBatch && reader.TryRead(out var e))
            {
                buffer.Add(new StreamRecord<ClickEvent>(e, SequenceNumber.FromInt64(++_sequence)));
            }

            yield return new RecordBatch<ClickEvent>(PartitionId, buffer.ToArray());
            buffer.Clear();
        }

        yield return new RecordBatch<ClickEvent>(PartitionId, Array.Empty<StreamRecord<ClickEvent>>(), isEndOfPartition: true);
    }
}
