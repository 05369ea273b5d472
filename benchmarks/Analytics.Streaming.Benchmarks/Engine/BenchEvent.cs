namespace Analytics.Streaming.Benchmarks.Engine;

/// <summary>A click-like event: key, event time (Unix milliseconds, as JSON clickstreams carry it) and a value.</summary>
public readonly record struct BenchEvent(int Key, long UnixMs, int Value);

/// <summary>Pre-generated event streams and a discarding engine output, shared by the engine benchmarks.</summary>
public static class BenchData
{
    /// <summary>Events per benchmark operation.</summary>
    public const int EventsPerOperation = 1_000_000;

    /// <summary>Records per batch, as a Kinesis GetRecords page or a Lambda batch would deliver them.</summary>
    public const int BatchSize = 1_000;

    /// <summary>2026-01-01T00:00:00Z in Unix milliseconds: where generated streams start.</summary>
    public static readonly long StartMs = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>
    /// One second of event time at one million events per second, keys uniform over <paramref name="keys"/>, times
    /// increasing with up to 50 ms of disorder, cut into batches of <see cref="BatchSize"/>.
    /// </summary>
    public static BenchEvent[] Generate(int keys, int seed = 42)
    {
        var random = new Random(seed);
        var events = new BenchEvent[EventsPerOperation];
        for (int i = 0; i < events.Length; i++)
        {
            long jitter = random.Next(0, 50);
            events[i] = new BenchEvent(random.Next(keys), Math.Min(999, (i * 1000L / EventsPerOperation) + jitter), random.Next(1, 100));
        }

        return events;
    }

    /// <summary>Cuts events into batches of one partition, numbering them.</summary>
    public static RecordBatch<BenchEvent>[] ToBatches(BenchEvent[] events, string partition = "shardId-000000000000")
    {
        var batches = new RecordBatch<BenchEvent>[events.Length / BatchSize];
        for (int b = 0; b < batches.Length; b++)
        {
            var records = new StreamRecord<BenchEvent>[BatchSize];
            for (int i = 0; i < BatchSize; i++)
            {
                int index = (b * BatchSize) + i;
                records[i] = new StreamRecord<BenchEvent>(events[index], SequenceNumber.FromInt64(index + 1L));
            }

            batches[b] = new RecordBatch<BenchEvent>(partition, records);
        }

        return batches;
    }
}

/// <summary>An engine output that counts and drops what it receives.</summary>
public sealed class CountingOutput<TEvent, TKey, TResult> : IWindowOutput<TEvent, TKey, TResult>
{
    /// <summary>Gets the number of results received.</summary>
    public long Results { get; private set; }

    /// <summary>Gets the number of late records received.</summary>
    public long Late { get; private set; }

    /// <inheritdoc />
    public void OnResult(in WindowResult<TKey, TResult> result) => Results++;

    /// <inheritdoc />
    public void OnLateRecord(in LateRecord<TEvent> record) => Late++;

    /// <inheritdoc />
    public void OnDeadLetter(DeadLetter deadLetter) => throw new InvalidOperationException(deadLetter.ToString());
}

/// <summary>
/// Feeds the same pre-generated second of events again and again, each time one second later in event time, so that
/// a benchmark measures the engine in steady state (windows opening and closing) rather than from an empty start.
/// </summary>
public sealed class SteadyStream
{
    private readonly RecordBatch<BenchEvent>[] _batches;

    public SteadyStream(int keys) => _batches = BenchData.ToBatches(BenchData.Generate(keys));

    /// <summary>Gets the event-time offset (Unix milliseconds) added to every event of the current pass.</summary>
    public long OffsetMs { get; private set; } = BenchData.StartMs;

    /// <summary>Gets the batches of one pass.</summary>
    public RecordBatch<BenchEvent>[] Batches => _batches;

    /// <summary>Reads the event time (Unix milliseconds) of an event in the current pass.</summary>
    public long TimeOf(in BenchEvent e) => OffsetMs + e.UnixMs;

    /// <summary>Moves on to the next second.</summary>
    public void NextPass() => OffsetMs += 1000;
}
