namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>Everything the dashboard shows, as sent to it (JSON, camelCase) over server-sent events and by <c>/api/metrics</c>.</summary>
public sealed record DashboardSnapshot(
    long Version,
    DateTimeOffset GeneratedAt,
    string Mode,
    Totals Totals,
    DateTimeOffset? Watermark,
    double? LagSeconds,
    IReadOnlyList<PipelineInfo> Pipelines,
    IReadOnlyList<MinutePoint> PerMinute,
    IReadOnlyList<HourPoint> PerHour,
    IReadOnlyList<SecondPoint> PerSecond,
    TopLists? Top,
    IReadOnlyList<Anomaly> Abnormal,
    IReadOnlyList<RecentEvent> Recent,
    IngestInfo Ingest,
    string? Lake);

/// <summary>The headline numbers.</summary>
/// <param name="Events">Every event counted by the per-day pipeline (its day windows, restored from the checkpoint after a restart).</param>
/// <param name="EventsThisMinute">Events in the newest minute window.</param>
/// <param name="EventsThisHour">Events in the newest hour window.</param>
/// <param name="VisitorsThisHour">Unique visitors (HyperLogLog) in the newest hour window.</param>
/// <param name="VisitorsToday">Unique visitors (HyperLogLog) in the newest day window (UTC).</param>
/// <param name="LoadP50">Median load time in the newest minute (ms).</param>
/// <param name="LoadP99">99th percentile load time in the newest minute (ms).</param>
/// <param name="AbnormalSeconds">Seconds flagged abnormal since start.</param>
public sealed record Totals(long Events, long EventsThisMinute, long EventsThisHour, long VisitorsThisHour, long VisitorsToday, double LoadP50, double LoadP99, long AbnormalSeconds);

/// <summary>One pipeline's progress.</summary>
public sealed record PipelineInfo(string Name, DateTimeOffset? Watermark, long RecordsIn, long LateRecords, long DeadLetters, long OpenWindows, long ResultsOut);

/// <summary>One minute window (tumbling).</summary>
public sealed record MinutePoint(DateTimeOffset Start, long Events, long Visitors, double P50, double P99, bool Final);

/// <summary>One hour window (tumbling).</summary>
public sealed record HourPoint(DateTimeOffset Start, long Events, long Visitors, bool Final);

/// <summary>One closed second, scored by the random cut forest.</summary>
public sealed record SecondPoint(DateTimeOffset Start, long Events, double P99, long Visitors, double Score, bool Abnormal);

/// <summary>An abnormal second and the feature that contributed most to its score.</summary>
public sealed record Anomaly(DateTimeOffset Start, double Score, string Feature, long Events, double P99, long Visitors);

/// <summary>Top-K lists (Space-Saving) of the five-minute sliding window that covers the newest events.</summary>
public sealed record TopLists(DateTimeOffset Start, DateTimeOffset End, long Events, IReadOnlyList<Ranked> Pages, IReadOnlyList<Ranked> MenuItems, IReadOnlyList<Ranked> Referrers, IReadOnlyList<Ranked> UserAgents);

/// <summary>An item of a top list with its (over-)estimated count.</summary>
public sealed record Ranked(string Item, long Count);

/// <summary>One of the last events read from the stream.</summary>
public sealed record RecentEvent(DateTimeOffset Time, string Page, string Visitor, string Referrer, string UserAgent, double LoadTimeMs, string? MenuItem);

/// <summary>The beacon endpoints' counts.</summary>
public sealed record IngestInfo(long AcceptedEvents, long AcceptedRequests, long GeneratedEvents, long RejectedRequests, IReadOnlyDictionary<string, long> RejectedByReason);
