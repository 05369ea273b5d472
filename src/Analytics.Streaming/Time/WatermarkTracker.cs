namespace Analytics.Streaming;

/// <summary>
/// Tracks event-time progress per source partition and combines it into one watermark: the smallest partition
/// watermark (largest event time minus the allowed out-of-orderness) among partitions that are neither idle nor
/// ended. A partition counts from the moment the source announces it or delivers its first batch, so a partition
/// that has not delivered yet holds the watermark back (at its start) until it delivers or stays idle for the idle
/// timeout. Idle partitions (no records for the idle timeout, on the times the engine passes: in a pipeline the
/// reading time of each batch and tick, see <see cref="IdleClock"/>) do not hold it back; when every partition is idle
/// or ended, the largest partition watermark counts. The watermark never goes back.
/// </summary>
internal sealed class WatermarkTracker(long outOfOrdernessTicks, long idleTimeoutTicks)
{
    private readonly Dictionary<string, PartitionClock> _partitions = new(StringComparer.Ordinal);

    public long Current { get; private set; } = long.MinValue;

    public IReadOnlyDictionary<string, PartitionClock> Partitions => _partitions;

    /// <summary>Registers a partition the source will read; it holds the watermark from now on.</summary>
    public void Announce(string partitionId, long nowTicks)
    {
        if (!_partitions.ContainsKey(partitionId))
        {
            _partitions.Add(partitionId, new PartitionClock { MaxEventTicks = long.MinValue, LastActivityTicks = nowTicks });
            Recompute(nowTicks);
        }
    }

    /// <summary>Records a processed batch of a partition and recomputes the watermark.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <param name="maxEventTicks">The largest event time accepted from the batch, or <see cref="long.MinValue"/> when none.</param>
    /// <param name="active">Whether the batch makes the partition active again: it carried a new record (accepted, late or dead letter), or the source read it far behind the partition's newest record.</param>
    /// <param name="nowTicks">The processing time.</param>
    /// <param name="isEnd">Whether the partition ended with this batch.</param>
    public void OnBatch(string partitionId, long maxEventTicks, bool active, long nowTicks, bool isEnd)
    {
        if (!_partitions.TryGetValue(partitionId, out var clock))
        {
            clock = new PartitionClock { MaxEventTicks = long.MinValue, LastActivityTicks = nowTicks };
            _partitions.Add(partitionId, clock);
        }

        if (active)
        {
            clock.LastActivityTicks = nowTicks;
        }

        clock.HoldActivityTicks = nowTicks;
        if (maxEventTicks > clock.MaxEventTicks)
        {
            clock.MaxEventTicks = maxEventTicks;
        }

        clock.Ended |= isEnd;
        Recompute(nowTicks);
    }

    /// <summary>
    /// Records a batch of replays of a restored partition. Its progress stands, and so does the time it had gone
    /// without records when the checkpoint was taken: a replay neither makes an idle partition active nor lets the time
    /// it takes count as idleness (a partition replaying longer than the idle timeout would otherwise stop holding the
    /// watermark back while its new records are still to come). Holding it back longer cannot move the watermark, so
    /// nothing is recomputed.
    /// </summary>
    /// <param name="partitionId">The partition.</param>
    /// <param name="nowTicks">The processing time.</param>
    public void OnReplay(string partitionId, long nowTicks)
    {
        if (_partitions.TryGetValue(partitionId, out var clock))
        {
            clock.LastActivityTicks = Math.Max(clock.LastActivityTicks, nowTicks - clock.RestoredIdleTicks);
            clock.HoldActivityTicks = nowTicks;
        }
    }

    /// <summary>Re-evaluates idleness at processing time <paramref name="nowTicks"/>.</summary>
    public void OnTick(long nowTicks) => Recompute(nowTicks);

    /// <summary>Forces the watermark forward (it never moves back).</summary>
    public void AdvanceTo(long watermarkTicks)
    {
        if (watermarkTicks > Current)
        {
            Current = watermarkTicks;
        }
    }

    /// <summary>How long a partition has gone without records at <paramref name="nowTicks"/>.</summary>
    public static long IdleFor(PartitionClock clock, long nowTicks) => Math.Max(0, nowTicks - clock.LastActivityTicks);

    /// <summary>
    /// Restores a partition from a checkpoint. The time it had gone without records is kept (an idle partition stays
    /// idle), but the time the pipeline was down does not count: every other partition gets the rest of its idle
    /// timeout to deliver again.
    /// </summary>
    public void Restore(string partitionId, long maxEventTicks, bool ended, long idleTicks, long nowTicks)
        => _partitions[partitionId] = new PartitionClock { MaxEventTicks = maxEventTicks, Ended = ended, LastActivityTicks = nowTicks - idleTicks, RestoredIdleTicks = idleTicks };

    /// <summary>
    /// Holds a restored partition at <paramref name="watermarkTicks"/> (the checkpoint's watermark) until
    /// <see cref="Release"/>: its open windows are rebuilt from its replay, so none may close before the replay came,
    /// whatever its restored progress, and even if it had ended or was idle. A hold lasts while the partition delivers;
    /// one that delivers nothing for the idle timeout stops holding, as any idle partition does.
    /// </summary>
    public void Hold(string partitionId, long watermarkTicks, long nowTicks)
    {
        var clock = _partitions[partitionId];
        clock.HeldAt = watermarkTicks;
        clock.HoldActivityTicks = nowTicks;
    }

    /// <summary>Ends a partition's hold (its replay is done); the caller recomputes.</summary>
    public void Release(string partitionId)
    {
        if (_partitions.TryGetValue(partitionId, out var clock))
        {
            clock.HeldAt = null;
        }
    }

    /// <summary>Restores the combined watermark from a checkpoint.</summary>
    public void RestoreWatermark(long watermarkTicks) => Current = watermarkTicks;

    private void Recompute(long nowTicks)
    {
        long activeMin = long.MaxValue;
        long anyMax = long.MinValue;
        bool anyActive = false;
        foreach (var clock in _partitions.Values)
        {
            if (clock.HeldAt is { } held && (idleTimeoutTicks <= 0 || nowTicks - clock.HoldActivityTicks < idleTimeoutTicks))
            {
                anyActive = true;
                activeMin = Math.Min(activeMin, held);
                continue;
            }

            long partitionWatermark = clock.MaxEventTicks == long.MinValue ? long.MinValue : TimeMath.SaturatingSubtract(clock.MaxEventTicks, outOfOrdernessTicks);
            anyMax = Math.Max(anyMax, partitionWatermark);
            bool idle = idleTimeoutTicks > 0 && nowTicks - clock.LastActivityTicks >= idleTimeoutTicks;
            if (!clock.Ended && !idle)
            {
                anyActive = true;
                activeMin = Math.Min(activeMin, partitionWatermark);
            }
        }

        AdvanceTo(anyActive ? activeMin : anyMax);
    }

    internal sealed class PartitionClock
    {
        public long MaxEventTicks;
        public long LastActivityTicks;

        /// <summary>How long the partition had gone without records when the restored checkpoint was taken (0 when not restored).</summary>
        public long RestoredIdleTicks;
        public bool Ended;

        /// <summary>The watermark a restored partition holds until its replay is done (see <see cref="Hold"/>); <see langword="null"/> when not held.</summary>
        public long? HeldAt;

        /// <summary>When a held partition last delivered (or was restored): a hold lapses after the idle timeout without a batch.</summary>
        public long HoldActivityTicks;
    }
}
