namespace Analytics.Streaming.Testing;

/// <summary>
/// Settings of a <see cref="LocalEventSourceMapping"/>: the knobs of a Lambda Kinesis event source mapping, with
/// Lambda's defaults and ranges; validated when the mapping is created.
/// </summary>
public sealed class LocalEventSourceMappingOptions
{
    /// <summary>Gets or sets the stream to read. Required.</summary>
    public string StreamName { get; set; } = string.Empty;

    /// <summary>Gets or sets the region in the events' <c>awsRegion</c> and ARNs. Default <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Gets or sets the stream ARN in the events' <c>eventSourceARN</c>. Default <see langword="null"/>: <c>arn:aws:kinesis:{Region}:000000000000:stream/{StreamName}</c>.</summary>
    public string? StreamArn { get; set; }

    /// <summary>Gets or sets the most records per invocation (<c>BatchSize</c>, 1 to 10,000). Default 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Gets or sets how long records are gathered before an invocation with fewer than <see cref="BatchSize"/>
    /// (<c>MaximumBatchingWindowInSeconds</c>, 0 to 300 seconds). Default zero: invoke with what one read returned.
    /// </summary>
    public TimeSpan MaximumBatchingWindow { get; set; }

    /// <summary>
    /// Gets or sets how often a failed batch is retried before it is discarded (<c>MaximumRetryAttempts</c>, -1 for
    /// no limit, or 0 to 10,000). Default -1, as Lambda: a batch that always fails blocks its shard.
    /// </summary>
    public int MaximumRetryAttempts { get; set; } = -1;

    /// <summary>
    /// Gets or sets the age (since arrival in the stream) after which records are discarded instead of delivered
    /// (<c>MaximumRecordAgeInSeconds</c>, 60 seconds to 7 days). Default <see langword="null"/>: no limit.
    /// </summary>
    public TimeSpan? MaximumRecordAge { get; set; }

    /// <summary>Gets or sets whether a failed invocation splits its batch in two and retries the halves (<c>BisectBatchOnFunctionError</c>); splitting does not count as a retry. Default <see langword="false"/>.</summary>
    public bool BisectBatchOnFunctionError { get; set; }

    /// <summary>
    /// Gets or sets whether the function's response is read as a partial batch response (<c>FunctionResponseTypes:
    /// ["ReportBatchItemFailures"]</c>). Default <see langword="true"/>. Without it only an exception fails a batch.
    /// </summary>
    public bool ReportBatchItemFailures { get; set; } = true;

    /// <summary>Gets or sets how long a shard's poller waits after a read that returned nothing new. Default 1 second (Lambda polls each shard once per second).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the largest invocation payload; a batch is cut short to fit (Lambda's 6 MB). Default 6,291,456 bytes.</summary>
    public int MaximumPayloadBytes { get; set; } = 6 * 1024 * 1024;

    /// <summary>Gets or sets the clock for the batching window, record ages and polling delays. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal string EffectiveStreamArn => StreamArn ?? $"arn:aws:kinesis:{Region}:000000000000:stream/{StreamName}";

    /// <summary>Throws when a setting is out of Lambda's range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(StreamName))
        {
            throw new ArgumentException("LocalEventSourceMappingOptions.StreamName is required.", nameof(StreamName));
        }

        if (BatchSize is < 1 or > 10_000)
        {
            throw new ArgumentException($"BatchSize must be between 1 and 10,000 (as for Lambda); got {BatchSize}.", nameof(BatchSize));
        }

        if (MaximumBatchingWindow < TimeSpan.Zero || MaximumBatchingWindow > TimeSpan.FromSeconds(300))
        {
            throw new ArgumentException($"MaximumBatchingWindow must be between 0 and 300 seconds; got {MaximumBatchingWindow}.", nameof(MaximumBatchingWindow));
        }

        if (MaximumRetryAttempts is < -1 or > 10_000)
        {
            throw new ArgumentException($"MaximumRetryAttempts must be -1 (no limit) or between 0 and 10,000; got {MaximumRetryAttempts}.", nameof(MaximumRetryAttempts));
        }

        if (MaximumRecordAge is { } age && (age < TimeSpan.FromSeconds(60) || age > TimeSpan.FromDays(7)))
        {
            throw new ArgumentException($"MaximumRecordAge must be between 60 seconds and 7 days (or null for no limit); got {age}.", nameof(MaximumRecordAge));
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"PollInterval must be positive; got {PollInterval}.", nameof(PollInterval));
        }

        if (MaximumPayloadBytes < 1024)
        {
            throw new ArgumentException($"MaximumPayloadBytes must be at least 1024; got {MaximumPayloadBytes}.", nameof(MaximumPayloadBytes));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}

/// <summary>A batch the mapping gave up on (retries exhausted or records too old): what Lambda sends to an on-failure destination.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="StartSequenceNumber">The first discarded record's sequence number.</param>
/// <param name="EndSequenceNumber">The last discarded record's sequence number.</param>
/// <param name="BatchSize">The number of records discarded.</param>
/// <param name="Reason">Why: <c>RetryAttemptsExhausted</c> or <c>RecordAgeExceeded</c>.</param>
public sealed record DiscardedBatch(string ShardId, string StartSequenceNumber, string EndSequenceNumber, int BatchSize, string Reason);

/// <summary>What a <see cref="LocalEventSourceMapping"/> did.</summary>
public sealed class LocalEventSourceMappingStatistics
{
    private long _invocations;
    private long _functionErrors;
    private long _partialFailures;
    private long _bisections;
    private long _recordsDelivered;
    private long _recordsCompleted;

    /// <summary>Gets the number of invocations.</summary>
    public long Invocations => Interlocked.Read(ref _invocations);

    /// <summary>Gets the number of invocations that threw (or answered a failure of the whole batch).</summary>
    public long FunctionErrors => Interlocked.Read(ref _functionErrors);

    /// <summary>Gets the number of invocations that reported some records failed.</summary>
    public long PartialFailures => Interlocked.Read(ref _partialFailures);

    /// <summary>Gets the number of batches split in two after a function error.</summary>
    public long Bisections => Interlocked.Read(ref _bisections);

    /// <summary>Gets the number of records handed to the function, retries included.</summary>
    public long RecordsDelivered => Interlocked.Read(ref _recordsDelivered);

    /// <summary>Gets the number of records the mapping checkpointed past after the function succeeded with them.</summary>
    public long RecordsCompleted => Interlocked.Read(ref _recordsCompleted);

    internal void OnInvocation(int records)
    {
        Interlocked.Increment(ref _invocations);
        Interlocked.Add(ref _recordsDelivered, records);
    }

    internal void OnFunctionError() => Interlocked.Increment(ref _functionErrors);

    internal void OnPartialFailure() => Interlocked.Increment(ref _partialFailures);

    internal void OnBisection() => Interlocked.Increment(ref _bisections);

    internal void OnCompleted(int records) => Interlocked.Add(ref _recordsCompleted, records);
}
