using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Analytics.Streaming;

/// <summary>A built pipeline over records of <typeparamref name="TSource"/>, whatever its keys and results.</summary>
/// <typeparam name="TSource">The type the source delivers.</typeparam>
public interface IStreamPipeline<TSource>
{
    /// <summary>Gets the pipeline name (part of its result identities, and the name of its checkpoint).</summary>
    string Name { get; }

    /// <summary>Gets the counters of the current (or last) run.</summary>
    PipelineStatistics Statistics { get; }

    /// <summary>Runs the pipeline over a source; see <see cref="StreamPipeline{TSource, TKey, TResult}.RunAsync"/>.</summary>
    /// <param name="source">The source.</param>
    /// <param name="cancellationToken">Stops the pipeline gracefully.</param>
    /// <returns>A task that completes when the pipeline has stopped.</returns>
    Task RunAsync(IEventSource<TSource> source, CancellationToken cancellationToken = default);
}

/// <content>Fan-out: several pipelines over one source.</content>
public static partial class StreamPipeline
{
    /// <summary>
    /// Runs several pipelines over one source that is read once (fan-out): events per minute, top pages and unique
    /// visitors from the same clickstream, without reading the stream three times or writing a broadcast.
    /// </summary>
    /// <typeparam name="TSource">The type the source delivers.</typeparam>
    /// <param name="source">The source, read once for all pipelines.</param>
    /// <param name="pipelines">The pipelines; their names must differ.</param>
    /// <param name="cancellationToken">Stops every pipeline gracefully.</param>
    /// <returns>A task that completes when every pipeline has stopped.</returns>
    /// <exception cref="ArgumentException">No pipeline, or two with the same name.</exception>
    /// <remarks>
    /// <para>
    /// Each pipeline keeps its own checkpoint. The source resumes each partition after the earliest of the pipelines'
    /// positions, and a pipeline recognises what its own checkpoint covers as replays; a partition is finished (and a
    /// Kinesis shard's children start) once it is finished for every pipeline. Partitions the source announces reach
    /// every pipeline.
    /// </para>
    /// <para>
    /// Every batch goes to every pipeline; the slowest sets the pace (each waits in a bounded channel). When one pipeline
    /// fails, the others are stopped gracefully (delivered, flushed, checkpointed) and the failure is rethrown; a failing
    /// source is rethrown once, after every pipeline delivered what it had read.
    /// </para>
    /// </remarks>
    public static async Task RunAsync<TSource>(IEventSource<TSource> source, IEnumerable<IStreamPipeline<TSource>> pipelines, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(pipelines);
        var list = pipelines.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("Give at least one pipeline.", nameof(pipelines));
        }

        if (list.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count() != list.Length)
        {
            throw new ArgumentException("The pipelines must have different names: each keeps its own checkpoint under its name.", nameof(pipelines));
        }

        var fanOut = new FanOut<TSource>(source, list.Length);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runs = new Task[list.Length];
        for (int i = 0; i < list.Length; i++)
        {
            runs[i] = RunMemberAsync(list[i], fanOut.Members[i], stop);
        }

        var reading = fanOut.ReadAsync(stop.Token);
        try
        {
            await Task.WhenAll(runs).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }

        static async Task RunMemberAsync(IStreamPipeline<TSource> pipeline, IEventSource<TSource> member, CancellationTokenSource stop)
        {
            try
            {
                await pipeline.RunAsync(member, stop.Token).ConfigureAwait(false);
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Reads one source for several pipelines: each gets every batch through its own bounded channel.</summary>
    private sealed class FanOut<TSource>
    {
        private readonly IEventSource<TSource> _source;
        private readonly Member[] _members;

        public FanOut(IEventSource<TSource> source, int count)
        {
            _source = source;
            _members = [.. Enumerable.Range(0, count).Select(_ => new Member(source.CanResume))];
        }

        public IReadOnlyList<IEventSource<TSource>> Members => _members;

        /// <summary>Waits until every pipeline asked for its batches (with its resume positions), then reads the source for all.</summary>
        public async Task ReadAsync(CancellationToken cancellationToken)
        {
            Exception? failure = null;
            try
            {
                var contexts = new SourceContext[_members.Length];
                for (int i = 0; i < _members.Length; i++)
                {
                    contexts[i] = await _members[i].Context.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                await foreach (var batch in _source.ReadBatchesAsync(new SourceContext(contexts), cancellationToken).ConfigureAwait(false))
                {
                    foreach (var member in _members)
                    {
                        await member.Batches.Writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                    }
                }

                // A source that ends quietly when cancelled has stopped, not ended.
                cancellationToken.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                failure = new OperationCanceledException(cancellationToken);
            }
#pragma warning disable CA1031 // The source's failure reaches every pipeline through its channel, and each rethrows it after delivering.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
            }

            foreach (var member in _members)
            {
                member.Batches.Writer.TryComplete(failure);
            }
        }

        private sealed class Member(bool canResume) : IEventSource<TSource>, IReadOnceSource
        {
            public TaskCompletionSource<SourceContext> Context { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public Channel<RecordBatch<TSource>> Batches { get; } = Channel.CreateBounded<RecordBatch<TSource>>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });

            public bool CanResume => canResume;

            public async IAsyncEnumerable<RecordBatch<TSource>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
            {
                ArgumentNullException.ThrowIfNull(context);
                if (!Context.TrySetResult(context))
                {
                    throw new InvalidOperationException("A fan-out member is read once per run.");
                }

                await foreach (var batch in Batches.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return batch;
                }
            }
        }
    }
}

/// <summary>A source that can be read once per run (a pipeline's share of a fan-out): a pipeline never reads it again by itself.</summary>
internal interface IReadOnceSource;
