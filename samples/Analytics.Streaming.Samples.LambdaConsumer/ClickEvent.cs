using System.Text.Json.Serialization;

namespace Analytics.Streaming.Samples.LambdaConsumer;

/// <summary>One page view, as the web tier writes it to Kinesis (JSON).</summary>
/// <param name="Timestamp">When the browser sent it (event time).</param>
/// <param name="UserId">The visitor.</param>
/// <param name="Page">The page path.</param>
/// <param name="Referrer">Where the visitor came from.</param>
/// <param name="UserAgent">The browser family.</param>
/// <param name="LatencyMs">How long the page took to load.</param>
public sealed record ClickEvent(DateTimeOffset Timestamp, string UserId, string Page, string Referrer, string UserAgent, double LatencyMs);

/// <summary>A page view as the Firehose transformation writes it to S3: one JSON line.</summary>
/// <param name="Time">Event time, ISO-8601 UTC.</param>
/// <param name="User">The visitor.</param>
/// <param name="Page">The page path.</param>
/// <param name="LatencyMs">Load time.</param>
public sealed record PageViewLine(DateTimeOffset Time, string User, string Page, double LatencyMs);

/// <summary>A window result as the function logs it: one JSON line per result, written by identity.</summary>
/// <param name="Id">The result's identity (pipeline, shard, page, window).</param>
/// <param name="Page">The page.</param>
/// <param name="Start">Window start.</param>
/// <param name="End">Window end.</param>
/// <param name="Shard">The shard whose records the result covers.</param>
/// <param name="Views">Page views.</param>
/// <param name="Visitors">Distinct visitors (HyperLogLog estimate).</param>
/// <param name="Records">The result's version: records aggregated.</param>
public sealed record PageViewResult(string Id, string Page, DateTimeOffset Start, DateTimeOffset End, string? Shard, long Views, long Visitors, long Records);

/// <summary>Source-generated JSON for the sample's types (trimming and AOT safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ClickEvent))]
[JsonSerializable(typeof(PageViewLine))]
[JsonSerializable(typeof(PageViewResult))]
public sealed partial class SampleJsonContext : JsonSerializerContext;
