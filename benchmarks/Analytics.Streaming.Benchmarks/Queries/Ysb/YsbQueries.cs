using System.Reactive.Linq;
using System.Runtime.InteropServices;

namespace Analytics.Streaming.Benchmarks.Queries.Ysb;

/// <summary>
/// The YSB queries as a user writes them with the library's public builder (delegates for every selector). A variant
/// with struct selectors adds a method here returning the same runner type, and a <c>[Benchmark]</c> next to
/// <see cref="YsbBenchmarks.Library"/>.
/// </summary>
public static class YsbPipelines
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(YsbData.WindowMs);
    private static readonly TimeSpan OutOfOrderness = TimeSpan.FromMilliseconds(YsbData.OutOfOrdernessMs);

    /// <summary>
    /// The full query: keep views, project (ad, time), join ad to campaign through a <see cref="LookupTable{TKey, TRow}"/>,
    /// count per campaign per 10-second tumbling window.
    /// </summary>
    /// <param name="data">The data.</param>
    /// <returns>The runner.</returns>
    public static IQueryRunner Full(YsbData data)
        => new LibraryRunner<AdEvent, Guid, long>(
            data.Pass,
            clock => StreamPipeline.Create<AdEvent>()
                .WithEventTime(e => clock.OffsetMs + e.EventTimeMs, OutOfOrderness)
                .Where(e => e.EventType == AdEventType.View)
                .Select(e => new AdView(e.AdId, e.EventTimeMs))
                .Enrich(data.Table, v => v.AdId, (v, campaign) => new CampaignView(campaign, v.EventTimeMs))
                .KeyBy(v => v.CampaignId)
                .Window(WindowSpec.Tumbling(Window))
                .Aggregate(a => a.Count())
                .To(Sinks.Discard<WindowResult<Guid, long>>())
                .Build(),
            count => count);

    /// <summary>The reduced shape of the TiLT/Trill/Grizzly comparisons: keep views, one global count per 10-second window.</summary>
    /// <param name="data">The data.</param>
    /// <returns>The runner.</returns>
    public static IQueryRunner Reduced(YsbData data)
        => new LibraryRunner<AdEvent, GlobalKey, long>(
            data.Pass,
            clock => StreamPipeline.Create<AdEvent>()
                .WithEventTime(e => clock.OffsetMs + e.EventTimeMs, OutOfOrderness)
                .Where(e => e.EventType == AdEventType.View)
                .Window(WindowSpec.Tumbling(Window))
                .Aggregate(a => a.Count())
                .To(Sinks.Discard<WindowResult<GlobalKey, long>>())
                .Build(),
            count => count);
}

/// <summary>
/// The full YSB query written by hand as a good engineer would: a dictionary for the join, a dictionary of counts per
/// open window (the window of the previous event cached), a watermark that trails the largest event time, windows
/// emitted when it passes their end.
/// </summary>
/// <param name="data">The data.</param>
public sealed class YsbHandWritten(YsbData data) : IQueryRunner
{
    private readonly AdEvent[] _events = data.Pass.Events;
    private readonly PassClock _clock = new(data.Pass.PassMs);
    private readonly Dictionary<Guid, Guid> _campaignOfAd = data.CreateDictionary();
    private readonly List<(long Start, Dictionary<Guid, long> Counts)> _open = [];
    private readonly Stack<Dictionary<Guid, long>> _pool = new();
    private Dictionary<Guid, long>? _current;
    private long _currentStart = long.MinValue;
    private long _maxMs = long.MinValue;
    private long _watermark = long.MinValue;
    private long _nextEnd = long.MinValue;

    /// <inheritdoc />
    public long Results { get; private set; }

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = _clock.OffsetMs;
        foreach (ref readonly var e in _events.AsSpan())
        {
            if (e.EventType != AdEventType.View || !_campaignOfAd.TryGetValue(e.AdId, out Guid campaign))
            {
                continue;
            }

            long time = offset + e.EventTimeMs;
            long start = time - (time % YsbData.WindowMs);
            if (start + YsbData.WindowMs <= _watermark)
            {
                continue; // late
            }

            if (start != _currentStart)
            {
                _current = WindowFor(start);
                _currentStart = start;
            }

            CollectionsMarshal.GetValueRefOrAddDefault(_current!, campaign, out _)++;
            if (time > _maxMs)
            {
                _maxMs = time;
                if (time - YsbData.OutOfOrdernessMs >= _nextEnd)
                {
                    Close(time - YsbData.OutOfOrdernessMs);
                }
            }
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish() => Close(long.MaxValue);

    private Dictionary<Guid, long> WindowFor(long start)
    {
        foreach (var (s, counts) in _open)
        {
            if (s == start)
            {
                return counts;
            }
        }

        var created = _pool.Count > 0 ? _pool.Pop() : new Dictionary<Guid, long>();
        _open.Add((start, created));
        return created;
    }

    private void Close(long watermark)
    {
        _watermark = watermark;
        _nextEnd = watermark == long.MaxValue ? long.MaxValue : watermark - (watermark % YsbData.WindowMs) + YsbData.WindowMs;
        for (int i = _open.Count - 1; i >= 0; i--)
        {
            var (start, counts) = _open[i];
            if (start + YsbData.WindowMs > watermark)
            {
                continue;
            }

            foreach (var (_, count) in counts)
            {
                Results++;
                Checksum += count;
            }

            counts.Clear();
            _pool.Push(counts);
            _open.RemoveAt(i);
            if (start == _currentStart)
            {
                _currentStart = long.MinValue;
                _current = null;
            }
        }
    }
}

/// <summary>The reduced YSB shape by hand: keep views, one counter per open window.</summary>
/// <param name="data">The data.</param>
public sealed class YsbReducedHandWritten(YsbData data) : IQueryRunner
{
    private readonly AdEvent[] _events = data.Pass.Events;
    private readonly PassClock _clock = new(data.Pass.PassMs);
    private readonly List<(long Start, long Count)> _open = [];
    private long _maxMs = long.MinValue;
    private long _watermark = long.MinValue;
    private long _nextEnd = long.MinValue;

    /// <inheritdoc />
    public long Results { get; private set; }

    /// <inheritdoc />
    public long Checksum { get; private set; }

    /// <inheritdoc />
    public void RunPass()
    {
        long offset = _clock.OffsetMs;
        long currentStart = long.MinValue;
        int current = -1;
        var open = CollectionsMarshal.AsSpan(_open);
        foreach (ref readonly var e in _events.AsSpan())
        {
            if (e.EventType != AdEventType.View)
            {
                continue;
            }

            long time = offset + e.EventTimeMs;
            long start = time - (time % YsbData.WindowMs);
            if (start + YsbData.WindowMs <= _watermark)
            {
                continue; // late
            }

            if (start != currentStart)
            {
                current = WindowFor(start);
                currentStart = start;
                open = CollectionsMarshal.AsSpan(_open);
            }

            open[current].Count++;
            if (time > _maxMs)
            {
                _maxMs = time;
                if (time - YsbData.OutOfOrdernessMs >= _nextEnd)
                {
                    Close(time - YsbData.OutOfOrdernessMs);
                    currentStart = long.MinValue;
                }
            }
        }

        _clock.Next();
    }

    /// <inheritdoc />
    public void Finish() => Close(long.MaxValue);

    private int WindowFor(long start)
    {
        for (int i = 0; i < _open.Count; i++)
        {
            if (_open[i].Start == start)
            {
                return i;
            }
        }

        _open.Add((start, 0));
        return _open.Count - 1;
    }

    private void Close(long watermark)
    {
        _watermark = watermark;
        _nextEnd = watermark == long.MaxValue ? long.MaxValue : watermark - (watermark % YsbData.WindowMs) + YsbData.WindowMs;
        for (int i = _open.Count - 1; i >= 0; i--)
        {
            if (_open[i].Start + YsbData.WindowMs <= watermark)
            {
                Results++;
                Checksum += _open[i].Count;
                _open.RemoveAt(i);
            }
        }
    }
}

/// <summary>
/// The full YSB query in Rx.NET 6: Where, Select, a dictionary join in Select, GroupByUntil window (ended by the
/// watermark), inside each window GroupBy campaign and Count.
/// </summary>
public sealed class YsbReactive : ReactiveRunner<AdEvent>
{
    /// <summary>Creates the query.</summary>
    /// <param name="data">The data.</param>
    public YsbReactive(YsbData data)
        : base((data ?? throw new ArgumentNullException(nameof(data))).Pass, YsbData.WindowMs, YsbData.OutOfOrdernessMs)
    {
        var campaignOfAd = data.CreateDictionary();
        var clock = Clock;
        Subscribe(Events
            .Where(e => e.EventType == AdEventType.View)
            .Select(e => new AdView(e.AdId, clock.OffsetMs + e.EventTimeMs))
            .Select(v => campaignOfAd.TryGetValue(v.AdId, out Guid campaign) ? new CampaignView(campaign, v.EventTimeMs) : default)
            .Where(v => v.CampaignId != Guid.Empty)
            .GroupByUntil(v => v.EventTimeMs - (v.EventTimeMs % YsbData.WindowMs), g => Until(g.Key + YsbData.WindowMs))
            .SelectMany(window => window.GroupBy(v => v.CampaignId).SelectMany(campaign => campaign.Count()))
            .Subscribe(count =>
            {
                Results++;
                Checksum += count;
            }));
    }

    /// <inheritdoc />
    protected override long TimeOf(in AdEvent e) => e.EventTimeMs;
}

/// <summary>The reduced YSB shape in Rx.NET 6: Where, GroupByUntil (window), Count.</summary>
public sealed class YsbReducedReactive : ReactiveRunner<AdEvent>
{
    /// <summary>Creates the query.</summary>
    /// <param name="data">The data.</param>
    public YsbReducedReactive(YsbData data)
        : base((data ?? throw new ArgumentNullException(nameof(data))).Pass, YsbData.WindowMs, YsbData.OutOfOrdernessMs)
    {
        var clock = Clock;
        Subscribe(Events
            .Where(e => e.EventType == AdEventType.View)
            .GroupByUntil(e => (clock.OffsetMs + e.EventTimeMs) / YsbData.WindowMs * YsbData.WindowMs, g => Until(g.Key + YsbData.WindowMs))
            .SelectMany(g => g.Count())
            .Subscribe(count =>
            {
                Results++;
                Checksum += count;
            }));
    }

    /// <inheritdoc />
    protected override long TimeOf(in AdEvent e) => e.EventTimeMs;
}
