using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Reads one shard with GetRecords, within the shard's limits (calls and bytes per second), renewing expired
/// iterators from the last record it handed out, and retrying throttling and transient failures through the reader's
/// retry pipeline (each read has its own budget).
/// </summary>
internal sealed class PollingShardReader : ShardReaderBase
{
    private readonly ShardReadLimiter _limiter;

    public PollingShardReader(ShardReaderContext context, ShardReadPlan plan, ChannelWriter<RecordBatch<RawRecord>> output)
        : base(context, plan, output, KinesisErrors.IsTransient)
    {
        _limiter = new ShardReadLimiter(Options.MaxGetRecordsCallsPerSecond, Options.MaxBytesPerSecond, Options.TimeProvider);
    }

    protected override async Task ReadAsync(CancellationToken cancellationToken)
    {
        string iterator = await GetIteratorAsync(Plan.StartingPosition, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            KinesisGetRecordsResponse response;
            try
            {
                response = await Retry.ExecuteAsync(
                    static (call, token) => call.Reader.ReadOnceAsync(call.Iterator, token),
                    (Reader: this, Iterator: iterator),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (KinesisExpiredIteratorException)
            {
                // Continue right after the last record handed out; before any record, from where the reader started.
                var restart = ResumePosition;
                KinesisTelemetry.ConsumerIteratorRenewals.Add(1, Tags);
                KinesisLog.IteratorRenewed(Logger, Options.StreamLabel, ShardId, restart);
                iterator = await GetIteratorAsync(restart, cancellationToken).ConfigureAwait(false);
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

    /// <summary>One GetRecords attempt, within the shard's call and byte rates (retries wait for them too).</summary>
    private async ValueTask<KinesisGetRecordsResponse> ReadOnceAsync(string iterator, CancellationToken cancellationToken)
    {
        await _limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        _limiter.OnCallStarting();
        return await Client.GetRecordsAsync(
            new KinesisGetRecordsRequest { ShardIterator = iterator, Limit = Options.MaxRecordsPerCall, StreamArn = Options.StreamArn },
            cancellationToken).ConfigureAwait(false);
    }
}
