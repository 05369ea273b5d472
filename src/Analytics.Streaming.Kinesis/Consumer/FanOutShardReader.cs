using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Reads one shard through an enhanced fan-out consumer (<c>SubscribeToShard</c>): the service pushes events; when a
/// subscription ends (about every 5 minutes, or on a transient failure) the reader subscribes again right after the
/// last position it received, at most once per second per shard.
/// </summary>
/// <remarks>
/// <para>
/// Retries: a subscription that fails before delivering an event is retried through the reader's retry pipeline (one
/// budget until a subscription delivers); one that fails after delivering is renewed at once (the subscribe interval
/// spaces it), so a long-lived shard never exhausts its budget by making progress.
/// </para>
/// <para>
/// The service marks the end of a closed shard with an event that has no continuation sequence number. Emulators
/// (kinesis-local) never send it, so when the shard is known to be closed and an event brings nothing new, the reader
/// confirms the end with one GetRecords call after the last position (a null next iterator and no records).
/// </para>
/// </remarks>
internal sealed class FanOutShardReader : ShardReaderBase
{
    private static readonly TimeSpan MinSubscribeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan EndProbeInterval = TimeSpan.FromSeconds(1);
    private readonly string _consumerArn;
    private readonly Func<bool> _isShardClosed;
    private KinesisStartingPosition _position;
    private long? _lastSubscribe;
    private long? _lastProbe;

    public FanOutShardReader(ShardReaderContext context, string consumerArn, ShardReadPlan plan, Func<bool> isShardClosed, ChannelWriter<RecordBatch<RawRecord>> output)
        : base(context, plan, output, KinesisErrors.IsTransientOrInUse)
    {
        _consumerArn = consumerArn;
        _isShardClosed = isShardClosed;
        _position = plan.StartingPosition;
    }

    protected override async Task ReadAsync(CancellationToken cancellationToken)
    {
        while (!await Retry.ExecuteAsync(static (reader, token) => reader.SubscribeOnceAsync(token), this, cancellationToken).ConfigureAwait(false))
        {
            // The subscription delivered and ended (or broke): subscribe again from where it stopped.
        }
    }

    /// <summary>
    /// Runs one subscription. Returns <see langword="true"/> at the end of the shard, <see langword="false"/> when the
    /// subscription ended after delivering events; throws when it failed before delivering any (for a retry).
    /// </summary>
    private async ValueTask<bool> SubscribeOnceAsync(CancellationToken cancellationToken)
    {
        if (_lastSubscribe is { } started)
        {
            var wait = MinSubscribeInterval - Options.TimeProvider.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }

        _lastSubscribe = Options.TimeProvider.GetTimestamp();
        string? continuation = null;
        bool delivered = false;
        try
        {
            var request = new KinesisSubscribeToShardRequest { ConsumerArn = _consumerArn, ShardId = ShardId, StartingPosition = _position };
            await foreach (var item in Client.SubscribeToShardAsync(request, cancellationToken).ConfigureAwait(false))
            {
                // The last event of a closed shard has no continuation and names the children.
                bool isEnd = item.ContinuationSequenceNumber is null
                    || (item.Records.Count == 0 && _isShardClosed() && await IsDrainedAsync(item.ContinuationSequenceNumber, cancellationToken).ConfigureAwait(false));
                await EmitAsync(item.Records, item.BehindLatest, isEnd, cancellationToken).ConfigureAwait(false);
                delivered = true;
                if (isEnd)
                {
                    return true;
                }

                continuation = item.ContinuationSequenceNumber;
            }
        }
        catch (Exception e) when (delivered && !cancellationToken.IsCancellationRequested && KinesisErrors.IsTransientOrInUse(e))
        {
            // Progress was made: renew the subscription at once instead of spending the retry budget.
            NoteRetry(e, 1, MinSubscribeInterval);
        }
        finally
        {
            // Resume after the last position the service confirmed, or the last record handed out.
            if (continuation is not null)
            {
                _position = KinesisStartingPosition.AfterSequenceNumber(continuation);
            }
            else if (delivered && Builder.LastSequenceNumber is not null)
            {
                _position = ResumePosition;
            }
        }

        return false;
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
            string iterator = await GetIteratorAsync(KinesisStartingPosition.AfterSequenceNumber(continuation), cancellationToken).ConfigureAwait(false);
            var page = await Client.GetRecordsAsync(
                new KinesisGetRecordsRequest { ShardIterator = iterator, Limit = 1, StreamArn = Options.StreamArn },
                cancellationToken).ConfigureAwait(false);
            return page.NextShardIterator is null && page.Records.Count == 0;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && KinesisErrors.IsTransient(e))
        {
            // Not confirmed now; the next empty event asks again.
            return false;
        }
    }
}
