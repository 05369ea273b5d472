using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Queries.Sessions;

/// <summary>A page view: the visitor and the event time, relative to its pass.</summary>
/// <param name="Visitor">The visitor id.</param>
/// <param name="TimeMs">The event time.</param>
public readonly record struct PageView(int Visitor, long TimeMs);

/// <summary>
/// Visits: 1,000,000 page views per pass of 10 s of event time, in order, from 50,000 visitors in five groups. Each
/// group browses for 4 s of every pass, starting 1.5 s after the previous group, so a visitor makes about 20 views
/// 200 ms apart, then is quiet for 6 s: with a 2-second gap, one session per visitor and pass, closing 2 s after its
/// last view.
/// </summary>
public static class SessionData
{
    /// <summary>Page views per pass.</summary>
    public const int EventsPerPass = 1_000_000;

    /// <summary>Event time per pass.</summary>
    public const long PassMs = 10_000;

    /// <summary>The session gap.</summary>
    public const long GapMs = 2_000;

    private const int Groups = 5;
    private const long ActiveMs = 4_000;
    private const long GroupStepMs = 1_500;

    /// <summary>Generates one pass.</summary>
    /// <param name="visitors">The number of visitors (a multiple of five).</param>
    /// <param name="seed">The random seed.</param>
    /// <returns>The pass.</returns>
    public static PassData<PageView> Generate(int visitors = 50_000, int seed = 11)
    {
        var random = new Random(seed);
        var views = new PageView[EventsPerPass];
        Span<int> active = stackalloc int[Groups];
        for (int i = 0; i < views.Length; i++)
        {
            long time = i * PassMs / EventsPerPass;
            int count = 0;
            for (int g = 0; g < Groups; g++)
            {
                if (time >= g * GroupStepMs && time < (g * GroupStepMs) + ActiveMs)
                {
                    active[count++] = g;
                }
            }

            int group = active[random.Next(count)];
            views[i] = new PageView(group + (Groups * random.Next(visitors / Groups)), time);
        }

        return new PassData<PageView>(views, PassMs);
    }
}

/// <summary>
/// Session windows: views per visit (a 2-second gap), one thread, figures per page view, steady state. Baseline: a
/// hand-written loop with the open visit of each visitor in a dictionary and their ends in a priority queue, so that
/// a visit is emitted as soon as event time passes its end, as the engine emits it. No Rx.NET figure: Rx.NET has no
/// event-time session operator.
/// </summary>
[BenchmarkCategory("Queries", "Sessions")]
public class SessionBenchmarks
{
    private IQueryRunner _library = null!;
    private IQueryRunner _handWritten = null!;

    /// <summary>Generates the data, checks that both agree, and builds fresh ones to time.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var pass = SessionData.Generate();
        QueryVerification.Verify(nameof(SessionBenchmarks), 3, ("hand-written", new SessionsHandWritten(pass)), ("library", Library(pass)));
        _library = Library(pass);
        _handWritten = new SessionsHandWritten(pass);
    }

    /// <summary>The hand-written loop (baseline).</summary>
    /// <returns>The visits so far.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = SessionData.EventsPerPass)]
    public long HandWritten()
    {
        _handWritten.RunPass();
        return _handWritten.Results;
    }

    /// <summary>The library: key by visitor, session windows, count.</summary>
    /// <returns>The visits so far.</returns>
    [Benchmark(OperationsPerInvoke = SessionData.EventsPerPass)]
    public long Library()
    {
        _library.RunPass();
        return _library.Results;
    }

    private static IQueryRunner Library(PassData<PageView> pass)
        => new LibraryRunner<PageView, int, long>(
            pass,
            clock => StreamPipeline.Create<PageView>()
                .WithEventTime(v => clock.OffsetMs + v.TimeMs)
                .KeyBy(v => v.Visitor)
                .Window(WindowSpec.Session(TimeSpan.FromMilliseconds(SessionData.GapMs)))
                .Aggregate(a => a.Count())
                .To(Sinks.Discard<WindowResult<int, long>>())
                .Build(),
            count => count);
}

/// <summary>
/// Visits by hand: each visitor's open visit (first view, last view, views) in a dictionary; each extension queues the
/// visit's new end in a priority queue, and the loop emits the visits whose end event time has reached (skipping queued
/// ends a later view superseded).
/// </summary>
/// <param name="pass">The page views.</param>
public sealed class SessionsHandWritten(PassData<PageView> pass) : IQueryRunner
{
    private readonly PassClock _clock = new(pass.PassMs);
    private readonly Dictionary<int, Visit> _open = [];
    private readonly PriorityQueue<int, long> _ends = new();

    /// <inheritdoc />
    public long Results { get; private set; }

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = _clock.OffsetMs;
        foreach (ref readonly var view in pass.Events.AsSpan())
        {
            long time = offset + view.TimeMs;
            EmitBefore(time);
            ref var visit = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_open, view.Visitor, out bool exists);
            visit = exists ? visit with { Last = time, Views = visit.Views + 1 } : new Visit(time, time, 1);
            _ends.Enqueue(view.Visitor, time + SessionData.GapMs);
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish() => EmitBefore(long.MaxValue);

    /// <summary>Emits the visits whose end is at or before the watermark (the latest event time, in order).</summary>
    private void EmitBefore(long watermark)
    {
        while (_ends.TryPeek(out int visitor, out long end) && end <= watermark)
        {
            _ends.Dequeue();
            if (_open.TryGetValue(visitor, out var visit) && visit.Last + SessionData.GapMs == end)
            {
                Results++;
                Checksum += visit.Views;
                _open.Remove(visitor);
            }
        }
    }

    private readonly record struct Visit(long First, long Last, long Views);
}
