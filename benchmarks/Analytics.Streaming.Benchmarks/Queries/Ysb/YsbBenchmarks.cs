using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Queries.Ysb;

/// <summary>
/// The three implementations of one YSB shape, timed alike: one million events per operation (10 s of event time at
/// 100,000 events/s, up to 50 ms of disorder), one thread, figures per event, steady state (state kept across
/// operations, each operation the next 10 s). Baseline: a hand-written loop; also the same query in Rx.NET 6.
/// </summary>
public abstract class YsbBenchmarkBase
{
    private IQueryRunner _library = null!;
    private IQueryRunner _handWritten = null!;
    private ReactiveRunner<AdEvent> _reactive = null!;

    /// <summary>Generates the data, checks that the three implementations agree, and builds fresh ones to time.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var data = YsbData.Generate();
        using (var rx = CreateReactive(data))
        {
            QueryVerification.Verify(QueryName, 3, ("hand-written", CreateHandWritten(data)), ("library", CreateLibrary(data)), ("Rx.NET", rx));
        }

        _library = CreateLibrary(data);
        _handWritten = CreateHandWritten(data);
        _reactive = CreateReactive(data);
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

    private protected abstract string QueryName { get; }

    private protected abstract IQueryRunner CreateLibrary(YsbData data);

    private protected abstract IQueryRunner CreateHandWritten(YsbData data);

    private protected abstract ReactiveRunner<AdEvent> CreateReactive(YsbData data);
}

/// <summary>
/// The Yahoo Streaming Benchmark query: keep views, project, join ad to campaign (1,000 campaigns x 10 ads), count per
/// campaign per 10-second tumbling window.
/// </summary>
[BenchmarkCategory("Queries", "YSB")]
public class YsbBenchmarks : YsbBenchmarkBase
{
    private protected override string QueryName => "YSB";

    private protected override IQueryRunner CreateLibrary(YsbData data) => YsbPipelines.Full(data);

    private protected override IQueryRunner CreateHandWritten(YsbData data) => new YsbHandWritten(data);

    private protected override ReactiveRunner<AdEvent> CreateReactive(YsbData data) => new YsbReactive(data);
}

/// <summary>
/// The reduced YSB shape that the TiLT, Trill and Grizzly comparisons publish: keep views, one global count per
/// 10-second tumbling window. Same data and method as <see cref="YsbBenchmarks"/>.
/// </summary>
[BenchmarkCategory("Queries", "YSB")]
public class YsbReducedBenchmarks : YsbBenchmarkBase
{
    private protected override string QueryName => "YSB reduced";

    private protected override IQueryRunner CreateLibrary(YsbData data) => YsbPipelines.Reduced(data);

    private protected override IQueryRunner CreateHandWritten(YsbData data) => new YsbReducedHandWritten(data);

    private protected override ReactiveRunner<AdEvent> CreateReactive(YsbData data) => new YsbReducedReactive(data);
}
