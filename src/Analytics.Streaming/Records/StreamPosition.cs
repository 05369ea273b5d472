namespace Analytics.Streaming;

/// <summary>
/// Where a record sits in its source: the partition (a Kinesis shard id, a file name), the sequence number inside
/// that partition, and a sub-sequence for records unpacked from one aggregated record (KPL), zero otherwise.
/// </summary>
/// <param name="PartitionId">The source partition, such as <c>shardId-000000000001</c>.</param>
/// <param name="Sequence">The sequence number inside the partition.</param>
/// <param name="SubSequence">The index of a user record inside an aggregated record; zero otherwise.</param>
public readonly record struct StreamPosition(string PartitionId, SequenceNumber Sequence, long SubSequence = 0) : IComparable<StreamPosition>
{
    /// <summary>Orders positions of the same partition by sequence, then sub-sequence.</summary>
    /// <remarks>Positions of different partitions are ordered by partition id only to give a stable order.</remarks>
    public int CompareTo(StreamPosition other)
    {
        int byPartition = string.CompareOrdinal(PartitionId, other.PartitionId);
        if (byPartition != 0)
        {
            return byPartition;
        }

        int bySequence = Sequence.CompareTo(other.Sequence);
        return bySequence != 0 ? bySequence : SubSequence.CompareTo(other.SubSequence);
    }

    /// <summary>Returns <c>partition/sequence[/subSequence]</c>.</summary>
    public override string ToString() => SubSequence == 0 ? $"{PartitionId}/{Sequence}" : $"{PartitionId}/{Sequence}/{SubSequence}";

    /// <summary>Compares two positions.</summary>
    public static bool operator <(StreamPosition left, StreamPosition right) => left.CompareTo(right) < 0;

    /// <summary>Compares two positions.</summary>
    public static bool operator >(StreamPosition left, StreamPosition right) => left.CompareTo(right) > 0;

    /// <summary>Compares two positions.</summary>
    public static bool operator <=(StreamPosition left, StreamPosition right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two positions.</summary>
    public static bool operator >=(StreamPosition left, StreamPosition right) => left.CompareTo(right) >= 0;
}
