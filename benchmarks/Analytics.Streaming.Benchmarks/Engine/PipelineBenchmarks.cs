using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Engine;

/// <summary>
/// The whole pipeline (in-memory source, bounded channels, processing stage, delivery to a discarding sink,
/// checkpoint tracking) against the engine alone on the same data: keyed tumbling count and sum, 10,000 keys, one
/// million events per operation, each operation a full run from empty state to the end of the source.
/// </summary>
[BenchmarkCategory("Engine", "Pipeline")]
public class PipelineBenchmarks
{
    private RecordBatch<BenchEvent>[] _batches = null!;
    private StreamPipeline<BenchEvent, int, (long, long)> _pipeline = null!;

    [GlobalSetup]
    public void Setup()
    {
        _batches = BenchData.ToBatches(BenchData.Generate(10_000));
        _pipeline = StreamPipeline.Create<BenchEvent>(new StreamPipelineOptions { Name = "bench" })
            .WithEventTime(e => BenchData.StartMs + e.UnixMs, TimeSpan.FromMilliseconds(100))
            .KeyBy(e => e.Key)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMilliseconds(100)))
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .To(Sinks.Discard<WindowResult<int, (long, long)>>())
            .Build();
    }

    /// <summary>The engine alone, driven synchronously.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long EngineOnly()
    {
        var processor = _pipeline.CreateProcessor();
        var output = new CountingOutput<BenchEvent, int, (long, long)>();
        foreach (var batch in _batches)
        {
            processor.Process(batch, output);
        }

        processor.Complete(output);
        return output.Results;
    }

    /// <summary>The pipeline from source to sink through its channels.</summary>
    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public async Task<long> WholePipeline()
    {
        await _pipeline.RunAsync(new InMemorySource<BenchEvent>(_batches)).ConfigureAwait(false);
        return _pipeline.Statistics.ResultsOut;
    }
}
