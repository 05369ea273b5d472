namespace Analytics.Streaming.Kinesis;

/// <summary>The open shards of a stream by hash key range, to predict where a record goes.</summary>
internal sealed class ShardMap
{
    private readonly UInt128[] _starts;
    private readonly UInt128[] _ends;
    private readonly string[] _ids;

    private ShardMap(UInt128[] starts, UInt128[] ends, string[] ids)
    {
        _starts = starts;
        _ends = ends;
        _ids = ids;
    }

    public int Count => _ids.Length;

    public static ShardMap From(IEnumerable<KinesisShard> shards)
    {
        var open = new List<KinesisShard>();
        foreach (var shard in shards)
        {
            if (!shard.IsClosed)
            {
                open.Add(shard);
            }
        }

        open.Sort(static (a, b) => a.HashKeyRange.StartingHashKey.CompareTo(b.HashKeyRange.StartingHashKey));
        var starts = new UInt128[open.Count];
        var ends = new UInt128[open.Count];
        var ids = new string[open.Count];
        for (int i = 0; i < open.Count; i++)
        {
            starts[i] = open[i].HashKeyRange.StartingHashKey;
            ends[i] = open[i].HashKeyRange.EndingHashKey;
            ids[i] = open[i].ShardId;
        }

        return new ShardMap(starts, ends, ids);
    }

    /// <summary>Returns the shard owning <paramref name="hashKey"/>, or <see langword="null"/> when none does.</summary>
    public string? Find(UInt128 hashKey)
    {
        int low = 0, high = _starts.Length - 1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            if (_starts[mid] <= hashKey)
            {
                if (hashKey <= _ends[mid])
                {
                    return _ids[mid];
                }

                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return null;
    }
}
