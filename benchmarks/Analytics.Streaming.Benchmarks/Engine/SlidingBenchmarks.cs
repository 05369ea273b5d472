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
    private readonly CountingOutput<BenchEvent, int, long> _output = new();
    private SteadyStream _stream = null!;
    private WindowProcessor<BenchEvent, int, long> _processor = null!;

    /// <summary>Builds and fills the engine of <see cref="Slide60s"/> (each case builds only its own: filling one takes 60 passes).</summary>
    [GlobalSetup(Target = nameof(Slide60s))]
    public void Setup60s() => Setup(60_000);

    /// <summary>Builds and fills the engine of <see cref="Slide10s"/>.</summary>
    [GlobalSetup(Target = nameof(Slide10s))]
    public void Setup10s() => Setup(10_000);

    /// <summary>Builds and fills the engine of <see cref="Slide1s"/>.</summary>
    [GlobalSetup(Target = nameof(Slide1s))]
    public void Setup1s() => Setup(1_000);

    /// <summary>Builds and fills the engine of <see cref="Slide250ms"/>.</summary>
    [GlobalSetup(Target = nameof(Slide250ms))]
    public void Setup250ms() => Setup(250);

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide60s() => Run();

    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide10s() => Run();

    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide1s() => Run();

    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Slide250ms() => Run();

    private void Setup(int slideMs)
    {
        var stream = new SteadyStream(10_000);
        _stream = stream;
        _processor = StreamPipeline.Create<BenchEvent>()
            .WithEventTime(e => stream.TimeOf(e), TimeSpan.FromMilliseconds(100))
            .KeyBy(e => e.Key)
            .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(slideMs)))
            .Aggregate(a => a.Count())
            .To(Sinks.Discard<WindowResult<int, long>>())
            .Build()
            .CreateProcessor();

        // Fill the first window so that every operation runs in steady state.
        for (int pass = 0; pass < 60; pass++)
        {
            Run();
        }
    }

    private long Run()
    {
        foreach (var batch in _stream.Batches)
        {
            _processor.Process(batch, _output);
        }

        _stream.NextPass();
        return _output.Results;
    }
}
