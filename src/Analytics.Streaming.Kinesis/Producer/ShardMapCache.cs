using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The shard-map stage of the producer: the open shards of the stream by hash key range, loaded with ListShards,
/// refreshed every <see cref="KinesisProducerOptions.ShardMapRefreshInterval"/> and at once after a reshard was noticed.
/// </summary>
/// <remarks>When the shards cannot be listed the map is empty and records go out unaggregated until the next refresh. Not thread-safe: owned by the producer's pump.</remarks>
internal sealed class ShardMapCache(IKinesisClient client, KinesisStreamRequest stream, string streamLabel, TimeSpan refreshInterval, TimeProvider time, ILogger logger)
{
    private ShardMap? _map;
    private long _loadedAt;
    private bool _stale = true;

    /// <summary>Gets a value indicating whether the map is due: never loaded, marked stale, or older than the refresh interval.</summary>
    public bool NeedsRefresh => _stale || time.GetElapsedTime(_loadedAt) >= refreshInterval;

    /// <summary>Marks the map stale: a record landed on another shard than predicted.</summary>
    public void MarkStale() => _stale = true;

    /// <summary>Returns the shard predicted for <paramref name="hashKey"/>, or <see langword="null"/> without a map.</summary>
    public string? Find(UInt128 hashKey) => _map?.Find(hashKey);

    /// <summary>Loads the map again (every page of ListShards).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        _loadedAt = time.GetTimestamp();
        _stale = false;
        try
        {
            var shards = await client.ListAllShardsAsync(new KinesisListShardsRequest { StreamName = stream.StreamName, StreamArn = stream.StreamArn }, cancellationToken).ConfigureAwait(false);
            _map = ShardMap.From(shards);
            KinesisLog.ShardMapLoaded(logger, streamLabel, _map.Count);
        }
#pragma warning disable CA1031 // Any client's failure (an adapter over another SDK throws its own exceptions) only costs aggregation until the next refresh; the pump must go on.
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            _map = null;
            KinesisLog.ShardMapFailed(logger, streamLabel, exception);
        }
    }
}
