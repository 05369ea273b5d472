using System.Runtime.CompilerServices;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// Delivers a <see cref="DeterministicStream"/> as a resuming source: announces its partitions, skips finished ones,
/// resumes each partition after the position the pipeline hands it, and waits <c>pace</c> before each batch so that a
/// run lasts long enough to be killed in the middle.
/// </summary>
/// <param name="stream">The stream.</param>
/// <param name="pace">The delay before each batch; zero delivers as fast as the pipeline takes it.</param>
internal sealed class DeterministicSource(DeterministicStream stream, TimeSpan pace) : IEventSource<SensorEvent>
{
    /// <inheritdoc />
    public bool CanResume => true;

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch<SensorEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AnnouncePartitions(stream.PartitionIds);
        var lastBatch = new int[stream.PartitionIds.Count];
        foreach (var (partition, first, _) in stream.Schedule)
        {
            lastBatch[partition] = first;
        }

        foreach (var (partition, first, count) in stream.Schedule)
        {
            string id = stream.PartitionIds[partition];
            if (context.IsFinished(id))
            {
                continue;
            }

            long resumeAfter = context.GetResumePosition(id)?.Sequence.ToInt64() ?? 0;
            var records = new List<StreamRecord<SensorEvent>>(count);
            for (int i = first; i < first + count; i++)
            {
                long sequence = i + 1;
                if (sequence > resumeAfter)
                {
                    records.Add(new StreamRecord<SensorEvent>(stream.Events[partition][i], SequenceNumber.FromInt64(sequence)));
                }
            }

            bool isEnd = stream.Ends[partition] && first == lastBatch[partition];
            if (records.Count == 0 && !isEnd)
            {
                continue;
            }

            if (pace > TimeSpan.Zero)
            {
                await Task.Delay(pace, cancellationToken).ConfigureAwait(false);
            }

            yield return new RecordBatch<SensorEvent>(
                id,
                records.ToArray(),
                endPosition: new StreamPosition(id, SequenceNumber.FromInt64(first + count)),
                isEndOfPartition: isEnd);
        }
    }
}
