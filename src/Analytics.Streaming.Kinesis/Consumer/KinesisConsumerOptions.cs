using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis;

/// <summary>Settings of a <see cref="KinesisShardConsumer"/>; every default follows the service's per-shard limits.</summary>
/// <remarks>
/// Validated once, when the consumer is created (<see cref="Validate"/>); the messages say which setting to change.
/// Do not change an options instance after passing it to a consumer.
/// </remarks>
public sealed class KinesisConsumerOptions
{
    /// <summary>The largest <see cref="MaxRecordsPerCall"/> the service accepts.</summary>
    public const int MaxGetRecordsLimit = 10_000;

    /// <summary>Gets or sets the stream name. Set this or <see cref="StreamArn"/>.</summary>
    public string? StreamName { get; set; }

    /// <summary>Gets or sets the stream ARN. Set this or <see cref="StreamName"/>; enhanced fan-out looks it up when only the name is set.</summary>
    public string? StreamArn { get; set; }

    /// <summary>
    /// Gets or sets where shards without a checkpoint start. Default <see cref="KinesisStartingPosition.TrimHorizon"/> (the
    /// oldest retained record). Allowed: <see cref="KinesisStartingPositionType.TrimHorizon"/>,
    /// <see cref="KinesisStartingPositionType.Latest"/> and <see cref="KinesisStartingPositionType.AtTimestamp"/>; per-shard sequence
    /// numbers go in <see cref="ShardStartingPositions"/>.
    /// </summary>
    /// <remarks>
    /// With <see cref="KinesisStartingPositionType.Latest"/>, shards that are already closed when the consumer first lists
    /// the stream are skipped (they hold only old records), and shards created later by a reshard start at the trim
    /// horizon, so that nothing written after the consumer started is missed. A checkpoint always wins over this
    /// setting.
    /// </remarks>
    public KinesisStartingPosition InitialPosition { get; set; } = KinesisStartingPosition.TrimHorizon;

    /// <summary>
    /// Gets per-shard starting positions (any type, including <see cref="KinesisStartingPositionType.AtSequenceNumber"/> and
    /// <see cref="KinesisStartingPositionType.AfterSequenceNumber"/>) for shards that have no checkpoint. Empty by default.
    /// </summary>
    public IDictionary<string, KinesisStartingPosition> ShardStartingPositions { get; } = new Dictionary<string, KinesisStartingPosition>(StringComparer.Ordinal);

    /// <summary>Gets or sets the <c>Limit</c> of each GetRecords call, 1 to 10,000. Default 10,000.</summary>
    public int MaxRecordsPerCall { get; set; } = MaxGetRecordsLimit;

    /// <summary>Gets or sets how many GetRecords calls per second one shard reader may make, 1 to 5 (the service's limit per shard). Default 5.</summary>
    /// <remarks>Several applications reading one stream share the limit: lower this for each of them, or use enhanced fan-out.</remarks>
    public int MaxGetRecordsCallsPerSecond { get; set; } = 5;

    /// <summary>Gets or sets how many bytes per second one shard reader may read, at most 2 MiB (the service's limit per shard). Default 2 MiB.</summary>
    /// <remarks>After a large response the reader waits until the bytes it read fit this rate before calling again.</remarks>
    public long MaxBytesPerSecond { get; set; } = 2 * 1024 * 1024;

    /// <summary>Gets or sets how long a caught-up shard reader waits before polling again after an empty response. Default 1 second.</summary>
    public TimeSpan IdleTimeBetweenReads { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how shard reads, shard listings, subscriptions and the registration of the enhanced fan-out
    /// consumer are retried after throttling, HTTP 5xx and connection failures (on top of the client's own retries).
    /// Default: <see cref="RetryOptions"/>' defaults, except <see cref="RetryOptions.BaseDelay"/> 1 second (AWS advises
    /// waiting about a second after read throttling).
    /// </summary>
    /// <remarks>
    /// The budget is per call (a read that succeeds starts the next one afresh; a subscription that delivered events
    /// resubscribes afresh). When it runs out, the failure ends the enumeration of
    /// <see cref="KinesisShardConsumer.ReadBatchesAsync"/>, and the pipeline can be restarted from its checkpoint.
    /// </remarks>
    public RetryOptions Retry { get; set; } = new() { BaseDelay = TimeSpan.FromSeconds(1) };

    /// <summary>Gets or sets how often the consumer lists the stream's shards to find new ones. Default 30 seconds.</summary>
    /// <remarks>A shard read to its end triggers an immediate listing too, so children of a reshard are found at once.</remarks>
    public TimeSpan ShardDiscoveryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how often the consumer looks again whether the parents of a waiting child shard are finished
    /// (<see cref="SourceContext.IsFinished"/>: a saved checkpoint covers their end). Default 1 second.
    /// </summary>
    public TimeSpan ParentCheckpointPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets a value indicating whether KPL aggregated records are unpacked into their user records (with
    /// sub-sequence numbers). Default <see langword="true"/>.
    /// </summary>
    /// <remarks>
    /// A record that starts with the KPL magic bytes but fails its MD5 checksum or protobuf parse goes to the batch's
    /// dead letters (<see cref="DeadLetterReason.InvalidRecord"/>). An aggregate holding a user record whose hash key is
    /// outside the shard's range is a copy the KPL re-sent to the right shard after a reshard and is dropped, as the
    /// Kinesis Client Library does, and counted.
    /// </remarks>
    public bool Deaggregate { get; set; } = true;

    /// <summary>
    /// Gets or sets the name of an enhanced fan-out consumer to read through (<c>SubscribeToShard</c>, a dedicated
    /// 2 MiB/s per shard pushed over HTTP/2); <see langword="null"/> (default) polls with GetRecords.
    /// </summary>
    /// <remarks>The consumer is registered on the stream when it does not exist yet, and reused when it does.</remarks>
    public string? EnhancedFanOutConsumerName { get; set; }

    /// <summary>Gets or sets how long to wait for a newly registered enhanced fan-out consumer to become ACTIVE. Default 2 minutes.</summary>
    public TimeSpan EnhancedFanOutRegistrationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets how many batches may wait for the reader of <see cref="KinesisShardConsumer.ReadBatchesAsync"/> before shard readers pause. Default 16.</summary>
    public int MaxBufferedBatches { get; set; } = 16;

    /// <summary>
    /// Gets or sets a value indicating whether a read that returns no records still yields an empty batch, carrying
    /// the shard's lag (<see cref="RecordBatch{T}.BehindLatest"/>) so that idle shards are visible downstream, and a
    /// shard read through a stretch without records further behind than the pipeline's idle timeout keeps holding
    /// the watermark. Default <see langword="true"/>.
    /// </summary>
    public bool EmitEmptyBatches { get; set; } = true;

    /// <summary>Gets or sets the clock for rate limits and waits. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets where shard discovery, resharding, iterator renewals, retries and bad KPL aggregates are logged
    /// (event ids 2200-2299). Default <see langword="null"/>: no logging.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Checks every setting and throws with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or missing.</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(StreamName) && string.IsNullOrEmpty(StreamArn))
        {
            throw new ArgumentException("KinesisConsumerOptions needs the stream: set StreamName or StreamArn.", nameof(StreamName));
        }

        if (InitialPosition.Type is not (KinesisStartingPositionType.TrimHorizon or KinesisStartingPositionType.Latest or KinesisStartingPositionType.AtTimestamp))
        {
            throw new ArgumentException(
                $"KinesisConsumerOptions.InitialPosition must be TrimHorizon, Latest or AtTimestamp (it applies to every shard); got {InitialPosition.Type}. Put per-shard sequence numbers in ShardStartingPositions.",
                nameof(InitialPosition));
        }

        if (InitialPosition.Type == KinesisStartingPositionType.AtTimestamp && InitialPosition.Timestamp is null)
        {
            throw new ArgumentException("KinesisConsumerOptions.InitialPosition is AtTimestamp without a timestamp: use StartingPosition.AtTimestamp(time).", nameof(InitialPosition));
        }

        foreach (var (shardId, position) in ShardStartingPositions)
        {
            bool needsSequence = position.Type is KinesisStartingPositionType.AtSequenceNumber or KinesisStartingPositionType.AfterSequenceNumber;
            if ((needsSequence && !SequenceNumber.TryParse(position.SequenceNumber, out _))
                || (position.Type == KinesisStartingPositionType.AtTimestamp && position.Timestamp is null))
            {
                throw new ArgumentException(
                    $"KinesisConsumerOptions.ShardStartingPositions[{shardId}] is {position.Type} without a valid {(needsSequence ? "decimal sequence number" : "timestamp")}: build it with StartingPosition.{position.Type}(...).",
                    nameof(ShardStartingPositions));
            }
        }

        Require(MaxRecordsPerCall is >= 1 and <= MaxGetRecordsLimit, nameof(MaxRecordsPerCall), $"must be 1 to {MaxGetRecordsLimit}; got {MaxRecordsPerCall}");
        Require(MaxGetRecordsCallsPerSecond is >= 1 and <= 5, nameof(MaxGetRecordsCallsPerSecond), $"must be 1 to 5 (the per-shard limit of the service); got {MaxGetRecordsCallsPerSecond}");
        Require(MaxBytesPerSecond is >= 1024 and <= 2 * 1024 * 1024, nameof(MaxBytesPerSecond), $"must be 1 KiB to 2 MiB (the per-shard limit of the service); got {MaxBytesPerSecond}");
        Require(IdleTimeBetweenReads >= TimeSpan.Zero, nameof(IdleTimeBetweenReads), $"must not be negative; got {IdleTimeBetweenReads}");
        Require(ShardDiscoveryInterval > TimeSpan.Zero, nameof(ShardDiscoveryInterval), $"must be positive; got {ShardDiscoveryInterval}");
        Require(ParentCheckpointPollInterval > TimeSpan.Zero, nameof(ParentCheckpointPollInterval), $"must be positive; got {ParentCheckpointPollInterval}");
        Require(EnhancedFanOutConsumerName is null || EnhancedFanOutConsumerName.Length is >= 1 and <= 128, nameof(EnhancedFanOutConsumerName), "must be 1 to 128 characters when set");
        Require(EnhancedFanOutRegistrationTimeout > TimeSpan.Zero, nameof(EnhancedFanOutRegistrationTimeout), $"must be positive; got {EnhancedFanOutRegistrationTimeout}");
        Require(MaxBufferedBatches >= 1, nameof(MaxBufferedBatches), $"must be at least 1; got {MaxBufferedBatches}");
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate("KinesisConsumerOptions.Retry");
    }

    /// <summary>Gets how logs and metrics name the stream: its name, or its ARN.</summary>
    internal string StreamLabel => StreamName ?? StreamArn ?? string.Empty;

    private static void Require(bool condition, string name, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"KinesisConsumerOptions.{name} {problem}.", name);
        }
    }
}
