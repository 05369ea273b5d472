using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Queries.Nexmark;

/// <summary>
/// Shared shape of the Nexmark benchmarks: one million events per operation from <see cref="NexmarkGenerator"/>
/// (10 s of event time at 100,000 events/s, in order), one thread, figures per event, steady state (state kept across
/// operations, each operation the next 10 s). Baseline: a hand-written loop; also the query in Rx.NET 6.
/// </summary>
public abstract class NexmarkBenchmarkBase
{
    private IQueryRunner _library = null!;
    private IQueryRunner _handWritten = null!;
    private IQueryRunner _reactive = null!;

    /// <summary>Generates the data, checks that the implementations agree, and builds fresh ones to time.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var pass = NexmarkGenerator.Generate();
        BeforeSetup(pass);
        var rx = CreateReactive(pass);
        QueryVerification.Verify(QueryName, 3, ("hand-written", CreateHandWritten(pass)), ("library", CreateLibrary(pass)), ("Rx.NET", rx));
        ((IDisposable)rx).Dispose();
        OnSetup(pass);
        _library = CreateLibrary(pass);
        _handWritten = CreateHandWritten(pass);
        _reactive = CreateReactive(pass);
    }

    /// <summary>Disposes the Rx subscription.</summary>
    [GlobalCleanup]
    public void Cleanup() => ((IDisposable)_reactive).Dispose();

    /// <summary>The hand-written loop (baseline).</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = NexmarkGenerator.EventsPerPass)]
    public long HandWritten()
    {
        _handWritten.RunPass();
        return _handWritten.Results;
    }

    /// <summary>The library: the pipeline as a user writes it, driven through <c>CreateProcessor()</c>.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = NexmarkGenerator.EventsPerPass)]
    public long Library()
    {
        _library.RunPass();
        return _library.Results;
    }

    /// <summary>Rx.NET 6.</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = NexmarkGenerator.EventsPerPass)]
    public long ReactiveExtensions()
    {
        _reactive.RunPass();
        return _reactive.Results;
    }

    /// <summary>Gets the benchmark class's name (BenchmarkDotNet runs a generated subclass).</summary>
    private string QueryName
    {
        get
        {
            var type = GetType();
            while (type.BaseType is { } parent && type.Name.StartsWith("Runnable", StringComparison.Ordinal))
            {
                type = parent;
            }

            return type.Name;
        }
    }

    /// <summary>Creates the library's runner.</summary>
    private protected abstract IQueryRunner CreateLibrary(PassData<NexmarkEvent> pass);

    /// <summary>Creates the hand-written runner.</summary>
    private protected abstract IQueryRunner CreateHandWritten(PassData<NexmarkEvent> pass);

    /// <summary>Creates the Rx.NET runner (disposable).</summary>
    private protected abstract IQueryRunner CreateReactive(PassData<NexmarkEvent> pass);

    /// <summary>Lets a derived class run something before the query is verified.</summary>
    private protected virtual void BeforeSetup(PassData<NexmarkEvent> pass)
    {
    }

    /// <summary>Lets a derived class build further runners of its own.</summary>
    private protected virtual void OnSetup(PassData<NexmarkEvent> pass)
    {
    }
}

/// <summary>
/// Nexmark Q1 (currency conversion: every bid's price x 0.89), map only in all three: the library's pipeline has no
/// window (<c>PerEvent()</c>), each converted bid is a result.
/// </summary>
[BenchmarkCategory("Queries", "Nexmark")]
public class NexmarkQ1Benchmarks : NexmarkBenchmarkBase
{
    private protected override IQueryRunner CreateLibrary(PassData<NexmarkEvent> pass) => NexmarkPipelines.Q1(pass);

    private protected override IQueryRunner CreateHandWritten(PassData<NexmarkEvent> pass) => new Q1HandWritten(pass);

    private protected override IQueryRunner CreateReactive(PassData<NexmarkEvent> pass) => new Q1Reactive(pass);
}

/// <summary>
/// Nexmark Q2 (selection: bids on auctions whose id is divisible by 123), filter only in all three (the library's
/// pipeline has no window: <c>PerEvent()</c>).
/// </summary>
[BenchmarkCategory("Queries", "Nexmark")]
public class NexmarkQ2Benchmarks : NexmarkBenchmarkBase
{
    private protected override IQueryRunner CreateLibrary(PassData<NexmarkEvent> pass) => NexmarkPipelines.Q2(pass);

    private protected override IQueryRunner CreateHandWritten(PassData<NexmarkEvent> pass) => new Q2HandWritten(pass);

    private protected override IQueryRunner CreateReactive(PassData<NexmarkEvent> pass) => new Q2Reactive(pass);
}

/// <summary>
/// Nexmark Q5 (hot items): bids per auction over 10-second windows sliding every 2 s, then the auction with the most
/// bids per window, as one library pipeline of windows fed by windows with <c>MaxBy</c>.
/// </summary>
[BenchmarkCategory("Queries", "Nexmark")]
public class NexmarkQ5Benchmarks : NexmarkBenchmarkBase
{
    private protected override IQueryRunner CreateLibrary(PassData<NexmarkEvent> pass) => NexmarkPipelines.Q5(pass);

    private protected override IQueryRunner CreateHandWritten(PassData<NexmarkEvent> pass) => new Q5HandWritten(pass);

    private protected override IQueryRunner CreateReactive(PassData<NexmarkEvent> pass) => new Q5Reactive(pass);
}

/// <summary>Nexmark Q7 (highest bid per 10-second tumbling window) with the exact 64-bit <c>Max</c>, written with lambdas and with static selectors.</summary>
[BenchmarkCategory("Queries", "Nexmark")]
public class NexmarkQ7Benchmarks : NexmarkBenchmarkBase
{
    private IQueryRunner _static = null!;

    /// <summary>The library with static selectors and a struct aggregator (no delegate call per event).</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = NexmarkGenerator.EventsPerPass)]
    public long LibraryStatic()
    {
        _static.RunPass();
        return _static.Results;
    }

    private protected override IQueryRunner CreateLibrary(PassData<NexmarkEvent> pass) => NexmarkPipelines.Q7Max(pass);

    private protected override IQueryRunner CreateHandWritten(PassData<NexmarkEvent> pass) => new Q7HandWritten(pass);

    private protected override IQueryRunner CreateReactive(PassData<NexmarkEvent> pass) => new Q7Reactive(pass);

    private protected override void OnSetup(PassData<NexmarkEvent> pass)
    {
        QueryVerification.Verify("Q7 static", 3, ("hand-written", new Q7HandWritten(pass)), ("library static", NexmarkStaticPipelines.Q7Max(pass)));
        _static = NexmarkStaticPipelines.Q7Max(pass);
    }
}

/// <summary>
/// Nexmark Q7 with <c>MaxBy(price, bid)</c>, which keeps the winning bid as Q7 outputs it. A class of its own, because
/// pipelines of one shape (same event, operators and key types) share their generic code, and with it the JIT's
/// profile of the selector calls: with <see cref="Beside"/> set to <c>Max</c>, the <c>Max</c> pipeline of
/// <see cref="NexmarkQ7Benchmarks"/> runs first in the same process, as in a service that runs both.
/// </summary>
[BenchmarkCategory("Queries", "Nexmark")]
public class NexmarkQ7MaxByBenchmarks : NexmarkBenchmarkBase
{
    /// <summary>Gets or sets the pipeline that runs in the process before this one: <c>none</c>, or <c>Max</c> (Q7 with <c>Max</c>).</summary>
    [Params("none", "Max")]
    public string Beside { get; set; } = "none";

    private protected override IQueryRunner CreateLibrary(PassData<NexmarkEvent> pass) => NexmarkPipelines.Q7MaxBy(pass);

    private protected override IQueryRunner CreateHandWritten(PassData<NexmarkEvent> pass) => new Q7HandWritten(pass);

    private protected override IQueryRunner CreateReactive(PassData<NexmarkEvent> pass) => new Q7Reactive(pass);

    private protected override void BeforeSetup(PassData<NexmarkEvent> pass)
    {
        if (Beside == "Max")
        {
            QueryVerification.Verify("Q7 Max, beside", 3, ("hand-written", new Q7HandWritten(pass)), ("library Max", NexmarkPipelines.Q7Max(pass)));
        }
    }
}

/// <summary>
/// Nexmark Q8 (monitor new users): the window join of persons and their auctions per 10-second tumbling window, one
/// keyed window over both sides in the library (see <see cref="NexmarkPipelines.Q8"/>).
/// </summary>
[BenchmarkCategory("Queries", "Nexmark")]
public class NexmarkQ8Benchmarks : NexmarkBenchmarkBase
{
    private IQueryRunner _static = null!;

    /// <summary>The library with static selectors (no delegate call per event before the window).</summary>
    /// <returns>The results so far.</returns>
    [Benchmark(OperationsPerInvoke = NexmarkGenerator.EventsPerPass)]
    public long LibraryStatic()
    {
        _static.RunPass();
        return _static.Results;
    }

    private protected override IQueryRunner CreateLibrary(PassData<NexmarkEvent> pass) => NexmarkPipelines.Q8(pass);

    private protected override IQueryRunner CreateHandWritten(PassData<NexmarkEvent> pass) => new Q8HandWritten(pass);

    private protected override IQueryRunner CreateReactive(PassData<NexmarkEvent> pass) => new Q8Reactive(pass);

    private protected override void OnSetup(PassData<NexmarkEvent> pass)
    {
        QueryVerification.Verify("Q8 static", 3, ("hand-written", new Q8HandWritten(pass)), ("library static", NexmarkStaticPipelines.Q8(pass)));
        _static = NexmarkStaticPipelines.Q8(pass);
    }
}
