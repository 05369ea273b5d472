using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Analytics.Streaming;

/// <summary>
/// An in-process stream: producers (request handlers, generators, other pipelines) write events, the pipelines read
/// them as batches of one partition with increasing sequence numbers. The embedded default of a service that can also
/// run on Kinesis: nothing to install, nothing kept.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>
/// <para>
/// The buffer is bounded: a write waits while it is full, so producers slow down to the pipelines' pace instead of
/// growing memory. Events are never dropped. A batch holds what is buffered when the reader wakes, up to the largest
/// batch size, so batches are large under load and single events when traffic is light.
/// </para>
/// <para>
/// Nothing survives the process, so <see cref="CanResume"/> is <see langword="false"/>: run pipelines over it without a
/// checkpoint store (or use a durable stream). It has one reader; several pipelines share it through
/// <c>StreamPipeline.RunAsync(source, pipelines)</c> (fan-out). <see cref="Complete"/> ends the stream: the reader
/// delivers what is buffered, ends the partition, and the pipelines close their windows.
/// </para>
/// </remarks>
public sealed class ChannelSource<T> : IEventSource<T>
{
    private readonly Channel<T> _channel;
    private readonly int _maxBatchSize;
    private long _written;
    private int _reading;

    /// <summary>Creates the stream.</summary>
    /// <param name="capacity">Events buffered before writers wait; default 10,000.</param>
    /// <param name="maxBatchSize">The largest batch handed to the reader; default 1,000.</param>
    /// <param name="partitionId">The id of the one partition; default <c>in-process-0</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> or <paramref name="maxBatchSize"/> is less than 1.</exception>
    public ChannelSource(int capacity = 10_000, int maxBatchSize = 1_000, string partitionId = "in-process-0")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentException.ThrowIfNullOrEmpty(partitionId);
        _maxBatchSize = maxBatchSize;
        PartitionId = partitionId;
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    /// <summary>Gets the id of the stream's one partition.</summary>
    public string PartitionId { get; }

    /// <summary>Gets the number of events written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <inheritdoc />
    public bool CanResume => false;

    /// <summary>Appends an event; waits while the buffer is full.</summary>
    /// <param name="item">The event.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the event is in the stream.</returns>
    /// <exception cref="ChannelClosedException">The stream was completed.</exception>
    public async ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _written);
    }

    /// <summary>Appends events in order; waits while the buffer is full.</summary>
    /// <param name="items">The events.</param>
    /// <param name="cancellationToken">Cancels the wait (the events before it are in the stream).</param>
    /// <returns>A task that completes when every event is in the stream.</returns>
    /// <exception cref="ChannelClosedException">The stream was completed.</exception>
    public async ValueTask WriteAsync(IEnumerable<T> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            await WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the stream: the reader delivers what is buffered, then ends its partition. Later writes throw.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The stream is already being read.</exception>
    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("A ChannelSource has one reader: run several pipelines over it with StreamPipeline.RunAsync(source, pipelines) (fan-out).");
        }

        context.AnnouncePartitions([PartitionId]);
        var reader = _channel.Reader;
        var buffer = new List<StreamRecord<T>>(Math.Min(_maxBatchSize, 1024));
        long sequence = 0;
        while (true)
        {
            try
            {
                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            while (buffer.Count < _maxBatchSize && reader.TryRead(out var item))
            {
                buffer.Add(new StreamRecord<T>(item, SequenceNumber.FromInt64(++sequence)));
            }

            yield return new RecordBatch<T>(PartitionId, buffer.ToArray());
            buffer.Clear();
        }

        yield return new RecordBatch<T>(PartitionId, Array.Empty<StreamRecord<T>>(), isEndOfPartition: true);
    }
}
