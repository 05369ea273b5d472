using Analytics.Streaming.Kinesis;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB;

/// <summary>Settings of a <see cref="LeaseCoordinator"/>; validated when the coordinator is created.</summary>
/// <remarks>The defaults are the Kinesis Client Library's: a 10 second failover time, renewal three times per failover time, one lease stolen at a time.</remarks>
public sealed class LeaseCoordinatorOptions
{
    /// <summary>Gets or sets the application name: the lease table's name, shared by every worker of the application (as in the KCL). Required.</summary>
    public string ApplicationName { get; set; } = string.Empty;

    /// <summary>Gets or sets the stream whose shards are leased. Set this or <see cref="StreamArn"/>.</summary>
    public string? StreamName { get; set; }

    /// <summary>Gets or sets the stream ARN. Set this or <see cref="StreamName"/>.</summary>
    public string? StreamArn { get; set; }

    /// <summary>Gets or sets this worker's id, written as <c>leaseOwner</c>; unique per process. Default: the machine name and a random suffix.</summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    /// <summary>
    /// Gets or sets how long a lease's counter must stay unchanged, as seen by another worker, before that worker may
    /// take it; and how long this worker keeps reading a shard whose renewals fail. Default 10 seconds.
    /// </summary>
    public TimeSpan FailoverTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often held leases are renewed; <see langword="null"/> (default) for a third of <see cref="FailoverTime"/>, as in the KCL.</summary>
    public TimeSpan? RenewalInterval { get; set; }

    /// <summary>
    /// Gets or sets how often the table is scanned to take expired leases and balance; <see langword="null"/> (default)
    /// for a fifth of <see cref="FailoverTime"/>. A lease whose owner died is taken between <see cref="FailoverTime"/> and
    /// <see cref="FailoverTime"/> plus twice this interval after the owner's last renewal.
    /// </summary>
    public TimeSpan? LeaseTakingInterval { get; set; }

    /// <summary>Gets or sets how often the stream's shards are listed to create leases for new shards. Default 1 minute.</summary>
    public TimeSpan ShardSyncInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how many leases a worker steals from a busier worker per scan. Default 1.</summary>
    public int MaxLeasesToStealAtOneTime { get; set; } = 1;

    /// <summary>
    /// Gets or sets where the leases of shards that exist when the application first starts begin:
    /// <see cref="KinesisStartingPosition.TrimHorizon"/> (default), <see cref="KinesisStartingPosition.Latest"/> (shards
    /// already closed then are marked <c>SHARD_END</c>) or an <see cref="KinesisStartingPositionType.AtTimestamp"/> position.
    /// Shards created later by a reshard always start at the trim horizon.
    /// </summary>
    public KinesisStartingPosition InitialPosition { get; set; } = KinesisStartingPosition.TrimHorizon;

    /// <summary>Gets or sets the clock of renewals, expiry and scans. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets how throttling, 5xx and connection failures of lease table calls are retried. Default: 4 attempts,
    /// 100 ms base delay, 1 s maximum delay, within 2 seconds: a renewal that takes longer is no longer worth making.
    /// </summary>
    public RetryOptions Retry { get; set; } = DefaultRetry();

    /// <summary>Gets or sets where lease events are logged (event ids 4200-4399). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets the renewal interval in effect.</summary>
    internal TimeSpan EffectiveRenewalInterval => RenewalInterval ?? FailoverTime / 3;

    /// <summary>Gets the taking interval in effect.</summary>
    internal TimeSpan EffectiveTakingInterval => LeaseTakingInterval ?? FailoverTime / 5;

    /// <summary>Checks every setting and throws with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ApplicationName) || ApplicationName.Length is < 3 or > 255)
        {
            throw new ArgumentException("LeaseCoordinatorOptions.ApplicationName must be a DynamoDB table name (3 to 255 characters): the lease table is named after it.", nameof(ApplicationName));
        }

        if (string.IsNullOrEmpty(StreamName) && string.IsNullOrEmpty(StreamArn))
        {
            throw new ArgumentException("LeaseCoordinatorOptions needs the stream: set StreamName or StreamArn.", nameof(StreamName));
        }

        if (string.IsNullOrWhiteSpace(WorkerId))
        {
            throw new ArgumentException("LeaseCoordinatorOptions.WorkerId must not be empty.", nameof(WorkerId));
        }

        Require(FailoverTime > TimeSpan.Zero, nameof(FailoverTime), $"must be positive; got {FailoverTime}");
        Require(EffectiveRenewalInterval > TimeSpan.Zero && EffectiveRenewalInterval < FailoverTime, nameof(RenewalInterval), $"must be positive and shorter than FailoverTime ({FailoverTime}); got {EffectiveRenewalInterval}");
        Require(EffectiveTakingInterval > TimeSpan.Zero, nameof(LeaseTakingInterval), $"must be positive; got {EffectiveTakingInterval}");
        Require(ShardSyncInterval > TimeSpan.Zero, nameof(ShardSyncInterval), $"must be positive; got {ShardSyncInterval}");
        Require(MaxLeasesToStealAtOneTime >= 0, nameof(MaxLeasesToStealAtOneTime), $"must not be negative (0 turns stealing off); got {MaxLeasesToStealAtOneTime}");
        Require(
            InitialPosition.Type is KinesisStartingPositionType.TrimHorizon or KinesisStartingPositionType.Latest
                || (InitialPosition.Type == KinesisStartingPositionType.AtTimestamp && InitialPosition.Timestamp is not null),
            nameof(InitialPosition),
            $"must be TrimHorizon, Latest or AtTimestamp with a time; got {InitialPosition.Type}");
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate("LeaseCoordinatorOptions.Retry");
    }

    internal static RetryOptions DefaultRetry() => new()
    {
        MaxAttempts = 4,
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(1),
        MaxElapsed = TimeSpan.FromSeconds(2),
    };

    private static void Require(bool condition, string name, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"LeaseCoordinatorOptions.{name} {problem}.", name);
        }
    }
}
