using System.Buffers;

namespace Analytics.Streaming.Kinesis;

/// <summary>A user record the producer holds: its data copied into a pooled array, with its keys.</summary>
/// <param name="Data">The pooled copy of the data (empty for an empty payload); returned by <see cref="Release"/>.</param>
/// <param name="Length">The data length (the array may be longer).</param>
/// <param name="PartitionKey">The partition key.</param>
/// <param name="ExplicitHashKey">The explicit hash key, or <see langword="null"/>.</param>
/// <param name="KeyBytes">The UTF-8 length of the partition key (it counts towards the record and batch limits).</param>
/// <param name="Owner">Whose flush reports the record's failure: <see langword="null"/> for <see cref="KinesisProducer.FlushAsync"/>, or a writer of this library (a dead-letter sink) that flushes its own.</param>
/// <param name="Redirects">How many times the record was sent again because its aggregate landed on another shard.</param>
internal readonly record struct ProducerRecord(byte[] Data, int Length, string PartitionKey, string? ExplicitHashKey, int KeyBytes, object? Owner, int Redirects = 0)
{
    public ReadOnlySpan<byte> Span => Data.AsSpan(0, Length);

    /// <summary>Gets the bytes the record counts for: data plus UTF-8 partition key.</summary>
    public long Size => Length + KeyBytes;

    public void Release()
    {
        if (Data.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Data);
        }
    }
}

/// <summary>One Kinesis record to send: a user record, or a KPL aggregate of several going to the same shard.</summary>
internal sealed class OutgoingRecord
{
    private OutgoingRecord(ReadOnlyMemory<byte> data, string partitionKey, string? explicitHashKey, ProducerRecord[] members, string? predictedShard)
    {
        Data = data;
        PartitionKey = partitionKey;
        ExplicitHashKey = explicitHashKey;
        Members = members;
        PredictedShard = predictedShard;
        Size = data.Length + System.Text.Encoding.UTF8.GetByteCount(partitionKey);
        foreach (var member in members)
        {
            UserBytes += member.Size;
        }
    }

    public ReadOnlyMemory<byte> Data { get; }

    public string PartitionKey { get; }

    public string? ExplicitHashKey { get; }

    /// <summary>Gets the user records inside: one for a plain record, several for an aggregate.</summary>
    public ProducerRecord[] Members { get; }

    /// <summary>Gets the shard an aggregate was built for; <see langword="null"/> for a plain record.</summary>
    public string? PredictedShard { get; }

    public bool IsAggregate => PredictedShard is not null;

    /// <summary>Gets the bytes the record counts for in a PutRecords call (data plus UTF-8 partition key).</summary>
    public long Size { get; }

    /// <summary>Gets the bytes of the user records inside (data plus partition keys).</summary>
    public long UserBytes { get; }

    public int UserRecordCount => Members.Length;

    /// <summary>Gets or sets how many times the record was sent.</summary>
    public int Attempts { get; set; }

    public static OutgoingRecord Single(ProducerRecord record) =>
        new(record.Data.AsMemory(0, record.Length), record.PartitionKey, record.ExplicitHashKey, [record], null);

    public static OutgoingRecord Aggregate(byte[] data, string explicitHashKey, string shard, ProducerRecord[] members) =>
        new(data, KplFormat.AggregatePartitionKey, explicitHashKey, members, shard);

    /// <summary>Returns the pooled copies of the user records.</summary>
    public void Release()
    {
        foreach (var member in Members)
        {
            member.Release();
        }
    }
}
