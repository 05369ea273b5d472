using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>Passes a source's batches on unchanged and shows each to an observer first (the dashboard's last events, the raw lake table).</summary>
/// <param name="inner">The source.</param>
/// <param name="observe">Called with every batch before the pipelines see it.</param>
public sealed class TappedSource(IEventSource<ClickEvent> inner, Func<RecordBatch<ClickEvent>, CancellationToken, ValueTask> observe) : IEventSource<ClickEvent>
{
    /// <inheritdoc />
    public bool CanResume => inner.CanResume;

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<ClickEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in inner.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
        {
            await observe(batch, cancellationToken).ConfigureAwait(false);
            yield return batch;
        }
    }
}
