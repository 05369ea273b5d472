using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Queries.Ysb;

/// <summary>
/// The Yahoo Streaming Benchmark query: keep views, project, join ad to campaign (1,000 campaigns x 10 ads), count per
/// campaign per 10-second tumbling window. One million events per operation (10 s of event time at 100,000 events/s,
/// up to 50 ms of disorder), one thread, figures per event, steady state (state kept across operations, each
/// operation the next 10 s). Baseline: a hand-written loop; also the same query in Rx.NET 6.
/// </summary>
[BenchmarkCategory("Queries", "YSB")]
public class YsbBenchmarks
{
    private IQueryRunner _library = null!;
    private IQueryRunner _handWritten = null!;
    private YsbReactive _reactive = null!;

    /// <summary>Generates the data, checks that the three implementations agree, and builds fresh ones to time.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var data = YsbData.Generate();
        using (var rx = new YsbReactive(data))
        {
            QueryVerification.Verify("YSB", 3, true, ("hand-written", new YsbHandWritten(data)), ("library", YsbPipelines.Full(data)), ("Rx.NET", rx));
        }

        _library = YsbPipelines.Full(data);
        _handWritten = new YsbHandWritten(data);
        _reactive = new YsbReactive(data);
    }

    /// <summary>Disposes the Rx subscription.</summary>
    [GlobalCleanup]
    public void Cleanup() => _reactive.Dispose();

    /// <summary>The hand-written loop (baseline).</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = YsbData.EventsPerPass)]
    public long HandWritten()
    {
        _handWritten.RunPass();
        return _handWritten.Results;
    }

    /// <summary>The library: the pipeline as a user writes it, driven through <c>CreateProcessor()</c>.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = YsbData.EventsPerPass)]
    public long Library()
    {
        _library.RunPass();
        return _library.Results;
    }

    /// <summary>Rx.NET 6.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = YsbData.EventsPerPass)]
    public long ReactiveExtensions()
    {
        _reactive.RunPass();
        return _reactive.Results;
    }
}

/// <summary>
/// The reduced YSB shape that the TiLT, Trill and Grizzly comparisons publish: keep views, one global count per
/// 10-second tumbling window. Same data and method as <see cref="YsbBenchmarks"/>.
/// </summary>
[BenchmarkCategory("Queries", "YSB")]
public class YsbReducedBenchmarks
{
    private IQueryRunner _library = null!;
    private IQueryRunner _handWritten = null!;
    private YsbReducedReactive _reactive = null!;

    /// <summary>Generates the data, checks that the three implementations agree, and builds fresh ones to time.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var data = YsbData.Generate();
        using (var rx = new YsbReducedReactive(data))
        {
            QueryVerification.Verify("YSB reduced", 3, true, ("hand-written", new YsbReducedHandWritten(data)), ("library", YsbPipelines.Reduced(data)), ("Rx.NET", rx));
        }

        _library = YsbPipelines.Reduced(data);
        _handWritten = new YsbReducedHandWritten(data);
        _reactive = new YsbReducedReactive(data);
    }

    /// <summary>Disposes the Rx subscription.</summary>
    [GlobalCleanup]
    public void Cleanup() => _reactive.Dispose();

    /// <summary>The hand-written loop (baseline).</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = YsbData.EventsPerPass)]
    public long HandWritten()
    {
        _handWritten.RunPass();
        return _handWritten.Results;
    }

    /// <summary>The library.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = YsbData.EventsPerPass)]
    public long Library()
    {
        _library.RunPass();
        return _library.Results;
    }

    /// <summary>Rx.NET 6.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = YsbData.EventsPerPass)]
    public long ReactiveExtensions()
    {
        _reactive.RunPass();
        return _reactive.Results;
    }
}
