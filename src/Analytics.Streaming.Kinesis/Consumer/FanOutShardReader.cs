using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Reads one shard through an enhanced fan-out consumer (<c>SubscribeToShard</c>): the service pushes events; when a
/// subscription ends (about every 5 minutes, or on a transient failure) the reader subscribes again right after the
/// last position it received, at most once per second per shard.
/// </summary>
internal sealed class FanOutShardReader : ShardReaderBase
{
    private static readonly TimeSpan MinSubscribeInterval = TimeSpan.FromSeconds(1);
    private readonly string _consumerArn;

    public FanOutShardReader(IKinesisClient client, KinesisConsumerOptions options, string consumerArn, ShardReadPlan plan, ChannelWriter<RecordBatch<RawRecord>> output)
        : base(client, options, plan, output)
    {
        _consumerArn = consumerArn;
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
                var request = new SubscribeToShardRequest { ConsumerArn = _consumerArn, ShardId = ShardId, StartingPosition = position };
                await foreach (var item in Client.SubscribeToShardAsync(request, cancellationToken).ConfigureAwait(false))
                {
                    // The last event of a closed shard has no continuation and names the children.
                    bool isEnd = item.ContinuationSequenceNumber is null;
                    await EmitAsync(item.Records, item.BehindLatest, isEnd, cancellationToken).ConfigureAwait(false);
                    if (isEnd)
                    {
                        return;
                    }

                    continuation = item.ContinuationSequenceNumber;
                }
            }
            catch (Exception e) when (IsTransient(e, cancellationToken) || e is ResourceInUseException)
            {
                CountFailure(e);
                await BackOffAsync(cancellationToken).ConfigureAwait(false);
            }

            // Resume after the last position the service confirmed, or the last record handed out.
            if (continuation is not null)
            {
                position = StartingPosition.AfterSequenceNumber(continuation);
            }
            else if (Builder.LastSequenceNumber is { } last)
            {
                position = StartingPosition.AfterSequenceNumber(last.ToString());
            }
        }
    }
}
