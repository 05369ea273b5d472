using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Reads one shard through an enhanced fan-out consumer (<c>SubscribeToShard</c>): the service pushes events; when a
/// subscription ends (about every 5 minutes, or on a transient failure) the reader subscribes again right after the
/// last position it received, at most once per second per shard.
/// </summary>
/// <remarks>
/// The service marks the end of a closed shard with an event that has no continuation sequence number. Emulators
/// (kinesis-local) never send it, so when the shard is known to be closed and an event brings nothing new, the reader
/// confirms the end with one GetRecords call after the last position (a null next iterator and no records).
/// </remarks>
internal sealed class FanOutShardReader : ShardReaderBase
{
    private static readonly TimeSpan MinSubscribeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan EndProbeInterval = TimeSpan.FromSeconds(1);
    private readonly string _consumerArn;
    private readonly Func<bool> _isShardClosed;
    private long? _lastProbe;

    public FanOutShardReader(
        IKinesisClient client,
        KinesisConsumerOptions options,
        string consumerArn,
        ShardReadPlan plan,
        Func<bool> isShardClosed,
        ChannelWriter<RecordBatch<RawRecord>> output)
        : base(client, options, plan, output)
    {
        _consumerArn = consumerArn;
        _isShardClosed = isShardClosed;
    }

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        var position = Plan.StartingPosition;
        long? lastSubscribe = null;
        while (true)
        {
            if (lastSubscribe is { } started)
            {
                var wait = MinSubscribeInterval - Options.TimeProvider.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
                }
            }

            lastSubscribe = Options.TimeProvider.GetTimestamp();
            string? continuation = null;
            try
            {
                var request = new KinesisSubscribeToShardRequest { ConsumerArn = _consumerArn, ShardId = ShardId, StartingPosition = position };
                await foreach (var item in Client.SubscribeToShardAsync(request, cancellationToken).ConfigureAwait(false))
                {
                    // The last event of a closed shard has no continuation and names the children.
                    bool isEnd = item.ContinuationSequenceNumber is null
                        || (item.Records.Count == 0 && _isShardClosed() && await IsDrainedAsync(item.ContinuationSequenceNumber, cancellationToken).ConfigureAwait(false));
                    await EmitAsync(item.Records, item.BehindLatest, isEnd, cancellationToken).ConfigureAwait(false);
                    if (isEnd)
                    {
                        return;
                    }

                    continuation = item.ContinuationSequenceNumber;
                }
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) || e is KinesisResourceInUseException)
            {
                CountFailure(e);
                await BackOffAsync(cancellationToken).ConfigureAwait(false);
            }

            // Resume after the last position the service confirmed, or the last record handed out.
            if (continuation is not null)
            {
                position = KinesisStartingPosition.AfterSequenceNumber(continuation);
            }
            else if (Builder.LastSequenceNumber is { } last)
            {
                position = KinesisStartingPosition.AfterSequenceNumber(last.ToString());
            }
        }
    }

    /// <summary>Asks GetRecords whether nothing follows <paramref name="continuation"/> in the closed shard.</summary>
    private async Task<bool> IsDrainedAsync(string continuation, CancellationToken cancellationToken)
    {
        if (_lastProbe is { } last && Options.TimeProvider.GetElapsedTime(last) < EndProbeInterval)
        {
            return false;
        }

        _lastProbe = Options.TimeProvider.GetTimestamp();
        try
        {
            var iterator = await Client.GetShardIteratorAsync(
                new KinesisGetShardIteratorRequest
                {
                    StreamName = Options.StreamName,
                    StreamArn = Options.StreamArn,
                    ShardId = ShardId,
                    StartingPosition = KinesisStartingPosition.AfterSequenceNumber(continuation),
                },
                cancellationToken).ConfigureAwait(false);
            var page = await Client.GetRecordsAsync(
                new KinesisGetRecordsRequest { ShardIterator = iterator.ShardIterator, Limit = 1, StreamArn = Options.StreamArn },
                cancellationToken).ConfigureAwait(false);
            return page.NextShardIterator is null && page.Records.Count == 0;
        }
        catch (Exception e) when (IsTransient(e, cancellationToken))
        {
            CountFailure(e);
            return false;
        }
    }
}
