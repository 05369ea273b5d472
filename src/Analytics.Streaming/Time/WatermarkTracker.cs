namespace Analytics.Streaming;

/// <summary>
/// Tracks event-time progress per source partition and combines it into one watermark: the smallest partition
/// watermark (largest event time minus the allowed out-of-orderness) among partitions that are neither idle nor
/// ended. Idle partitions (no records for the idle timeout, measured on the processing clock) do not hold it back.
/// When every partition is idle or ended, the largest partition watermark counts. The watermark never goes back.
/// </summary>
internal sealed class WatermarkTracker(long outOfOrdernessTicks, long idleTimeoutTicks)
{
    private readonly Dictionary<string, PartitionClock> _partitions = new(StringComparer.Ordinal);

    public long Current { get; private set; } = long.MinValue;

    /// <summary>Records a processed batch of a partition and recomputes the watermark.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <param name="maxEventTicks">The largest event time in the batch, or <see cref="long.MinValue"/> when it had none.</param>
    /// <param name="nowTicks">The processing time.</param>
    /// <param name="isEnd">Whether the partition ended with this batch.</param>
    public void OnBatch(string partitionId, long maxEventTicks, long nowTicks, bool isEnd)
    {
        if (!_partitions.TryGetValue(partitionId, out var clock))
        {
            clock = new PartitionClock { MaxEventTicks = long.MinValue, LastActivityTicks = nowTicks };
            _partitions.Add(partitionId, clock);
        }

        if (maxEventTicks != long.MinValue)
        {
            clock.LastActivityTicks = nowTicks;
            if (maxEventTicks > clock.MaxEventTicks)
            {
                clock.MaxEventTicks = maxEventTicks;
            }
        }

        clock.Ended |= isEnd;
        Recompute(nowTicks);
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

    private void Recompute(long nowTicks)
    {
        long activeMin = long.MaxValue;
        long anyMax = long.MinValue;
        bool anyActive = false;
        foreach (var clock in _partitions.Values)
        {
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

    private sealed class PartitionClock
    {
        public long MaxEventTicks;
        public long LastActivityTicks;
        public bool Ended;
    }
}
