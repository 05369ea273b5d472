using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Hosting;

/// <summary>
/// Passes a source's batches through unchanged and notes, per batch (not per record), what the health check needs:
/// the last position read per partition, how far each partition is behind the newest record, and whether a failure
/// came from the source.
/// </summary>
internal sealed class ObservedSource<T>(IEventSource<T> inner, IBehindLatestReader? behindLatestReader) : IEventSource<T>
{
    public SourceObservation Observation { get; } = new(behindLatestReader);

    public bool CanResume => inner.CanResume;

    public async IAsyncEnumerable<RecordBatch<T>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Observation.OnReadStarted();
        var batches = inner.ReadBatchesAsync(context, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                RecordBatch<T> batch;
                try
                {
                    if (!await batches.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    batch = batches.Current;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Observation.OnFailed(ex);
                    throw;
                }

                Observation.OnBatch(batch);
                yield return batch;
            }
        }
        finally
        {
            await batches.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>What an <see cref="ObservedSource{T}"/> saw; thread-safe.</summary>
internal sealed class SourceObservation(IBehindLatestReader? behindLatestReader)
{
    private readonly ConcurrentDictionary<string, StreamPosition> _lastRead = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TimeSpan> _behindLatest = new(StringComparer.Ordinal);
    private Exception? _lastFailure;
    private int _reads;

    /// <summary>Gets how many times the source was enumerated (once per run that got as far as reading).</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Gets the last exception the source itself threw.</summary>
    public Exception? LastFailure => Volatile.Read(ref _lastFailure);

    public void OnReadStarted() => Interlocked.Increment(ref _reads);

    public void OnFailed(Exception exception) => Volatile.Write(ref _lastFailure, exception);

    /// <summary>Gets, per partition, how far the reader is behind the newest record: from the pluggable reader if any, else from the batches.</summary>
    public IReadOnlyDictionary<string, TimeSpan> BehindLatest()
    {
        if (behindLatestReader is not null)
        {
            return behindLatestReader.ReadBehindLatest();
        }

        return new Dictionary<string, TimeSpan>(_behindLatest, StringComparer.Ordinal);
    }

    /// <summary>
    /// Gets a value indicating whether a record was read that <paramref name="checkpoint"/> does not cover: some
    /// partition's last batch with records ends after the checkpoint's processed position.
    /// </summary>
    public bool HasRecordsAfter(PipelineCheckpoint? checkpoint)
    {
        foreach (var (partition, position) in _lastRead)
        {
            var covered = checkpoint?.FindPartition(partition);
            if (covered is null || (!covered.IsFinished && (covered.ProcessedThrough is not { } through || through < position)))
            {
                return true;
            }
        }

        return false;
    }

    public void OnBatch<T>(RecordBatch<T>? batch)
    {
        if (batch is null)
        {
            return;
        }

        if (batch.BehindLatest is { } lag)
        {
            _behindLatest[batch.PartitionId] = lag;
        }

        if (batch.IsEndOfPartition)
        {
            _behindLatest.TryRemove(batch.PartitionId, out _);
        }

        // Empty batches (a Kinesis reader's idle polls) carry nothing to checkpoint: the pipeline takes no checkpoint for them.
        if ((batch.Records.Length > 0 || batch.DeadLetters.Count > 0) && batch.EndPosition is { } end)
        {
            _lastRead[batch.PartitionId] = end;
        }
    }
}
