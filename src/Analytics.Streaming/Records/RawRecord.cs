namespace Analytics.Streaming;

/// <summary>An undecoded record as a stream service delivers it: bytes, partition key and arrival time.</summary>
/// <param name="Data">The payload bytes.</param>
/// <param name="PartitionKey">The partition key the producer chose; empty when the source has none.</param>
/// <param name="ArrivalTime">When the service accepted the record (approximate arrival time); <see langword="null"/> when unknown.</param>
public readonly record struct RawRecord(ReadOnlyMemory<byte> Data, string PartitionKey, DateTimeOffset? ArrivalTime = null);
