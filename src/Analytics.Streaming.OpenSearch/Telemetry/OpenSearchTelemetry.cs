using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming.OpenSearch;

/// <summary>
/// The telemetry of the OpenSearch package: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/>, both named <see cref="Name"/>. Cheap when nobody listens.
/// </summary>
/// <remarks>
/// <para>
/// Instruments are named <c>analytics.streaming.opensearch.sink.&lt;measure&gt;</c>, with units per the OpenTelemetry
/// conventions, each tagged <c>sink</c> (<see cref="OpenSearchSinkOptions{T}.Name"/>):
/// </para>
/// <list type="bullet">
/// <item><description><c>documents</c> ({document}): actions the cluster applied (created, updated, deleted).</description></item>
/// <item><description><c>stale</c> ({document}): writes the cluster refused because it holds a newer version (409 under external versioning), or a <c>create</c> of a document that was already there; both are successes.</description></item>
/// <item><description><c>rejected</c> ({document}): documents sent to the dead letters (mapping errors, 400s, values JSON cannot carry).</description></item>
/// <item><description><c>retries</c> ({document}): actions sent again after a 429 or 5xx, per item or for a whole request.</description></item>
/// <item><description><c>requests</c> ({request}) and <c>bytes</c> (By): <c>_bulk</c> requests sent and their body bytes.</description></item>
/// <item><description><c>request.duration</c> (s): the time of each <c>_bulk</c> request.</description></item>
/// </list>
/// <para>The activity source starts one client-kind activity per <c>_bulk</c> delivery (retries included), named <c>OpenSearch.Bulk</c>.</para>
/// </remarks>
public static class OpenSearchTelemetry
{
    /// <summary>The name of the package's meter and activity source: <c>Analytics.Streaming.OpenSearch</c>.</summary>
    public const string Name = "Analytics.Streaming.OpenSearch";

    private const string Prefix = "analytics.streaming.opensearch.sink.";

    private static readonly string? Version = typeof(OpenSearchTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly ActivitySource ActivitySource = new(Name, Version);

    internal static readonly Counter<long> Documents = Meter.CreateCounter<long>(Prefix + "documents", "{document}", "Actions the cluster applied.");

    internal static readonly Counter<long> Stale = Meter.CreateCounter<long>(Prefix + "stale", "{document}", "Writes refused because a newer version (or the document) is already stored; successes.");

    internal static readonly Counter<long> Rejected = Meter.CreateCounter<long>(Prefix + "rejected", "{document}", "Documents sent to the dead letters.");

    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>(Prefix + "retries", "{document}", "Actions sent again after a 429 or 5xx.");

    internal static readonly Counter<long> Requests = Meter.CreateCounter<long>(Prefix + "requests", "{request}", "_bulk requests sent.");

    internal static readonly Counter<long> Bytes = Meter.CreateCounter<long>(Prefix + "bytes", "By", "Body bytes of _bulk requests.");

    internal static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>(Prefix + "request.duration", "s", "Time of one _bulk request.");
}
