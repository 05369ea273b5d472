using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// The lease coordinator's instruments on the package's meter (<see cref="DynamoDbTelemetry.Name"/>), tagged with
/// <c>application</c> and <c>worker</c>: <c>analytics.streaming.dynamodb.leases.held</c> (leases held now),
/// <c>.taken</c> (tag <c>reason</c>: unowned, expired, stolen), <c>.lost</c>, <c>.renewals</c> (tag <c>outcome</c>:
/// renewed, lost, failed) and <c>.checkpoints</c>.
/// </summary>
internal static class LeaseTelemetry
{
    public static readonly UpDownCounter<long> Held = DynamoDbTelemetry.Meter.CreateUpDownCounter<long>(
        DynamoDbTelemetry.Prefix + "leases.held", "{lease}", "Leases this worker holds.");

    public static readonly Counter<long> Taken = DynamoDbTelemetry.Meter.CreateCounter<long>(
        DynamoDbTelemetry.Prefix + "leases.taken", "{lease}", "Leases taken: unowned, expired, or stolen to balance.");

    public static readonly Counter<long> Lost = DynamoDbTelemetry.Meter.CreateCounter<long>(
        DynamoDbTelemetry.Prefix + "leases.lost", "{lease}", "Leases lost to another worker or to failed renewals.");

    public static readonly Counter<long> Renewals = DynamoDbTelemetry.Meter.CreateCounter<long>(
        DynamoDbTelemetry.Prefix + "leases.renewals", "{request}", "Lease renewals, by outcome.");

    public static readonly Counter<long> Checkpoints = DynamoDbTelemetry.Meter.CreateCounter<long>(
        DynamoDbTelemetry.Prefix + "leases.checkpoints", "{request}", "Lease checkpoints written.");

    public static TagList Tags(LeaseCoordinatorOptions options) => new()
    {
        { "application", options.ApplicationName },
        { "worker", options.WorkerId },
    };

    public static TagList Tags(LeaseCoordinatorOptions options, string name, string value)
    {
        var tags = Tags(options);
        tags.Add(name, value);
        return tags;
    }
}
