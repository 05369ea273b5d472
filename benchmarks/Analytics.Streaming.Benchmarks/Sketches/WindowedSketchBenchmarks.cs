using System.Globalization;
using BenchmarkDotNet.Attributes;
using Analytics.Streaming.Benchmarks.Engine;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Benchmarks.Sketches;

/// <summary>
/// A sketch per page over 10,000 pages in one-minute tumbling windows, through the windowing engine, against a plain
/// count (the baseline) on the same events: distinct users per page (HyperLogLog at precision 10 or 14), the
/// latency quantiles per page, or the 10 most active users per page (top-K). About 10 events per page and window, as
/// in per-page metrics of a site with many pages.
/// </summary>
[MemoryDiagnoser]
public class WindowedSketchBenchmarks
{
    private const int Events = 200_000;
    private RecordBatch<PageView>[] _batches = [];
    private StreamPipeline<PageView, int, long> _count = null!;
    private Func<long> _sketch = null!;

    /// <summary>
    /// Gets or sets the sketch per page and window: <c>DistinctCount10</c> and <c>DistinctCount14</c> (HyperLogLog of
    /// the user, precision 10 or 14: up to 1 KiB and 3.3% error, or 16 KiB and 0.8%), <c>Quantiles</c> (the latency's
    /// p50 to p99.9 within 1%), or <c>TopK</c> (the 10 users with the most views, 100 counters).
    /// </summary>
    [Params("DistinctCount10", "DistinctCount14", "Quantiles", "TopK")]
    public string Sketch { get; set; } = "DistinctCount14";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        string[] users = new string[50_000];
        for (int i = 0; i < users.Length; i++)
        {
            users[i] = "user-" + i.ToString(CultureInfo.InvariantCulture);
        }

        // 200,000 events over two minutes: two windows of 10,000 keys each; latencies log-normal around 100 ms.
        var records = new StreamRecord<PageView>[Events];
        for (int i = 0; i < Events; i++)
        {
            double latency = Math.Exp(4.6 + (0.5 * (random.NextDouble() + random.NextDouble() - 1)));
            var view = new PageView(random.Next(10_000), users[random.Next(users.Length)], latency, start.AddTicks(i * (TimeSpan.TicksPerMinute * 2 / Events)));
            records[i] = new StreamRecord<PageView>(view, SequenceNumber.FromInt64(i + 1));
        }

        const int batchSize = 500;
        _batches = new RecordBatch<PageView>[Events / batchSize];
        for (int b = 0; b < _batches.Length; b++)
        {
            _batches[b] = new RecordBatch<PageView>("0", records.AsMemory(b * batchSize, batchSize));
        }

        _count = Pipeline(static a => a.Count());
        _sketch = Sketch switch
        {
            "DistinctCount10" => Runner(Pipeline(static a => a.DistinctCount(static e => e.UserId, precision: 10))),
            "DistinctCount14" => Runner(Pipeline(static a => a.DistinctCount(static e => e.UserId, precision: 14))),
            "Quantiles" => Runner(Pipeline(static a => a.Quantiles(static e => e.LatencyMs))),
            "TopK" => Runner(Pipeline(static a => a.TopK(static e => e.UserId, k: 10))),
            _ => throw new ArgumentException($"Unknown sketch {Sketch}."),
        };
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long Count() => Run(_count);

    [Benchmark(OperationsPerInvoke = Events)]
    public long WithSketch() => _sketch();

    private static StreamPipeline<PageView, int, TResult> Pipeline<TAccumulator, TResult, TAggregator>(
        Func<AggregateFactory<PageView>, Aggregation<PageView, TAggregator, TAccumulator, TResult>> aggregate)
        where TAggregator : struct, IAggregator<PageView, TAccumulator, TResult>
        => StreamPipeline.Create<PageView>()
            .WithEventTime(static e => e.Time)
            .KeyBy(static e => e.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(aggregate)
            .To(Sinks.Discard<WindowResult<int, TResult>>())
            .Build();

    private Func<long> Runner<TResult>(StreamPipeline<PageView, int, TResult> pipeline) => () => Run(pipeline);

    private long Run<TResult>(StreamPipeline<PageView, int, TResult> pipeline)
    {
        WindowProcessor<PageView, int, TResult> processor = pipeline.CreateProcessor();
        var output = new CountingOutput<PageView, int, TResult>();
        foreach (RecordBatch<PageView> batch in _batches)
        {
            processor.Process(batch, output);
        }

        processor.Complete(output);
        return output.Results;
    }

    public readonly record struct PageView(int Page, string UserId, double LatencyMs, DateTimeOffset Time);
}
