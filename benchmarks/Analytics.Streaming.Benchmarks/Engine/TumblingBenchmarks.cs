using System.Reactive.Linq;
using System.Reactive.Subjects;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Engine;

/// <summary>
/// Keyed tumbling count and sum over one-second windows, one thread, one million events per operation (reported per
/// event). Baselines in the same run: the query in System.Reactive 6, and a straightforward hand-written loop over a
/// <see cref="Dictionary{TKey, TValue}"/>.
/// </summary>
[BenchmarkCategory("Engine", "Tumbling")]
public class TumblingBenchmarks
{
    private SteadyStream _stream = null!;
    private SteadyStream _staticStream = null!;
    private WindowProcessor<BenchEvent, int, (long, long)> _processor = null!;
    private WindowProcessor<BenchEvent, int, (long, long)> _staticProcessor = null!;
    private CountingOutput<BenchEvent, int, (long, long)> _output = null!;
    private BenchEvent[] _events = null!;
    private HandWrittenTumbling _handWritten = null!;

    /// <summary>Distinct keys.</summary>
    [Params(100, 10_000, 1_000_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _stream = new SteadyStream(Keys);
        var stream = _stream;
        _processor = StreamPipeline.Create<BenchEvent>()
            .WithEventTime(e => stream.TimeOf(e), TimeSpan.FromMilliseconds(100))
            .KeyBy(e => e.Key)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .To(Sinks.Discard<WindowResult<int, (long, long)>>())
            .Build()
            .CreateProcessor();
        _staticStream = new SteadyStream(Keys);
        StaticTime.Stream = _staticStream;
        _staticProcessor = StreamPipeline.Create<BenchEvent>()
            .WithEventTime<StaticTime>(TimeSpan.FromMilliseconds(100))
            .KeyBy<StaticKey, int>()
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .To(Sinks.Discard<WindowResult<int, (long, long)>>())
            .Build()
            .CreateProcessor();
        _output = new CountingOutput<BenchEvent, int, (long, long)>();
        _events = [.. _stream.Batches.SelectMany(b => b.Records.ToArray().Select(r => r.Value))];
        _handWritten = new HandWrittenTumbling(windowMs: 1000);
    }

    /// <summary>Analytics.Streaming's engine, fed batch by batch.</summary>
    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long Engine()
    {
        foreach (var batch in _stream.Batches)
        {
            _processor.Process(batch, _output);
        }

        _stream.NextPass();
        return _output.Results;
    }

    /// <summary>The same engine with the time and the key read by static selectors (no delegate call for them).</summary>
    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long EngineStaticSelectors()
    {
        foreach (var batch in _staticStream.Batches)
        {
            _staticProcessor.Process(batch, _output);
        }

        _staticStream.NextPass();
        return _output.Results;
    }

    /// <summary>A hand-written loop: a dictionary keyed by (key, window), flushed when event time passes a window end.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long HandWrittenDictionary()
    {
        long offset = _handWritten.Offset;
        foreach (var e in _events)
        {
            _handWritten.Add(e.Key, offset + e.UnixMs, e.Value);
        }

        _handWritten.Offset += 1000;
        return _handWritten.Results;
    }

    /// <summary>The same query in Rx.NET 6: GroupBy key and window, Aggregate each group.</summary>
    [Benchmark(OperationsPerInvoke = BenchData.EventsPerOperation)]
    public long ReactiveExtensions()
    {
        long results = 0;
        var subject = new Subject<BenchEvent>();
        using var subscription = subject
            .GroupBy(e => (e.Key, Window: e.UnixMs / 1000))
            .SelectMany(group => group.Aggregate((Count: 0L, Sum: 0L), (acc, e) => (acc.Count + 1, acc.Sum + e.Value)))
            .Subscribe(_ => results++);
        foreach (var e in _events)
        {
            subject.OnNext(e);
        }

        subject.OnCompleted();
        return results;
    }

    private readonly struct StaticKey : IKeySelector<BenchEvent, int>
    {
        public static int Select(in BenchEvent value) => value.Key;
    }

    private readonly struct StaticTime : IUnixTimeSelector<BenchEvent>
    {
        public static SteadyStream Stream { get; set; } = null!;

        public static long Select(in BenchEvent value) => Stream.TimeOf(value);
    }

    /// <summary>What a developer would write by hand for the same query.</summary>
    private sealed class HandWrittenTumbling(long windowMs)
    {
        private readonly Dictionary<(int Key, long Window), (long Count, long Sum)> _windows = [];
        private readonly List<(int Key, long Window)> _closed = [];
        private long _maxMs = long.MinValue;
        private long _openFrom = long.MinValue;

        public long Offset { get; set; } = BenchData.StartMs;

        public long Results { get; private set; }

        public void Add(int key, long unixMs, int value)
        {
            long window = unixMs / windowMs;
            if (window < _openFrom)
            {
                return;
            }

            _windows.TryGetValue((key, window), out var aggregate);
            _windows[(key, window)] = (aggregate.Count + 1, aggregate.Sum + value);
            if (unixMs > _maxMs)
            {
                _maxMs = unixMs;
                long watermarkWindow = (unixMs - 100) / windowMs;
                if (watermarkWindow > _openFrom)
                {
                    _openFrom = watermarkWindow;
                    foreach (var (k, _) in _windows)
                    {
                        if (k.Window < _openFrom)
                        {
                            _closed.Add(k);
                        }
                    }

                    foreach (var k in _closed)
                    {
                        _windows.Remove(k);
                        Results++;
                    }

                    _closed.Clear();
                }
            }
        }
    }
}
