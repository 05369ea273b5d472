using Analytics.Streaming.Scoring;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// The dashboard's live state, fed by the pipelines' sinks and the stream tap; each change raises the version, which
/// wakes the server-sent event streams. Thread-safe: sinks of different pipelines call it concurrently.
/// </summary>
public sealed class DashboardState(TimeProvider time, IngestStatistics ingest, int recentEvents = 50)
{
    private static readonly string[] TrafficFeatures = ["events per second", "p99 load time", "unique visitors"];

    private readonly Lock _gate = new();
    private readonly SortedDictionary<DateTimeOffset, MinutePoint> _minutes = [];
    private readonly Dictionary<DateTimeOffset, long> _minuteVersions = [];
    private readonly SortedDictionary<DateTimeOffset, (HourPoint Point, long Records)> _hours = [];
    private readonly SortedDictionary<DateTimeOffset, (long Events, long Visitors, long Records)> _days = [];
    private readonly Queue<SecondPoint> _seconds = new();
    private readonly Queue<Anomaly> _anomalies = new();
    private readonly SortedDictionary<DateTimeOffset, (TopLists Lists, long Records)> _top = [];
    private readonly LinkedList<RecentEvent> _recent = new();
    private readonly RandomCutForest _forest = new(new RandomCutForestOptions { Dimensions = 3, TreeCount = 30, SampleSize = 64, OutputAfter = 16 });
    private readonly double[] _why = new double[3];
    private long _droppedMinuteEvents;
    private long _droppedDayEvents;
    private long _abnormalSeconds;
    private long _version;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<IReadOnlyList<PipelineInfo>> _pipelines = () => [];

    /// <summary>Gets or sets how the service runs (<c>embedded</c>, <c>kinesis</c>, ...), shown on the dashboard.</summary>
    public string Mode { get; set; } = "embedded";

    /// <summary>Gets or sets where the data lake is written.</summary>
    public string? Lake { get; set; }

    /// <summary>Gets the current version; it grows with every change.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Sets the source of the pipelines' progress (watermarks, counts).</summary>
    public void UsePipelines(Func<IReadOnlyList<PipelineInfo>> pipelines) => _pipelines = pipelines ?? throw new ArgumentNullException(nameof(pipelines));

    /// <summary>Waits until the version is past <paramref name="seen"/>, or the timeout passes.</summary>
    public async Task WaitForChangeAsync(long seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_gate)
        {
            if (_version > seen)
            {
                return;
            }

            changed = _changed.Task;
        }

        try
        {
            await changed.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>Per-minute window results (live updates and closed windows).</summary>
    public ValueTask OnMinutesAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>> results, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var r in results.Span)
            {
                var start = r.Window.Start;
                if (_minuteVersions.TryGetValue(start, out long records) && records > r.RecordCount)
                {
                    continue;
                }

                _minuteVersions[start] = r.RecordCount;
                _minutes[start] = new MinutePoint(start, r.Value.Count, r.Value.Visitors, Round(r.Value.Latency.P50), Round(r.Value.Latency.P99), r.Reason != EmitReason.Update);
            }

            while (_minutes.Count > 180)
            {
                var oldest = _minutes.First();
                _droppedMinuteEvents += oldest.Value.Events;
                _minutes.Remove(oldest.Key);
                _minuteVersions.Remove(oldest.Key);
            }

            Changed();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Per-hour window results.</summary>
    public ValueTask OnHoursAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long Count, long Visitors)>> results, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var r in results.Span)
            {
                if (_hours.TryGetValue(r.Window.Start, out var known) && known.Records > r.RecordCount)
                {
                    continue;
                }

                _hours[r.Window.Start] = (new HourPoint(r.Window.Start, r.Value.Count, r.Value.Visitors, r.Reason != EmitReason.Update), r.RecordCount);
            }

            while (_hours.Count > 48)
            {
                _hours.Remove(_hours.First().Key);
            }

            Changed();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Per-day window results (unique visitors today).</summary>
    public ValueTask OnDaysAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long Count, long Visitors)>> results, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var r in results.Span)
            {
                if (_days.TryGetValue(r.Window.Start, out var known) && known.Records > r.RecordCount)
                {
                    continue;
                }

                _days[r.Window.Start] = (r.Value.Count, r.Value.Visitors, r.RecordCount);
            }

            while (_days.Count > 3)
            {
                _droppedDayEvents += _days.First().Value.Events;
                _days.Remove(_days.First().Key);
            }

            Changed();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Closed one-second windows: scored by the random cut forest over (events, p99 load time, visitors).</summary>
    public ValueTask OnSecondsAsync(ReadOnlyMemory<WindowResult<GlobalKey, (long Count, QuantileSummary Latency, long Visitors)>> results, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var r in results.Span)
            {
                (long events, QuantileSummary latency, long visitors) = r.Value;
                var score = _forest.Update([events, latency.P99, visitors], _why);
                _seconds.Enqueue(new SecondPoint(r.Window.Start, events, Round(latency.P99), visitors, Math.Round(score.Score, 3), score.IsAnomaly));
                if (score.IsAnomaly)
                {
                    int top = Array.IndexOf(_why, _why.Max());
                    _anomalies.Enqueue(new Anomaly(r.Window.Start, Math.Round(score.Score, 2), TrafficFeatures[Math.Max(0, top)], events, Round(latency.P99), visitors));
                    _abnormalSeconds++;
                }
            }

            while (_seconds.Count > 180)
            {
                _seconds.Dequeue();
            }

            while (_anomalies.Count > 50)
            {
                _anomalies.Dequeue();
            }

            Changed();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Sliding five-minute windows of top pages, menu items, referrers and user agents.</summary>
    public ValueTask OnTopAsync(ReadOnlyMemory<WindowResult<GlobalKey, (TopKResult<string> Pages, TopKResult<string> Items, TopKResult<string> Referrers, TopKResult<string> Agents)>> results, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var r in results.Span)
            {
                if (_top.TryGetValue(r.Window.Start, out var known) && known.Records > r.RecordCount)
                {
                    continue;
                }

                var v = r.Value;
                _top[r.Window.Start] = (new TopLists(r.Window.Start, r.Window.End, v.Pages.TotalCount, Rank(v.Pages), Rank(v.Items), Rank(v.Referrers), Rank(v.Agents)), r.RecordCount);
            }

            // Keep the windows that contain the newest window's start: the earliest of them covers the last five minutes.
            if (_top.Count > 0)
            {
                var newest = _top.Keys.Last();
                foreach (var stale in _top.Where(t => t.Value.Lists.End <= newest).Select(t => t.Key).ToList())
                {
                    _top.Remove(stale);
                }
            }

            Changed();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Events as the pipelines read them: the last N for the dashboard's table.</summary>
    public void OnEvents(ReadOnlySpan<StreamRecord<ClickEvent>> records)
    {
        if (records.IsEmpty)
        {
            return;
        }

        lock (_gate)
        {
            int skip = Math.Max(0, records.Length - recentEvents);
            foreach (var record in records[skip..])
            {
                var e = record.Value;
                _recent.AddFirst(new RecentEvent(e.Timestamp, e.Page, e.UserId, e.Referrer, e.UserAgent, e.LatencyMs, e.MenuItem));
                if (_recent.Count > recentEvents)
                {
                    _recent.RemoveLast();
                }
            }

            Changed();
        }
    }

    /// <summary>Builds what the dashboard shows now.</summary>
    public DashboardSnapshot Snapshot()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            // The pipelines' counters are read while no result can arrive: a pipeline counts a record before it
            // delivers the results it made, so the counters shown are never behind the windows shown.
            var pipelines = _pipelines();
            var watermarks = pipelines.Where(p => p.Watermark is not null && p.RecordsIn > 0).Select(p => p.Watermark!.Value).ToList();
            DateTimeOffset? watermark = watermarks.Count > 0 ? watermarks.Min() : null;
            var minute = _minutes.Count > 0 ? _minutes.Last().Value : null;
            var hour = _hours.Count > 0 ? _hours.Last().Value.Point : null;
            var day = _days.Count > 0 ? _days.Last().Value : default;
            // The total comes from the day windows: after a restart from a checkpoint they are restored with
            // everything counted before it, while minutes that closed before the restart are not emitted again.
            var totals = new Totals(
                _droppedDayEvents + _days.Values.Sum(d => d.Events),
                minute?.Events ?? 0,
                hour?.Events ?? 0,
                hour?.Visitors ?? 0,
                day.Visitors,
                minute?.P50 ?? 0,
                minute?.P99 ?? 0,
                _abnormalSeconds);
            return new DashboardSnapshot(
                _version,
                now,
                Mode,
                totals,
                watermark,
                watermark is { } w ? Math.Round(Math.Max(0, (now - w).TotalSeconds), 2) : null,
                pipelines,
                _minutes.Values.TakeLast(60).ToList(),
                _hours.Values.Select(h => h.Point).TakeLast(24).ToList(),
                _seconds.TakeLast(120).ToList(),
                _top.Count > 0 ? _top.First().Value.Lists : null,
                _anomalies.Reverse().ToList(),
                _recent.ToList(),
                new IngestInfo(ingest.AcceptedEvents, ingest.AcceptedRequests, ingest.GeneratedEvents, ingest.RejectedRequests, ingest.RejectedByReason()),
                Lake);
        }
    }

    /// <summary>Marks a change that is not a pipeline result (a refused beacon), so the dashboard's counters move at once.</summary>
    public void Touch()
    {
        lock (_gate)
        {
            Changed();
        }
    }

    private void Changed()
    {
        _version++;
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private static IReadOnlyList<Ranked> Rank(TopKResult<string> top)
        => top.Items.Where(h => h.Item is not null).OrderByDescending(h => h.Count).ThenBy(h => h.Item, StringComparer.Ordinal).Take(10).Select(h => new Ranked(h.Item, h.Count)).ToList();

    private static double Round(double value) => double.IsFinite(value) ? Math.Round(value, 1) : 0;
}
