namespace Analytics.Streaming.Kinesis;

/// <summary>
/// A record as the producing application wrote it: either a whole Kinesis record, or one of the user records packed
/// into a KPL aggregated record, with its sub-sequence number.
/// </summary>
/// <param name="Data">The payload; for aggregates a slice of the outer record's data (no copy).</param>
/// <param name="PartitionKey">The partition key the producer gave this user record.</param>
/// <param name="ExplicitHashKey">The explicit hash key the producer gave it, or <see langword="null"/>.</param>
/// <param name="SequenceNumber">The sequence number of the outer Kinesis record.</param>
/// <param name="SubSequenceNumber">The index inside the aggregate (0-based); 0 for a record that was not aggregated.</param>
/// <param name="ApproximateArrivalTimestamp">The outer record's arrival time, when known.</param>
/// <param name="IsAggregated">Whether the record came out of a KPL aggregate.</param>
public readonly record struct UserRecord(
    ReadOnlyMemory<byte> Data,
    string PartitionKey,
    string? ExplicitHashKey,
    SequenceNumber SequenceNumber,
    long SubSequenceNumber,
    DateTimeOffset? ApproximateArrivalTimestamp,
    bool IsAggregated)
{
    /// <summary>Returns the hash key that routes this user record (explicit hash key, or MD5 of the partition key).</summary>
    /// <returns>The hash key; compare it with a shard's <see cref="KinesisHashKeyRange"/> to drop misrouted KPL copies.</returns>
    /// <exception cref="FormatException">The explicit hash key is not a decimal number below 2^128.</exception>
    public UInt128 GetHashKey() => KinesisHashKey.Of(PartitionKey, ExplicitHashKey);
}
