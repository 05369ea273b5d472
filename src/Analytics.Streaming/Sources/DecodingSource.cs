using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Analytics.Streaming;

/// <summary>Extension methods that adapt sources.</summary>
public static class EventSourceExtensions
{
    /// <summary>
    /// Decodes the raw records of <paramref name="source"/> with <paramref name="decoder"/>. Records that fail to
    /// decode travel on as dead letters of their batch with the decoder's message and the raw bytes.
    /// </summary>
    /// <typeparam name="T">The event type.</typeparam>
    /// <param name="source">The raw source.</param>
    /// <param name="decoder">The decoder.</param>
    /// <returns>A source of decoded events with the same partitions and positions.</returns>
    public static IEventSource<T> Decode<T>(this IEventSource<RawRecord> source, IEventDecoder<T> decoder)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(decoder);
        return new DecodingSource<T>(source, decoder);
    }

    /// <summary>
    /// Decodes the raw records of <paramref name="source"/> with <paramref name="decoder"/>, up to
    /// <paramref name="maxDegreeOfParallelism"/> batches at once on the thread pool, and delivers the batches in the
    /// order the source read them. Records that fail to decode travel on as dead letters of their batch, as with
    /// <see cref="Decode{T}(IEventSource{RawRecord}, IEventDecoder{T})"/>.
    /// </summary>
    /// <typeparam name="T">The event type.</typeparam>
    /// <param name="source">The raw source; it is read on its own task, ahead of the decoding.</param>
    /// <param name="decoder">The decoder; it is called from several threads at once, so it must be thread-safe (<see cref="JsonEventDecoder{T}"/> is).</param>
    /// <param name="maxDegreeOfParallelism">
    /// How many batches may be decoded at the same time, for example <see cref="Environment.ProcessorCount"/>; 1 decodes
    /// on the reading thread, like the overload without it.
    /// </param>
    /// <returns>A source of decoded events with the same partitions, positions and batch order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is less than 1.</exception>
    /// <remarks>
    /// Decoding (JSON above all) is most of a pipeline's CPU time when the windows are cheap: a pipeline runs its
    /// windows on one thread, so decoding in parallel is how a worker that reads several shards uses more than one
    /// core. Order, positions and checkpoints are unchanged; a source failure is raised after the batches read before it.
    /// </remarks>
    public static IEventSource<T> Decode<T>(this IEventSource<RawRecord> source, IEventDecoder<T> decoder, int maxDegreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, 1);
        return maxDegreeOfParallelism == 1
            ? new DecodingSource<T>(source, decoder)
            : new ParallelDecodingSource<T>(source, decoder, maxDegreeOfParallelism);
    }

    private static RecordBatch<T> DecodeBatch<T>(RecordBatch<RawRecord> batch, IEventDecoder<T> decoder)
    {
        var raw = batch.Records.Span;
        var decoded = new StreamRecord<T>[raw.Length];
        List<DeadLetter>? deadLetters = batch.DeadLetters.Count > 0 ? [.. batch.DeadLetters] : null;
        int count = 0;
        foreach (ref readonly var record in raw)
        {
            if (decoder.TryDecode(record.Value, out var value, out var error))
            {
                decoded[count++] = new StreamRecord<T>(value, record.Sequence, record.SubSequence);
            }
            else
            {
                (deadLetters ??= []).Add(new DeadLetter(
                    new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence),
                    error.Reason,
                    error.Message,
                    record.Value.Data));
            }
        }

        return new RecordBatch<T>(
            batch.PartitionId,
            decoded.AsMemory(0, count),
            deadLetters,
            batch.EndPosition,
            batch.IsEndOfPartition,
            batch.BehindLatest);
    }

    private sealed class DecodingSource<T>(IEventSource<RawRecord> inner, IEventDecoder<T> decoder) : IEventSource<T>
    {
        public bool CanResume => inner.CanResume;

        public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in inner.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
            {
                yield return DecodeBatch(batch, decoder);
            }
        }
    }

    /// <summary>
    /// Reads the source on its own task and decodes each batch on the thread pool as soon as it arrives; the batches are
    /// delivered in read order. At most <c>parallelism</c> batches are being decoded or waiting to be taken at once.
    /// </summary>
    private sealed class ParallelDecodingSource<T>(IEventSource<RawRecord> inner, IEventDecoder<T> decoder, int parallelism) : IEventSource<T>
    {
        public bool CanResume => inner.CanResume;

        public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // The reader takes one decoding batch out of the channel and waits for it, so the channel holds one less.
            var decoding = Channel.CreateBounded<Task<RecordBatch<T>>>(new BoundedChannelOptions(parallelism - 1)
            {
                SingleReader = true,
                SingleWriter = true,
            });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            ExceptionDispatchInfo? failure = null;
            var reading = Task.Run(
                async () =>
                {
                    try
                    {
                        await foreach (var batch in inner.ReadBatchesAsync(context, stop.Token).ConfigureAwait(false))
                        {
                            if (!await decoding.Writer.WaitToWriteAsync(stop.Token).ConfigureAwait(false))
                            {
                                break;
                            }

                            decoding.Writer.TryWrite(Task.Run(() => DecodeBatch(batch, decoder), CancellationToken.None));
                        }
                    }
#pragma warning disable CA1031 // The failure is raised to the reader after the batches read before it.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        failure = ExceptionDispatchInfo.Capture(ex);
                    }
                    finally
                    {
                        decoding.Writer.TryComplete();
                    }
                },
                CancellationToken.None);

            try
            {
                while (await decoding.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    while (decoding.Reader.TryRead(out var batch))
                    {
                        yield return await batch.ConfigureAwait(false);
                    }
                }

                await reading.ConfigureAwait(false);
                failure?.Throw();
            }
            finally
            {
                // The consumer stopped early (or everything is done): stop reading and let the decodes in flight finish unobserved.
                await stop.CancelAsync().ConfigureAwait(false);
                await reading.ConfigureAwait(false);
                while (decoding.Reader.TryRead(out var abandoned))
                {
                    _ = abandoned.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                }
            }
        }
    }
}
