using System.Collections.Concurrent;

namespace Analytics.Streaming;

/// <summary>
/// What a pipeline tells its source when it starts reading: where each partition resumes and which partitions are
/// finished. The source tells the pipeline which partitions it will read, so the watermark waits for all of them.
/// </summary>
/// <remarks>
/// The pipeline builds the context from its last checkpoint and keeps it up to date: a partition becomes finished
/// when a saved checkpoint covers its end (a Kinesis consumer then starts the partition's children). Code that
/// enumerates a source without a pipeline creates the context itself and calls <see cref="MarkFinished"/>.
/// Thread-safe.
/// </remarks>
public sealed class SourceContext
{
    private readonly ConcurrentDictionary<string, PartitionCheckpoint> _partitions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string PartitionId, long? ReadTime)> _announced = new();
    private readonly SourceContext[]? _members;

    /// <summary>Creates a context that starts every partition from its beginning (or the source's configured start).</summary>
    public SourceContext()
    {
    }

    /// <summary>Creates a context that resumes the given partitions.</summary>
    /// <param name="partitions">The partitions' checkpoints, for example <see cref="PipelineCheckpoint.Partitions"/>.</param>
    public SourceContext(IEnumerable<PartitionCheckpoint> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        foreach (var partition in partitions)
        {
            _partitions[partition.PartitionId] = partition;
        }
    }

    /// <summary>
    /// Creates the context of a source read once for several pipelines (fan-out): a partition resumes after the
    /// earliest of their positions, is finished when it is finished for all of them, and announcements reach all.
    /// </summary>
    internal SourceContext(SourceContext[] members)
    {
        _members = members;
        IdleClock.Link([.. members.Select(m => m.Clock).OfType<IdleClock>()]);
    }

    /// <summary>Gets a value indicating whether the context resumes anything (some partition has a checkpoint).</summary>
    public bool IsResuming => _members?.Any(m => m.IsResuming) ?? !_partitions.IsEmpty;

    /// <summary>Gets the position after which to resume a partition.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <returns>The position, or <see langword="null"/> to start the partition as the source is configured to (its beginning, or a chosen start).</returns>
    public StreamPosition? GetResumePosition(string partitionId)
    {
        ArgumentNullException.ThrowIfNull(partitionId);
        if (_members is not null)
        {
            StreamPosition? earliest = null;
            foreach (var member in _members)
            {
                if (member.IsFinished(partitionId))
                {
                    continue;
                }

                if (member.GetResumePosition(partitionId) is not { } position)
                {
                    return null;
                }

                earliest = earliest is { } e && e.CompareTo(position) <= 0 ? e : position;
            }

            return earliest;
        }

        return _partitions.TryGetValue(partitionId, out var partition) ? partition.ResumeAfter : null;
    }

    /// <summary>Gets a value indicating whether a partition was read to its end and everything from it is delivered: do not read it again; partitions after it may start.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <returns><see langword="true"/> when the partition is finished.</returns>
    public bool IsFinished(string partitionId)
    {
        ArgumentNullException.ThrowIfNull(partitionId);
        if (_members is not null)
        {
            return _members.All(m => m.IsFinished(partitionId));
        }

        return _partitions.TryGetValue(partitionId, out var partition) && partition.IsFinished;
    }

    /// <summary>
    /// Tells the pipeline that the source will read these partitions (for example every shard ListShards returned),
    /// before their first batch: the watermark then waits for each of them until it delivers or stays idle for the
    /// idle timeout. Partitions the pipeline already knows are ignored.
    /// </summary>
    /// <param name="partitionIds">The partitions.</param>
    public void AnnouncePartitions(IEnumerable<string> partitionIds)
    {
        ArgumentNullException.ThrowIfNull(partitionIds);
        foreach (string id in partitionIds)
        {
            ArgumentException.ThrowIfNullOrEmpty(id, nameof(partitionIds));
            if (_members is null)
            {
                _announced.Enqueue((id, Clock?.Now()));
                continue;
            }

            foreach (var member in _members)
            {
                member.AnnouncePartitions([id]);
            }
        }
    }

    /// <summary>Records that a partition is finished (read to its end, everything delivered); the pipeline calls it after saving a checkpoint that covers the end.</summary>
    /// <param name="partitionId">The partition.</param>
    public void MarkFinished(string partitionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(partitionId);
        if (_members is not null)
        {
            foreach (var member in _members)
            {
                member.MarkFinished(partitionId);
            }

            return;
        }

        _partitions.AddOrUpdate(
            partitionId,
            static id => PartitionCheckpoint.Create(id, null, isFinished: true),
            static (_, existing) => existing.IsFinished ? existing : PartitionCheckpoint.Create(existing.PartitionId, existing.ResumeAfter, isFinished: true));
    }

    /// <summary>Gets the reading pipeline's idle clock, on which announcements are timed (<see langword="null"/> for a context made outside a pipeline).</summary>
    internal IdleClock? Clock { get; init; }

    /// <summary>Gets a value indicating whether the reading pipeline (or one of a fan-out's) holds its reading back.</summary>
    internal bool IsStalled => _members?.Any(m => m.IsStalled) ?? Clock?.IsStalled ?? false;

    /// <summary>Takes the next partition announced, with the time on the idle clock when it was.</summary>
    internal bool TryTakeAnnouncement(out (string PartitionId, long? ReadTime) announcement) => _announced.TryDequeue(out announcement);
}
