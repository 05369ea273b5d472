using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis;

/// <summary>Settings of <see cref="KinesisProducer"/>. Defaults follow the service limits and the KPL's defaults.</summary>
/// <remarks>Validated when the producer is created (<see cref="Validate"/>).</remarks>
public sealed class KinesisProducerOptions
{
    /// <summary>The PutRecords record limit.</summary>
    public const int PutRecordsMaxRecords = 500;

    /// <summary>Gets or sets the stream name. One of <see cref="StreamName"/> and <see cref="StreamArn"/> is required.</summary>
    public string? StreamName { get; set; }

    /// <summary>Gets or sets the stream ARN. One of <see cref="StreamName"/> and <see cref="StreamArn"/> is required.</summary>
    public string? StreamArn { get; set; }

    /// <summary>Gets or sets the most Kinesis records per PutRecords call, 1 to 500. Default 500.</summary>
    public int MaxBatchRecords { get; set; } = PutRecordsMaxRecords;

    /// <summary>
    /// Gets or sets the most bytes (data plus partition keys, before base64) per PutRecords call. Default 5 MiB
    /// (the service limit for streams without large records).
    /// </summary>
    public int MaxBatchBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>
    /// Gets or sets how long a record may wait for its batch to fill before the batch is sent anyway. Default 100
    /// milliseconds (the KPL's <c>RecordMaxBufferedTime</c>); zero sends as soon as the sender is free.
    /// </summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets the largest record accepted (data plus UTF-8 partition key). Default 1 MiB (the service
    /// default; streams configured for large records accept up to 10 MiB). Larger records are refused by
    /// <see cref="KinesisProducer.AddAsync"/> before anything is sent.
    /// </summary>
    public int MaxRecordSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether user records going to the same shard are packed into KPL
    /// aggregated records (read by the KCL, by <see cref="KplDeaggregator"/> and by this package's consumer). Default
    /// <see langword="false"/>: consumers that do not deaggregate (plain Lambda functions, most third-party tools)
    /// would see the packed bytes. Needs <c>ListShards</c> permission (the shard map predicts where records go).
    /// </summary>
    public bool AggregationEnabled { get; set; }

    /// <summary>Gets or sets the largest aggregated record in bytes, 64 to <see cref="MaxRecordSize"/> - 1 (room for the 1-byte outer partition key). Default 51,200 (the KPL's default).</summary>
    public int AggregationMaxSize { get; set; } = 51_200;

    /// <summary>
    /// Gets or sets how many user records the producer may hold at once: waiting, in open aggregates or being sent.
    /// Default 10,000. When it holds that many, <see cref="KinesisProducer.AddAsync"/> waits (backpressure),
    /// <see cref="KinesisProducer.TryAdd"/> returns <see langword="false"/>, and what waits is sent without lingering.
    /// </summary>
    public int MaxBufferedRecords { get; set; } = 10_000;

    /// <summary>Gets or sets how many PutRecords calls may be in flight at once, 1 to 64. Default 4.</summary>
    public int MaxConcurrentRequests { get; set; } = 4;

    /// <summary>
    /// Gets or sets how records that failed inside a PutRecords answer (throttled, internal failure), and calls that
    /// failed as a whole with a retryable error, are sent again. Default <see cref="RetryOptions"/>' defaults (40
    /// attempts per record, 200 ms to 10 s, 2 minutes).
    /// </summary>
    /// <remarks>
    /// Only the failed entries of a call are resent, together, after one backoff; a record that has been sent
    /// <see cref="RetryOptions.MaxAttempts"/> times, or whose first send started <see cref="RetryOptions.MaxElapsed"/>
    /// ago, is reported by the next <see cref="KinesisProducer.FlushAsync"/>. The client's own retries of a call happen
    /// inside each attempt.
    /// </remarks>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets how often the shard map used for aggregation is refreshed. Default 1 minute.</summary>
    public TimeSpan ShardMapRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the clock used for linger and backoff. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets where retries, throttling, records given up on, shard map loads and resends after a reshard are
    /// logged (event ids 2100-2199). Default <see langword="null"/>: no logging.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Throws when a setting is out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(StreamName) && string.IsNullOrEmpty(StreamArn))
        {
            throw new ArgumentException("KinesisProducerOptions needs a StreamName or a StreamArn: set one of them.", nameof(StreamName));
        }

        Check(MaxBatchRecords is >= 1 and <= PutRecordsMaxRecords, nameof(MaxBatchRecords), $"must be 1 to {PutRecordsMaxRecords}; got {MaxBatchRecords}");
        Check(MaxRecordSize is >= 1 and <= 10 * 1024 * 1024, nameof(MaxRecordSize), $"must be 1 byte to 10 MiB; got {MaxRecordSize}");
        Check(MaxBatchBytes >= MaxRecordSize && MaxBatchBytes <= 10 * 1024 * 1024, nameof(MaxBatchBytes), $"must be at least MaxRecordSize ({MaxRecordSize}) and at most 10 MiB; got {MaxBatchBytes}");
        Check(Linger >= TimeSpan.Zero, nameof(Linger), $"must not be negative; got {Linger}");
        Check(!AggregationEnabled || AggregationMaxSize >= 64 && AggregationMaxSize <= MaxRecordSize - 1, nameof(AggregationMaxSize), $"must be 64 to MaxRecordSize - 1 ({MaxRecordSize - 1}, room for the 1-byte outer partition key); got {AggregationMaxSize}");
        Check(MaxBufferedRecords >= 1, nameof(MaxBufferedRecords), $"must be at least 1; got {MaxBufferedRecords}");
        Check(MaxConcurrentRequests is >= 1 and <= 64, nameof(MaxConcurrentRequests), $"must be 1 to 64; got {MaxConcurrentRequests}");
        Check(ShardMapRefreshInterval > TimeSpan.Zero, nameof(ShardMapRefreshInterval), $"must be positive; got {ShardMapRefreshInterval}");
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate("KinesisProducerOptions.Retry");
    }

    private static void Check(bool condition, string name, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"KinesisProducerOptions.{name} {problem}.", name);
        }
    }
}
