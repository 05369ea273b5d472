namespace Analytics.Streaming.Kinesis;

/// <summary>Operations built on the members of <see cref="IKinesisClient"/>, for any implementation.</summary>
public static class KinesisClientExtensions
{
    /// <summary>Lists every shard of a stream, following the paging tokens.</summary>
    /// <param name="client">The client.</param>
    /// <param name="request">The stream and filter; its <see cref="KinesisListShardsRequest.NextToken"/> must be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>Every shard, in the service's order (by shard id).</returns>
    /// <remarks>
    /// Paging tokens expire after 300 seconds; when one does, the listing continues after the last shard it received
    /// (<c>ExclusiveStartShardId</c>), so a long listing neither restarts nor repeats shards.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="request"/> carries a paging token.</exception>
    public static async Task<IReadOnlyList<KinesisShard>> ListAllShardsAsync(this IKinesisClient client, KinesisListShardsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        if (request.NextToken is not null)
        {
            throw new ArgumentException("ListAllShardsAsync follows the paging tokens itself: pass a request without NextToken.", nameof(request));
        }

        var shards = new List<KinesisShard>();
        string? token = null;
        while (true)
        {
            KinesisListShardsResponse page;
            try
            {
                page = await client.ListShardsAsync(
                    token is null
                        ? new KinesisListShardsRequest
                        {
                            StreamName = request.StreamName,
                            StreamArn = request.StreamArn,
                            MaxResults = request.MaxResults,
                            ShardFilter = request.ShardFilter,
                            ExclusiveStartShardId = shards.Count > 0 ? shards[^1].ShardId : request.ExclusiveStartShardId,
                        }
                        : new KinesisListShardsRequest { NextToken = token, MaxResults = request.MaxResults },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (KinesisException e) when (token is not null && e.Error == KinesisErrorCode.ExpiredNextToken)
            {
                token = null;
                continue;
            }

            shards.AddRange(page.Shards);
            token = page.NextToken;
            if (token is null)
            {
                return shards;
            }
        }
    }
}
