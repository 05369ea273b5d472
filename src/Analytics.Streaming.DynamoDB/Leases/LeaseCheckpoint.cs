using System.Globalization;
using Analytics.Streaming.Kinesis;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// The <c>checkpoint</c> and <c>checkpointSubSequenceNumber</c> of a lease, as the Kinesis Client Library writes them:
/// a sequence number (the last record processed), or one of the sentinels <c>TRIM_HORIZON</c>, <c>LATEST</c>,
/// <c>AT_TIMESTAMP</c> (not started yet) and <c>SHARD_END</c> (read to its end and processed: children may start).
/// </summary>
/// <param name="SequenceNumber">The sequence number (decimal text) or sentinel.</param>
/// <param name="SubSequenceNumber">The user record inside a KPL aggregate; 0 otherwise.</param>
public readonly record struct LeaseCheckpoint(string SequenceNumber, long SubSequenceNumber = 0)
{
    /// <summary>The sentinel of a shard not started, read from the oldest record.</summary>
    public const string TrimHorizonValue = "TRIM_HORIZON";

    /// <summary>The sentinel of a shard not started, read from the newest record.</summary>
    public const string LatestValue = "LATEST";

    /// <summary>The sentinel of a shard not started, read from a time.</summary>
    public const string AtTimestampValue = "AT_TIMESTAMP";

    /// <summary>The sentinel of a shard read to its end and processed.</summary>
    public const string ShardEndValue = "SHARD_END";

    /// <summary>Gets the checkpoint of a shard to read from the oldest record.</summary>
    public static LeaseCheckpoint TrimHorizon => new(TrimHorizonValue);

    /// <summary>Gets the checkpoint of a shard to read from the newest record.</summary>
    public static LeaseCheckpoint Latest => new(LatestValue);

    /// <summary>Gets the checkpoint of a shard to read from a time (the time is the application's setting, as in the KCL).</summary>
    public static LeaseCheckpoint AtTimestamp => new(AtTimestampValue);

    /// <summary>Gets the checkpoint of a shard read to its end.</summary>
    public static LeaseCheckpoint ShardEnd => new(ShardEndValue);

    /// <summary>Gets a value indicating whether the shard was read to its end and processed.</summary>
    public bool IsShardEnd => string.Equals(SequenceNumber, ShardEndValue, StringComparison.Ordinal);

    /// <summary>Gets a value indicating whether the checkpoint is a sequence number (processing has started).</summary>
    public bool IsSequenceNumber => Streaming.SequenceNumber.TryParse(SequenceNumber, out _);

    /// <summary>Creates the checkpoint of a position: the last record processed.</summary>
    /// <param name="position">The position.</param>
    /// <returns>The checkpoint.</returns>
    public static LeaseCheckpoint FromPosition(StreamPosition position) => new(position.Sequence.ToString(), position.SubSequence);

    /// <summary>Gets the position to resume after, when the checkpoint is a sequence number.</summary>
    /// <param name="shardId">The shard.</param>
    /// <returns>The position, or <see langword="null"/> for a sentinel.</returns>
    public StreamPosition? ToResumePosition(string shardId) =>
        Streaming.SequenceNumber.TryParse(SequenceNumber, out var sequence) ? new StreamPosition(shardId, sequence, SubSequenceNumber) : null;

    /// <summary>Gets where a reader starts for a sentinel checkpoint (none for a sequence number or <c>SHARD_END</c>).</summary>
    /// <param name="atTimestamp">The time for <c>AT_TIMESTAMP</c>, from the application's settings.</param>
    /// <returns>The starting position, or <see langword="null"/>.</returns>
    public KinesisStartingPosition? ToStartingPosition(DateTimeOffset? atTimestamp) => SequenceNumber switch
    {
        TrimHorizonValue => KinesisStartingPosition.TrimHorizon,
        LatestValue => KinesisStartingPosition.Latest,
        AtTimestampValue when atTimestamp is { } time => KinesisStartingPosition.AtTimestamp(time),
        _ => null,
    };

    /// <summary>Returns the sequence number, with <c>/sub</c> when the sub-sequence is not 0.</summary>
    public override string ToString() => SubSequenceNumber == 0 ? SequenceNumber : string.Create(CultureInfo.InvariantCulture, $"{SequenceNumber}/{SubSequenceNumber}");
}
