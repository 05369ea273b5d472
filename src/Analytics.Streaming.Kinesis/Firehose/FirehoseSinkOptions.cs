using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>Settings of <see cref="FirehoseSink{T}"/>.</summary>
/// <remarks>Validated when the sink is created (<see cref="Validate"/>).</remarks>
public sealed class FirehoseSinkOptions
{
    /// <summary>The largest Firehose record, 1,000 KiB before base64.</summary>
    public const int MaxRecordSize = 1_024_000;

    /// <summary>Gets or sets the delivery stream name. Required.</summary>
    public string? DeliveryStreamName { get; set; }

    /// <summary>Gets or sets the most records per PutRecordBatch call, 1 to 500. Default 500.</summary>
    public int MaxBatchRecords { get; set; } = 500;

    /// <summary>
    /// Gets or sets the most raw bytes per PutRecordBatch call. Default 4,000,000: under the service's 4 MiB with a
    /// margin, because how the service measures the 4 MiB is not documented.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 4_000_000;

    /// <summary>
    /// Gets or sets a value indicating whether a newline (<c>\n</c>) is appended to every record, so that the objects
    /// Firehose writes to S3 are newline-delimited (Firehose itself adds no delimiter). Default <see langword="true"/>.
    /// </summary>
    public bool AppendNewline { get; set; } = true;

    /// <summary>
    /// Gets or sets how records that failed inside a PutRecordBatch answer (<c>ServiceUnavailableException</c>,
    /// <c>InternalFailure</c>), and calls that failed as a whole with a retryable error, are sent again. Default
    /// <see cref="RetryOptions"/>' defaults (40 attempts, 200 ms to 10 s, 2 minutes).
    /// </summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>
    /// Gets or sets where items that cannot become a Firehose record go: larger than 1,000 KiB once serialized, or whose
    /// serializer throws. Each becomes a <see cref="DeadLetter"/> (<see cref="DeadLetterReason.InvalidValue"/>, position
    /// <c>firehose:{stream}</c>, payload the UTF-8 of the item's <see cref="object.ToString"/>), and the stream goes on.
    /// Default <see langword="null"/>: such an item makes <see cref="FirehoseSink{T}.WriteAsync"/> throw, and the
    /// pipeline stops on it until one is set.
    /// </summary>
    public ISink<DeadLetter>? DeadLetters { get; set; }

    /// <summary>Gets or sets the clock used for backoff. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets where retries, records given up on and dead-lettered items are logged (event ids 2301-2303). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Throws when a setting is out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(DeliveryStreamName) || DeliveryStreamName.Length > 64)
        {
            throw new ArgumentException($"FirehoseSinkOptions.DeliveryStreamName is required, 1 to 64 characters; got '{DeliveryStreamName}'.", nameof(DeliveryStreamName));
        }

        if (MaxBatchRecords is < 1 or > 500)
        {
            throw new ArgumentException($"FirehoseSinkOptions.MaxBatchRecords must be 1 to 500; got {MaxBatchRecords}.", nameof(MaxBatchRecords));
        }

        if (MaxBatchBytes < MaxRecordSize + 1 || MaxBatchBytes > 4 * 1024 * 1024)
        {
            throw new ArgumentException($"FirehoseSinkOptions.MaxBatchBytes must be {MaxRecordSize + 1} to 4 MiB; got {MaxBatchBytes}.", nameof(MaxBatchBytes));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate("FirehoseSinkOptions.Retry");
    }
}
