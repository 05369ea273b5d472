using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Lambda;

/// <summary>Settings of a <see cref="KinesisEventHandler{TEvent, TKey, TResult}"/>; validated when the handler is created.</summary>
public sealed class KinesisEventHandlerOptions
{
    /// <summary>
    /// Gets or sets where each shard's checkpoint (positions, watermark, open windows) is kept between invocations.
    /// Default <see langword="null"/>: the pipeline's <see cref="StreamPipelineOptions.CheckpointStore"/>; one of the two is required.
    /// </summary>
    /// <remarks>
    /// The store must outlive the function's execution environments: a file store on the function's <c>/tmp</c> is lost
    /// on every cold start (use it only where a shard always lands on the same warm environment: tests, samples).
    /// Checkpoints are filed under <see cref="GetCheckpointName"/>.
    /// </remarks>
    public ICheckpointStore? CheckpointStore { get; set; }

    /// <summary>
    /// Gets or sets whether KPL aggregated records are unpacked into their user records (Lambda hands them over
    /// whole). Default <see langword="true"/>: a record that starts with the KPL magic bytes must be a valid aggregate,
    /// or it becomes a dead letter.
    /// </summary>
    public bool DeaggregateKplRecords { get; set; } = true;

    /// <summary>Gets or sets the clock of the engine (processing time, idleness). Default <see langword="null"/>: the pipeline's.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Gets or sets where the handler logs (event ids 6000-6099). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Returns the name a shard's checkpoint is filed under: <c>{pipeline}/{shardId}</c>, the name the engine of one partition gives its checkpoints (<c>pipeline.CreateProcessor(checkpoint, time, shardId)</c>).</summary>
    /// <param name="pipelineName">The pipeline name.</param>
    /// <param name="shardId">The shard id.</param>
    /// <returns>The name.</returns>
    public static string GetCheckpointName(string pipelineName, string shardId)
    {
        ArgumentException.ThrowIfNullOrEmpty(pipelineName);
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        return pipelineName + "/" + shardId;
    }
}

/// <summary>What one invocation of a Kinesis handler did.</summary>
/// <remarks>
/// Every user record is counted once: <c>Accepted + Late + DeadLetters + Replayed + Filtered</c> of
/// <see cref="Receipt"/> is the number of user records of the records before <see cref="FailedSequenceNumber"/>.
/// </remarks>
public sealed class KinesisBatchOutcome
{
    internal KinesisBatchOutcome(string shardId, KinesisStreamBatchResponse response, BatchReceipt receipt, int records, int userRecords, string? failedSequenceNumber, Exception? failure, long checkpointId)
    {
        ShardId = shardId;
        Response = response;
        Receipt = receipt;
        Records = records;
        UserRecords = userRecords;
        FailedSequenceNumber = failedSequenceNumber;
        Failure = failure;
        CheckpointId = checkpointId;
    }

    /// <summary>Gets the shard of the event; empty for an event without records.</summary>
    public string ShardId { get; }

    /// <summary>Gets the response to return to Lambda.</summary>
    public KinesisStreamBatchResponse Response { get; }

    /// <summary>Gets what the engine did with the records before the failure (all of them without one).</summary>
    public BatchReceipt Receipt { get; }

    /// <summary>Gets the number of Kinesis records in the event.</summary>
    public int Records { get; }

    /// <summary>Gets the number of user records (after KPL deaggregation) of the records processed.</summary>
    public int UserRecords { get; }

    /// <summary>Gets the sequence number of the record that failed (reported to Lambda, which retries from it); <see langword="null"/> when every record succeeded.</summary>
    public string? FailedSequenceNumber { get; }

    /// <summary>Gets why that record failed.</summary>
    public Exception? Failure { get; }

    /// <summary>Gets the id of the shard's checkpoint after the invocation (0 when the shard has none).</summary>
    public long CheckpointId { get; }
}
