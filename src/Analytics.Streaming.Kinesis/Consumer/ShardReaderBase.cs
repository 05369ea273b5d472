using System.Diagnostics;
using System.Threading.Channels;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Analytics.Streaming.Kinesis;

/// <summary>What every shard reader of one consumer run shares: the client, the options and the logger.</summary>
/// <param name="Client">The Kinesis client.</param>
/// <param name="Options">The consumer's options.</param>
/// <param name="Logger">The consumer's logger.</param>
internal sealed record ShardReaderContext(IKinesisClient Client, KinesisConsumerOptions Options, ILogger Logger);

/// <summary>
/// What polling and enhanced fan-out shard readers share: the batch builder, the output, the retry pipeline (with its
/// logging and counting), and the shard iterator request.
/// </summary>
internal abstract class ShardReaderBase
{
    /// <summary>How far before its first LATEST iterator a reader resumes when that iterator expires before a record: the client's clock may be ahead of the service's.</summary>
    private static readonly TimeSpan ClockSkewMargin = TimeSpan.FromMinutes(1);

    private TimeSpan _lastLag;
    private long _lastReadAt;
    private DateTimeOffset? _latestFrom;

    protected ShardReaderBase(ShardReaderContext context, ShardReadPlan plan, ChannelWriter<RecordBatch<RawRecord>> output, Func<Exception, bool> isTransient)
    {
        Client = context.Client;
        Options = context.Options;
        Logger = context.Logger;
        Plan = plan;
        Output = output;
        Tags = new TagList
        {
            { "stream", Options.StreamLabel },
            { "shard", plan.Shard.ShardId },
        };
        Builder = new ShardBatchBuilder(plan.Shard.ShardId, plan.Shard.HashKeyRange, Options.Deaggregate, plan.ResumeAfter, Tags, Logger, Options.StreamLabel);
        Retry = RetryPipelineFactory.Create(Options.Retry, Options.TimeProvider, isTransient, OnRetry);
        _lastReadAt = Options.TimeProvider.GetTimestamp();
    }

    protected IKinesisClient Client { get; }

    protected KinesisConsumerOptions Options { get; }

    protected ILogger Logger { get; }

    protected ShardReadPlan Plan { get; }

    protected ChannelWriter<RecordBatch<RawRecord>> Output { get; }

    protected ShardBatchBuilder Builder { get; }

    protected TagList Tags { get; }

    /// <summary>Gets the reader's retry pipeline: <see cref="KinesisConsumerOptions.Retry"/>, each retry logged and counted.</summary>
    protected ResiliencePipeline Retry { get; }

    protected string ShardId => Plan.Shard.ShardId;

    /// <summary>Gets the end position of the last batch handed on; <see langword="null"/> before the first with records.</summary>
    public StreamPosition? Delivered { get; private set; }

    /// <summary>
    /// Gets where to continue after an interruption: right after the last record handed out, or where the reader
    /// started. A reader that started at LATEST and has handed out nothing continues at the time it asked for that
    /// iterator, less <see cref="ClockSkewMargin"/>: a new LATEST would skip what came in meanwhile.
    /// </summary>
    protected KinesisStartingPosition ResumePosition => Builder.LastSequenceNumber is { } last
        ? KinesisStartingPosition.AfterSequenceNumber(last.ToString())
        : _latestFrom is { } from ? KinesisStartingPosition.AtTimestamp(from) : Plan.StartingPosition;

    /// <summary>Reads the shard until its end (returns) or cancellation; a failure that is not transient, or that outlasts the retry budget, propagates.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>A task that completes after the end-of-shard batch has been written.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        KinesisLog.ShardReaderStarted(Logger, Options.StreamLabel, ShardId, Plan.StartingPosition);
        await ReadAsync(cancellationToken).ConfigureAwait(false);
        KinesisLog.ShardEnded(Logger, Options.StreamLabel, ShardId);
    }

    /// <summary>Reads the shard until its end.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>A task that completes after the end-of-shard batch has been written.</returns>
    protected abstract Task ReadAsync(CancellationToken cancellationToken);

    /// <summary>Gets a shard iterator at <paramref name="position"/>, with retries.</summary>
    protected async Task<string> GetIteratorAsync(KinesisStartingPosition position, CancellationToken cancellationToken)
    {
        if (position.Type == KinesisStartingPositionType.Latest)
        {
            _latestFrom ??= Options.TimeProvider.GetUtcNow() - ClockSkewMargin;
        }

        var response = await Retry.ExecuteAsync(
            static (call, token) => new ValueTask<KinesisGetShardIteratorResponse>(call.Reader.Client.GetShardIteratorAsync(
                new KinesisGetShardIteratorRequest
                {
                    StreamName = call.Reader.Options.StreamName,
                    StreamArn = call.Reader.Options.StreamArn,
                    ShardId = call.Reader.ShardId,
                    StartingPosition = call.Position,
                },
                token)),
            (Reader: this, Position: position),
            cancellationToken).ConfigureAwait(false);
        return response.ShardIterator;
    }

    /// <summary>Builds the batch of one response and hands it on (waiting while the output is full).</summary>
    /// <returns>The payload bytes read.</returns>
    protected async ValueTask<long> EmitAsync(IReadOnlyList<KinesisRecord> records, TimeSpan? behindLatest, bool isEndOfShard, CancellationToken cancellationToken)
    {
        var batch = Builder.Build(records, behindLatest, isEndOfShard, Plan.EndOfShardFallback, out long bytes);
        _lastLag = behindLatest ?? TimeSpan.Zero;
        _lastReadAt = Options.TimeProvider.GetTimestamp();
        if (behindLatest is { } lag)
        {
            KinesisTelemetry.ConsumerBehindLatest.Record(lag.TotalSeconds, Tags);
        }

        if (isEndOfShard || batch.Records.Length > 0 || batch.DeadLetters.Count > 0 || Options.EmitEmptyBatches)
        {
            await Output.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            Delivered = batch.EndPosition ?? Delivered;
        }

        return bytes;
    }

    /// <summary>
    /// Counts and logs a transient failure that is about to be retried after <paramref name="delay"/>, and hands on an
    /// empty batch whose lag is the last one read plus the time since that read: a shard that cannot be read is not
    /// idle, and once that lag passes the pipeline's idle timeout the shard keeps holding the watermark.
    /// </summary>
    protected void NoteRetry(Exception exception, int failedAttempt, TimeSpan delay)
    {
        if (Options.EmitEmptyBatches)
        {
            // Not waited for: a full output means the pipeline has batches to go on with.
            var lag = _lastLag + Options.TimeProvider.GetElapsedTime(_lastReadAt);
            Output.TryWrite(Builder.Build([], lag, isEndOfShard: false, Plan.EndOfShardFallback, out _));
        }

        string operation = (exception as KinesisException)?.Operation ?? "read";
        if (exception is KinesisException { IsThrottling: true } throttled)
        {
            KinesisTelemetry.ConsumerThrottles.Add(1, Tags);
            KinesisLog.ReadThrottled(Logger, Options.StreamLabel, ShardId, operation, throttled.ErrorCode, failedAttempt, delay);
        }
        else
        {
            KinesisTelemetry.ConsumerRetries.Add(1, Tags);
            KinesisLog.ReadRetrying(Logger, Options.StreamLabel, ShardId, operation, failedAttempt, delay, exception);
        }
    }

    private void OnRetry(RetryNotice<object> notice)
    {
        if (notice.Outcome.Exception is { } exception)
        {
            NoteRetry(exception, notice.FailedAttempt, notice.Delay);
        }
    }
}
