using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Reads one shard with GetRecords, within the shard's limits (calls and bytes per second), renewing expired
/// iterators from the last record it handed out, and retrying throttling and transient failures with back-off.
/// </summary>
internal sealed class PollingShardReader : ShardReaderBase
{
    private readonly ShardReadLimiter _limiter;

    public PollingShardReader(IKinesisClient client, KinesisConsumerOptions options, ShardReadPlan plan, ChannelWriter<RecordBatch<RawRecord>> output)
        : base(client, options, plan, output)
    {
        _limiter = new ShardReadLimiter(options.MaxGetRecordsCallsPerSecond, options.MaxBytesPerSecond, options.TimeProvider);
    }

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        string iterator = await GetIteratorAsync(Plan.StartingPosition, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            await _limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
            _limiter.OnCallStarting();
            KinesisGetRecordsResponse response;
            try
            {
                response = await Client.GetRecordsAsync(
                    new KinesisGetRecordsRequest { ShardIterator = iterator, Limit = Options.MaxRecordsPerCall, StreamArn = Options.StreamArn },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (KinesisExpiredIteratorException)
            {
                // Continue right after the last record handed out; before any record, from where the reader started.
                KinesisTelemetry.ConsumerIteratorRenewals.Add(1, Tags);
                var restart = Builder.LastSequenceNumber is { } last
                    ? KinesisStartingPosition.AfterSequenceNumber(last.ToString())
                    : Plan.StartingPosition;
                iterator = await GetIteratorAsync(restart, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                CountFailure(e);
                await BackOffAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            bool isEnd = response.NextShardIterator is null;
            long bytes = await EmitAsync(response.Records, response.BehindLatest, isEnd, cancellationToken).ConfigureAwait(false);
            _limiter.OnResponse(bytes);
            if (isEnd)
            {
                return;
            }

            iterator = response.NextShardIterator!;
            if (response.Records.Count == 0 && response.BehindLatest is null or { Ticks: 0 })
            {
                await Task.Delay(Options.IdleTimeBetweenReads, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string> GetIteratorAsync(KinesisStartingPosition position, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var response = await Client.GetShardIteratorAsync(
                    new KinesisGetShardIteratorRequest
                    {
                        StreamName = Options.StreamName,
                        StreamArn = Options.StreamArn,
                        ShardId = ShardId,
                        StartingPosition = position,
                    },
                    cancellationToken).ConfigureAwait(false);
                return response.ShardIterator;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                CountFailure(e);
                await BackOffAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
