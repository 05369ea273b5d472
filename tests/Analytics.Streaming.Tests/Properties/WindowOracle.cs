namespace Analytics.Streaming.Tests.Properties;

/// <summary>
/// A brute-force reference of the windowing semantics, written for clarity, not speed: every window and session is
/// kept explicitly, and each event is checked against all of them.
/// </summary>
internal static class WindowOracle
{
    public sealed record Outcome(Dictionary<(int Key, long Start, long End), (long Count, long Sum)> Table, List<(int Batch, int Index)> Late);

    /// <summary>Tumbling or sliding windows, sizes in seconds, single partition, watermark updated after each batch.</summary>
    public static Outcome Sliding(IReadOnlyList<TestEvent[]> batches, long size, long slide, long outOfOrderness, long lateness)
    {
        var table = new Dictionary<(int, long, long), (long, long)>();
        var late = new List<(int, int)>();
        long watermark = long.MinValue;
        long maxSeen = long.MinValue;
        for (int b = 0; b < batches.Count; b++)
        {
            for (int i = 0; i < batches[b].Length; i++)
            {
                var e = batches[b][i];
                bool contributed = false;
                long lastStart = FloorDiv(e.Seconds, slide) * slide;
                for (long start = lastStart; start > e.Seconds - size; start -= slide)
                {
                    long end = start + size;
                    if (watermark != long.MinValue && end + lateness <= watermark)
                    {
                        continue;
                    }

                    contributed = true;
                    table.TryGetValue((e.Key, start, end), out var agg);
                    table[(e.Key, start, end)] = (agg.Item1 + 1, agg.Item2 + e.Value);
                }

                if (!contributed)
                {
                    late.Add((b, i));
                }
                else
                {
                    maxSeen = Math.Max(maxSeen, e.Seconds);
                }
            }

            if (maxSeen != long.MinValue)
            {
                watermark = Math.Max(watermark, maxSeen - outOfOrderness);
            }
        }

        return new Outcome(table, late);
    }

    /// <summary>Session windows with gap in seconds: events closer than the gap share a session.</summary>
    public static Outcome Sessions(IReadOnlyList<TestEvent[]> batches, long gap, long outOfOrderness, long lateness)
    {
        var sessions = new List<Session>();
        var late = new List<(int, int)>();
        long watermark = long.MinValue;
        long maxSeen = long.MinValue;
        for (int b = 0; b < batches.Count; b++)
        {
            foreach (var s in sessions)
            {
                s.Purged |= watermark != long.MinValue && s.End + lateness <= watermark;
            }

            for (int i = 0; i < batches[b].Length; i++)
            {
                var e = batches[b][i];
                var overlapping = sessions.Where(s => !s.Purged && s.Key == e.Key && s.Start < e.Seconds + gap && e.Seconds < s.End).ToList();
                if (overlapping.Count == 0)
                {
                    if (watermark != long.MinValue && e.Seconds + gap + lateness <= watermark)
                    {
                        late.Add((b, i));
                        continue;
                    }

                    sessions.Add(new Session { Key = e.Key, Start = e.Seconds, End = e.Seconds + gap, Count = 1, Sum = e.Value });
                }
                else
                {
                    var merged = overlapping[0];
                    foreach (var other in overlapping.Skip(1))
                    {
                        merged.Start = Math.Min(merged.Start, other.Start);
                        merged.End = Math.Max(merged.End, other.End);
                        merged.Count += other.Count;
                        merged.Sum += other.Sum;
                        sessions.Remove(other);
                    }

                    merged.Start = Math.Min(merged.Start, e.Seconds);
                    merged.End = Math.Max(merged.End, e.Seconds + gap);
                    merged.Count++;
                    merged.Sum += e.Value;
                }

                maxSeen = Math.Max(maxSeen, e.Seconds);
            }

            if (maxSeen != long.MinValue)
            {
                watermark = Math.Max(watermark, maxSeen - outOfOrderness);
            }
        }

        return new Outcome(sessions.ToDictionary(s => (s.Key, s.Start, s.End), s => (s.Count, s.Sum)), late);
    }

    private static long FloorDiv(long a, long b) => (long)Math.Floor((double)a / b);

    private sealed class Session
    {
        public int Key;
        public long Start;
        public long End;
        public long Count;
        public long Sum;
        public bool Purged;
    }
}
