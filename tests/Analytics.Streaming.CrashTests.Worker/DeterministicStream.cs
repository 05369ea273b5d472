namespace Analytics.Streaming.CrashTests;

/// <summary>
/// The input of the deterministic mode, generated from a seed: three partitions of events (sequence numbers 1..n),
/// cut into batches, and one global order in which the batches are delivered. The same seed gives the same stream in
/// every process, so a restarted worker reads exactly what the killed one would have read.
/// </summary>
/// <remarks>
/// Events of a partition follow its clock (250 ms apart) with up to 2 s of jitter either way (inside the pipeline's
/// 3 s out-of-orderness). About 3% are from 8 to 40 s in the past: depending on the watermark when they arrive they
/// update a closed window within the allowed lateness or go to the late output. About 1% carry time 0 (the epoch),
/// which the pipeline rejects as an invalid time (dead letters). Partitions 1 and 2 end (their last batch says so);
/// partition 0 is still open when the source stops.
/// </remarks>
internal sealed class DeterministicStream
{
    /// <summary>The default seed: the same stream in every test run.</summary>
    public const int DefaultSeed = 20260101;

    /// <summary>The event time of the first event of partition 0.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly int[] Sizes = [420, 240, 360];
    private static readonly bool[] PartitionEnds = [false, true, true];

    private DeterministicStream(string[] partitionIds, SensorEvent[][] events, bool[] ends, (int Partition, int First, int Count)[] schedule)
    {
        PartitionIds = partitionIds;
        Events = events;
        Ends = ends;
        Schedule = schedule;
    }

    /// <summary>Gets the partition ids.</summary>
    public IReadOnlyList<string> PartitionIds { get; }

    /// <summary>Gets the events of each partition; the event at index <c>i</c> has sequence number <c>i + 1</c>.</summary>
    public IReadOnlyList<SensorEvent[]> Events { get; }

    /// <summary>Gets, per partition, whether its last batch ends it.</summary>
    public IReadOnlyList<bool> Ends { get; }

    /// <summary>Gets the batches in delivery order: the partition, the index of the first event and the number of events.</summary>
    public IReadOnlyList<(int Partition, int First, int Count)> Schedule { get; }

    /// <summary>Gets the number of events in all partitions.</summary>
    public int TotalEvents => Events.Sum(e => e.Length);

    /// <summary>Generates the stream of a seed.</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>The stream.</returns>
    public static DeterministicStream Generate(int seed)
    {
#pragma warning disable CA5394 // Test data: a seeded, reproducible generator is the point.
        var random = new Random(seed);
        var events = new SensorEvent[Sizes.Length][];
        var batches = new List<(int First, int Count)>[Sizes.Length];
        for (int p = 0; p < Sizes.Length; p++)
        {
            events[p] = new SensorEvent[Sizes[p]];
            for (int i = 0; i < Sizes[p]; i++)
            {
                long clock = Start.ToUnixTimeMilliseconds() + (i * 250L) + (p * 37L);
                double kind = random.NextDouble();
                long ts = kind < 0.01 ? 0
                    : kind < 0.04 ? clock - random.Next(8_000, 40_001)
                    : clock + random.Next(-2_000, 2_001);
                events[p][i] = new SensorEvent("k" + random.Next(4), ts, random.Next(1, 10));
            }

            batches[p] = [];
            for (int first = 0; first < Sizes[p];)
            {
                int count = Math.Min(random.Next(1, 7), Sizes[p] - first);
                batches[p].Add((first, count));
                first += count;
            }
        }

        // Batches of different partitions interleave at random, each partition's own order kept; a partition is
        // picked in proportion to the events it has left, so all of them advance at about the same pace.
        var schedule = new List<(int, int, int)>();
        var next = new int[Sizes.Length];
        var left = (int[])Sizes.Clone();
        while (left.Sum() > 0)
        {
            int pick = random.Next(left.Sum());
            int p = 0;
            while (pick >= left[p])
            {
                pick -= left[p];
                p++;
            }

            var (first, count) = batches[p][next[p]++];
            schedule.Add((p, first, count));
            left[p] -= count;
        }
#pragma warning restore CA5394

        return new DeterministicStream(
            [.. Enumerable.Range(0, Sizes.Length).Select(p => $"p{p}")],
            events,
            (bool[])PartitionEnds.Clone(),
            [.. schedule]);
    }
}
