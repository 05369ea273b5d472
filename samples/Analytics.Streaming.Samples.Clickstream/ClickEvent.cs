namespace Analytics.Streaming.Samples.Clickstream;

/// <summary>One page view of a web site.</summary>
/// <param name="Timestamp">When the browser sent it (event time).</param>
/// <param name="UserId">The visitor.</param>
/// <param name="Page">The page path.</param>
/// <param name="Referrer">Where the visitor came from (a host name, or <c>(direct)</c>).</param>
/// <param name="UserAgent">The browser family.</param>
/// <param name="LatencyMs">How long the page took to load.</param>
/// <param name="MenuItem">The menu item the page shows (restaurant menu pages), or <see langword="null"/>.</param>
public sealed record ClickEvent(DateTimeOffset Timestamp, string UserId, string Page, string Referrer, string UserAgent, double LatencyMs, string? MenuItem = null);
