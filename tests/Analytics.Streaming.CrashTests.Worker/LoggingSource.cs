using System.Runtime.CompilerServices;
using System.Text;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// Passes another source's batches through and appends one line per batch to the read log before handing it on:
/// <c>incarnation TAB partition TAB positions</c> (records and dead letters, space separated). Every line is flushed
/// to the operating system at once, so the log survives the process being killed.
/// </summary>
/// <param name="inner">The source.</param>
/// <param name="log">The open log (append mode, auto-flushing).</param>
/// <param name="incarnation">The number of this process among the runs of one test.</param>
internal sealed class LoggingSource<T>(IEventSource<T> inner, TextWriter log, int incarnation) : IEventSource<T>
{
    /// <inheritdoc />
    public bool CanResume => inner.CanResume;

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in inner.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
        {
            if (batch.Records.Length + batch.DeadLetters.Count > 0)
            {
                var line = new StringBuilder().Append(incarnation).Append('\t').Append(batch.PartitionId).Append('\t');
                foreach (var record in batch.Records.Span)
                {
                    line.Append(record.Sequence.ToString());
                    if (record.SubSequence != 0)
                    {
                        line.Append('/').Append(record.SubSequence);
                    }

                    line.Append(' ');
                }

                foreach (var deadLetter in batch.DeadLetters)
                {
                    line.Append(deadLetter.Position.Sequence.ToString());
                    if (deadLetter.Position.SubSequence != 0)
                    {
                        line.Append('/').Append(deadLetter.Position.SubSequence);
                    }

                    line.Append(' ');
                }

                await log.WriteLineAsync(line.ToString().TrimEnd()).ConfigureAwait(false);
            }

            yield return batch;
        }
    }
}
