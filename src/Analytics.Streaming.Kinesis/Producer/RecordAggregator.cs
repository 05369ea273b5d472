namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The aggregation stage of the producer: packs user records predicted to go to the same shard into KPL aggregates,
/// one open aggregate per shard, and hands out the Kinesis records to send.
/// </summary>
/// <remarks>
/// An aggregate is closed when the next record does not fit under the size limit, or when the producer asks (linger,
/// flush, a new shard map). An aggregate that holds one user record is sent as that plain record. Not thread-safe:
/// owned by the producer's pump.
/// </remarks>
internal sealed class RecordAggregator : IDisposable
{
    private readonly int _maxSize;
    private readonly Dictionary<string, (KplAggregateBuilder Builder, List<ProducerRecord> Members)> _open = new(StringComparer.Ordinal);

    public RecordAggregator(int maxSize)
    {
        _maxSize = maxSize;
    }

    /// <summary>Gets how many user records wait in open aggregates.</summary>
    public int OpenCount { get; private set; }

    /// <summary>Returns whether a record is too large to be aggregated (it is then sent alone).</summary>
    public bool IsTooLarge(in ProducerRecord record) => record.Length + KplFormat.Overhead + record.KeyBytes + 16 > _maxSize;

    /// <summary>Adds a record to the open aggregate of <paramref name="shard"/>; an aggregate it closes goes to <paramref name="closed"/>.</summary>
    public void Add(in ProducerRecord record, string shard, List<OutgoingRecord> closed)
    {
        if (!_open.TryGetValue(shard, out var open))
        {
            open = (new KplAggregateBuilder(_maxSize), []);
            _open.Add(shard, open);
        }

        if (!open.Builder.TryAdd(record.Span, record.PartitionKey, record.ExplicitHashKey))
        {
            closed.Add(Close(shard, open.Builder, open.Members));
            open.Builder.TryAdd(record.Span, record.PartitionKey, record.ExplicitHashKey);
        }

        open.Members.Add(record);
        OpenCount++;
    }

    /// <summary>Closes every open aggregate into <paramref name="closed"/>.</summary>
    public void CloseAll(List<OutgoingRecord> closed)
    {
        foreach (var (shard, open) in _open)
        {
            if (open.Members.Count > 0)
            {
                closed.Add(Close(shard, open.Builder, open.Members));
            }
        }
    }

    public void Dispose()
    {
        foreach (var open in _open.Values)
        {
            open.Builder.Dispose();
        }

        _open.Clear();
    }

    private OutgoingRecord Close(string shard, KplAggregateBuilder builder, List<ProducerRecord> members)
    {
        OutgoingRecord record;
        if (members.Count == 1)
        {
            record = OutgoingRecord.Single(members[0]);
        }
        else
        {
            byte[] data = new byte[builder.Size];
            builder.WriteTo(data);
            record = OutgoingRecord.Aggregate(data, builder.AggregateExplicitHashKey, shard, [.. members]);
        }

        OpenCount -= members.Count;
        members.Clear();
        builder.Clear();
        return record;
    }
}
