using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Analytics.Streaming.Kinesis;

/// <summary>What polling and enhanced fan-out shard readers share: the batch builder, the output and retry waits.</summary>
internal abstract class ShardReaderBase
{
    private int _failuresInARow;

    protected ShardReaderBase(IKinesisClient client, KinesisConsumerOptions options, ShardReadPlan plan, ChannelWriter<RecordBatch<RawRecord>> output)
    {
        Client = client;
        Options = options;
        Plan = plan;
        Output = output;
        Tags = new TagList
        {
            { "stream", options.StreamName ?? options.StreamArn },
            { "shard", plan.Shard.ShardId },
        };
        Builder = new ShardBatchBuilder(plan.Shard.ShardId, plan.Shard.HashKeyRange, options.Deaggregate, plan.ResumeAfter, Tags);
    }

    protected IKinesisClient Client { get; }

    protected KinesisConsumerOptions Options { get; }

    protected ShardReadPlan Plan { get; }

    protected ChannelWriter<RecordBatch<RawRecord>> Output { get; }

    protected ShardBatchBuilder Builder { get; }

    protected TagList Tags { get; }

    protected string ShardId => Plan.Shard.ShardId;

    /// <summary>Reads the shard until its end (returns) or cancellation; a non-retryable failure propagates.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>A task that completes after the end-of-shard batch has been written.</returns>
    public abstract Task RunAsync(CancellationToken cancellationToken);

    /// <summary>Builds the batch of one response and hands it on (waiting while the output is full).</summary>
    /// <returns>The payload bytes read.</returns>
    protected async ValueTask<long> EmitAsync(IReadOnlyList<KinesisRecord> records, TimeSpan? behindLatest, bool isEndOfShard, CancellationToken cancellationToken)
    {
        var batch = Builder.Build(records, behindLatest, isEndOfShard, Plan.EndOfShardFallback, out long bytes);
        if (behindLatest is { } lag)
        {
            KinesisTelemetry.ConsumerBehindLatest.Record(lag.TotalSeconds, Tags);
        }

        if (isEndOfShard || batch.Records.Length > 0 || batch.DeadLetters.Count > 0 || Options.EmitEmptyBatches)
        {
            await Output.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        _failuresInARow = 0;
        return bytes;
    }

    /// <summary>Waits before retrying after throttling or a transient failure: exponential from the base delay, full jitter.</summary>
    protected Task BackOffAsync(CancellationToken cancellationToken) =>
        Task.Delay(BackOffDelay(Options, _failuresInARow++), Options.TimeProvider, cancellationToken);

    /// <summary>
    /// The wait before retry number <paramref name="failuresInARow"/> + 1: full jitter under an exponential ceiling,
    /// but never less than half the base delay, so a throttled caller always pauses.
    /// </summary>
    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification = "Jitter for retry spacing, not security.")]
    internal static TimeSpan BackOffDelay(KinesisConsumerOptions options, int failuresInARow)
    {
        int exponent = Math.Min(failuresInARow, 16);
        double ceiling = Math.Min(options.RetryMaxDelay.TotalMilliseconds, options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(Math.Max(options.RetryBaseDelay.TotalMilliseconds / 2, Random.Shared.NextDouble() * ceiling));
    }

    /// <summary>Decides whether a failure is worth another try after a back-off (throttling, 5xx, connection failures).</summary>
    internal static bool IsTransient(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        KinesisException kinesis => kinesis.IsRetryable || kinesis.IsThrottling,
        HttpRequestException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        IOException => true,
        _ => false,
    };

    /// <summary>Counts a transient failure for telemetry.</summary>
    protected void CountFailure(Exception exception)
    {
        if (exception is KinesisException { IsThrottling: true })
        {
            KinesisTelemetry.ConsumerThrottles.Add(1, Tags);
        }
        else
        {
            KinesisTelemetry.ConsumerRetries.Add(1, Tags);
        }
    }
}
