using Analytics.Streaming.Kinesis;

namespace Analytics.Streaming.Testing;

/// <summary>The Kinesis reads of a <see cref="LocalEventSourceMapping"/>: shard listing with lineage, iterators, pages of records.</summary>
internal sealed class ShardReading(IKinesisClient client, string streamName, string shardId)
{
    private string? _iterator;

    public bool IsEndOfShard { get; private set; }

    public static async Task<IReadOnlyList<ListedShard>> ListAsync(IKinesisClient client, string streamName, CancellationToken cancellationToken)
    {
        var shards = new List<ListedShard>();
        string? token = null;
        do
        {
            var page = await client.ListShardsAsync(token is null ? new KinesisListShardsRequest { StreamName = streamName } : new KinesisListShardsRequest { NextToken = token }, cancellationToken).ConfigureAwait(false);
            foreach (var shard in page.Shards)
            {
                shards.Add(new ListedShard(shard.ShardId, [.. shard.ParentShardIds]));
            }

            token = page.NextToken;
        }
        while (token is not null);
        return shards;
    }

    public async Task StartAsync(string? afterSequenceNumber, CancellationToken cancellationToken)
    {
        var position = afterSequenceNumber is null ? KinesisStartingPosition.TrimHorizon : KinesisStartingPosition.AfterSequenceNumber(afterSequenceNumber);
        var response = await client.GetShardIteratorAsync(new KinesisGetShardIteratorRequest { StreamName = streamName, ShardId = shardId, StartingPosition = position }, cancellationToken).ConfigureAwait(false);
        _iterator = response.ShardIterator;
    }

    public async Task<IReadOnlyList<Record>> ReadAsync(int limit, CancellationToken cancellationToken)
    {
        if (_iterator is null)
        {
            IsEndOfShard = true;
            return [];
        }

        var response = await client.GetRecordsAsync(new KinesisGetRecordsRequest { ShardIterator = _iterator, Limit = limit }, cancellationToken).ConfigureAwait(false);
        _iterator = response.NextShardIterator;
        IsEndOfShard = _iterator is null;
        var records = new Record[response.Records.Count];
        for (int i = 0; i < records.Length; i++)
        {
            var record = response.Records[i];
            records[i] = new Record(record.SequenceNumber, record.PartitionKey, record.Data, record.ApproximateArrivalTimestamp ?? DateTimeOffset.UnixEpoch, record.EncryptionType);
        }

        return records;
    }

    public sealed record ListedShard(string ShardId, string[] Parents);

    public sealed record Record(SequenceNumber SequenceNumber, string PartitionKey, ReadOnlyMemory<byte> Data, DateTimeOffset ArrivalTime, string? EncryptionType);
}
