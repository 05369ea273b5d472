using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Engine;

/// <summary>
/// The keyed tumbling count+sum of <see cref="TumblingBenchmarks"/> (10,000 keys, one-second windows) over the same
/// events as a struct (baseline) and as a class, as most users declare them (a <c>record</c>): the engine's code for
/// a reference-type event is shared by every such type (<c>__Canon</c>), with runtime lookups where it needs the type.
/// </summary>
[BenchmarkCategory("Engine", "Tumbling")]
public class ReferenceEventBenchmarks
{
    private const int Keys = 10_000;
    private SteadyStream _structStream = null!;
    private RecordBatch<ClickObject>[] _classBatches = null!;
    private long _classOffsetMs = BenchData.StartMs;
    private WindowProcessor<BenchEvent, int, (long, long)> _structProcessor = null!;
    private WindowProcessor<ClickObject, int, (long, long)> _classProcessor = null!;
    private CountingOutput<BenchEvent, int, (long, long)> _structOutput = null!;
    private CountingOutput<ClickObject, int, (long, long)> _classOutput = null!;

    [GlobalSetup]
    public void Setup()
    {
        _structStream = new SteadyStream(Keys);
        var stream = _structStream;
        _structProcessor = CountAndSum<BenchEvent>(e => stream.TimeOf(e), e => e.Key, e => (long)e.Value);
        _classBatches = [.. stream.Batches.Select(b => new RecordBatch<ClickObject>(b.PartitionId, b.Records.ToArray().Select(r => new StreamRecord<ClickObject>(new ClickObject(r.Value.Key, r.Value.UnixMs, r.Value.Value), r.Sequence)).ToArray()))];
        _classProcessor = CountAndSum<ClickObject>(e => _classOffsetMs + e.UnixMs, e => e.Key, e => (long)e.Value);
        _structOutput = new CountingOutput<BenchEvent, int, (long, long)>();
        _classOutput = new CountingOutput<ClickObject, int, (long, long)>();
    }

    /// <summary>The events as a <c>readonly record struct</c>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long StructEvents()
    {
        foreach (var batch in _structStream.Batches)
        {
            _structProcessor.Process(batch, _structOutput);
        }

        _structStream.NextPass();
        return _structOutput.Results;
    }

    /// <summary>The same events as a <c>sealed record</c> class.</summary>
    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long ClassEvents()
    {
        foreach (var batch in _classBatches)
        {
            _classProcessor.Process(batch, _classOutput);
        }

        _classOffsetMs += 1000;
        return _classOutput.Results;
    }

    /// <summary>The query of both benchmarks: keyed tumbling count and sum over one-second windows.</summary>
    private static WindowProcessor<T, int, (long, long)> CountAndSum<T>(Func<T, long> unixMs, Func<T, int> key, Func<T, long> value) =>
        StreamPipeline.Create<T>()
            .WithEventTime(unixMs, TimeSpan.FromMilliseconds(100))
            .KeyBy(key)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
            .Aggregate(a => a.Count().And(a.Sum(value)))
            .To(Sinks.Discard<WindowResult<int, (long, long)>>())
            .Build()
            .CreateProcessor();

    /// <summary>A click as most users declare it.</summary>
    public sealed record ClickObject(int Key, long UnixMs, int Value);
}
