using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Engine;

/// <summary>
/// Keyed sliding count over 60-second windows with slides of 60, 10, 1 and 0.25 seconds, 10,000 keys, one million
/// events per operation at one million events per second of event time, in steady state. The 60-second slide is the
/// baseline: slicing keeps the cost per event flat, only the number of results grows with the slide.
/// </summary>
[BenchmarkCategory("Engine", "Sliding")]
public class SlidingBenchmarks
{
    private readonly Dictionary<string, (SteadyStream Stream, WindowProcessor<BenchEvent, int, long> Processor)> _engines = [];
    private readonly CountingOutput<BenchEvent, int, long> _output = new();

    [GlobalSetup]
    public void Setup()
    {
        foreach (var (name, slide) in new[] { ("60s", 60_000), ("10s", 10_000), ("1s", 1_000), ("250ms", 250) })
        {
            var stream = new SteadyStream(10_000);
            var processor = StreamPipeline.Create<BenchEvent>()
                .WithEventTime(e => stream.TimeOf(e), TimeSpan.FromMilliseconds(100))
                .KeyBy(e => e.Key)
                .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(slide)))
                .Aggregate(a => a.Count())
                .To(Sinks.Discard<WindowResult<int, long>>())
                .Build()
                .CreateProcessor();

            // Fill the first window so that every operation runs in steady state.
            for (int pass = 0; pass < 60; pass++)
            {
                Run(stream, processor);
            }

            _engines[name] = (stream, processor);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide60s() => Run("60s");

    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide10s() => Run("10s");

    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide1s() => Run("1s");

    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide250ms() => Run("250ms");

    private long Run(string name)
    {
        var (stream, processor) = _engines[name];
        Run(stream, processor);
        return _output.Results;
    }

    private void Run(SteadyStream stream, WindowProcessor<BenchEvent, int, long> processor)
    {
        foreach (var batch in stream.Batches)
        {
            processor.Process(batch, _output);
        }

        stream.NextPass();
    }
}
