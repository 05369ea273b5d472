using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// The telemetry of the DynamoDB package: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/>, both named <see cref="Name"/>. Cheap when nobody listens.
/// </summary>
/// <remarks>
/// Instruments are named <c>analytics.streaming.dynamodb.&lt;component&gt;.&lt;measure&gt;</c> (components <c>sink</c>,
/// <c>checkpoints</c>, <c>leases</c>), with units per the OpenTelemetry conventions.
/// </remarks>
public static class DynamoDbTelemetry
{
    /// <summary>The name of the package's meter and activity source: <c>Analytics.Streaming.DynamoDB</c>.</summary>
    public const string Name = "Analytics.Streaming.DynamoDB";

    internal const string Prefix = "analytics.streaming.dynamodb.";

    private static readonly string? Version = typeof(DynamoDbTelemetry).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly ActivitySource ActivitySource = new(Name, Version);
}
