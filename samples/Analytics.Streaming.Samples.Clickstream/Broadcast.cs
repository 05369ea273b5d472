using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Analytics.Streaming.Samples.Clickstream;

/// <summary>Feeds every batch of one source to several pipelines; the slowest consumer sets the pace.</summary>
public sealed class Broadcast<T>
{
    private readonly IEventSource<T> _source;
    private readonly List<Channel<RecordBatch<T>>> _outputs = [];

    public Broadcast(IEventSource<T> source) => _source = source;

    /// <summary>Adds a consumer; call before <see cref="RunAsync"/>.</summary>
    public IEventSource<T> Subscribe()
    {
        var channel = Channel.CreateBounded<RecordBatch<T>>(16);
        _outputs.Add(channel);
        return new Subscriber(channel.Reader);
    }

    /// <summary>Reads the source and copies each batch to every consumer until the source ends or is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in _source.ReadBatchesAsync(new SourceContext(), cancellationToken).ConfigureAwait(false))
            {
                foreach (var output in _outputs)
                {
                    await output.Writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var output in _outputs)
            {
                output.Writer.TryComplete();
            }
        }
    }

    private sealed class Subscriber(ChannelReader<RecordBatch<T>> reader) : IEventSource<T>
    {
        public bool CanResume => false;

        public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return batch;
            }
        }
    }
}
