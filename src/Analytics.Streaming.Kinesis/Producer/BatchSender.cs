using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Analytics.Streaming.Kinesis;

/// <summary>What became of the records of one batch.</summary>
/// <param name="Written">The records written, with the shard each landed on.</param>
/// <param name="GivenUp">The records given up on, with the last error.</param>
internal sealed record BatchOutcome(List<(OutgoingRecord Record, string? ShardId)> Written, List<(OutgoingRecord Record, string ErrorCode, string ErrorMessage)> GivenUp);

/// <summary>
/// The sending stage of the producer: sends one batch with PutRecords and resends only the entries that failed,
/// through the retry pipeline built from <see cref="KinesisProducerOptions.Retry"/>.
/// </summary>
/// <remarks>
/// Entries that fail with a retryable code (throttling, internal failure) and calls that fail as a whole with a
/// retryable error (after the client's own retries) are sent again after a backoff, until the budget runs out; entries
/// and calls that fail otherwise are given up at once. Thread-safe: several batches may be in flight.
/// </remarks>
internal sealed class BatchSender
{
    private readonly IKinesisClient _client;
    private readonly KinesisStreamRequest _stream;
    private readonly string _streamLabel;
    private readonly TimeProvider _time;
    private readonly ProducerCounters _counters;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<AttemptResult> _retry;

    public BatchSender(IKinesisClient client, KinesisStreamRequest stream, string streamLabel, RetryOptions retry, TimeProvider time, ProducerCounters counters, ILogger logger, Func<double>? random = null)
    {
        _client = client;
        _stream = stream;
        _streamLabel = streamLabel;
        _time = time;
        _counters = counters;
        _logger = logger;
        _retry = RetryPipelineFactory.Create<AttemptResult>(retry, time, static outcome => outcome.Result.Retryable, OnRetry, random);
    }

    /// <summary>Sends a batch until every record is written or given up on. Never throws, except for cancellation.</summary>
    public async Task<BatchOutcome> SendAsync(List<OutgoingRecord> batch, CancellationToken cancellationToken)
    {
        var state = new SendState(batch);
        var last = await _retry.ExecuteAsync(static (s, token) => s.Sender.AttemptAsync(s.State, token), (Sender: this, State: state), cancellationToken).ConfigureAwait(false);
        foreach (var record in state.Remaining)
        {
            state.GivenUp.Add((record, last.ErrorCode ?? "Unknown", last.ErrorMessage ?? "no answer"));
        }

        if (state.GivenUp.Count > 0)
        {
            int users = 0;
            foreach (var (record, _, _) in state.GivenUp)
            {
                users += record.UserRecordCount;
            }

            var (lastRecord, code, message) = state.GivenUp[^1];
            KinesisLog.RecordsFailed(_logger, _streamLabel, users, lastRecord.Attempts, code, message);
        }

        return new BatchOutcome(state.Written, state.GivenUp);
    }

    /// <summary>Sends the records still pending in one PutRecords call and sorts the answer.</summary>
    private async ValueTask<AttemptResult> AttemptAsync(SendState state, CancellationToken cancellationToken)
    {
        var pending = state.Remaining;
        var entries = new KinesisPutRecordsEntry[pending.Count];
        int resent = 0;
        for (int i = 0; i < pending.Count; i++)
        {
            var record = pending[i];
            resent += record.Attempts++ > 0 ? 1 : 0;
            entries[i] = new KinesisPutRecordsEntry(record.Data, record.PartitionKey, record.ExplicitHashKey);
        }

        if (resent > 0)
        {
            _counters.Resent(resent);
        }

        long started = _time.GetTimestamp();
        KinesisPutRecordsResponse response;
        try
        {
            response = await _client.PutRecordsAsync(
                new KinesisPutRecordsRequest { StreamName = _stream.StreamName, StreamArn = _stream.StreamArn, Records = entries },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _counters.Request(_time.GetElapsedTime(started));
            var code = (exception as KinesisException)?.ErrorCode ?? exception.GetType().Name;
            return new AttemptResult(pending.Count, pending.Count, 0, code, exception.Message, KinesisErrors.IsTransient(exception));
        }

        _counters.Request(_time.GetElapsedTime(started));
        var still = new List<OutgoingRecord>();
        int throttled = 0;
        bool retryable = false;
        string? lastCode = null, lastMessage = null;
        for (int i = 0; i < pending.Count; i++)
        {
            var result = response.Records[i];
            if (result.IsSuccess)
            {
                state.Written.Add((pending[i], result.ShardId));
                continue;
            }

            lastCode = result.ErrorCode!;
            lastMessage = result.ErrorMessage ?? lastCode;
            throttled += lastCode == KinesisErrors.ProvisionedThroughputExceeded ? 1 : 0;
            if (KinesisErrors.IsRetryable(lastCode, null))
            {
                retryable = true;
                still.Add(pending[i]);
            }
            else
            {
                state.GivenUp.Add((pending[i], lastCode, lastMessage));
            }
        }

        if (throttled > 0)
        {
            _counters.Throttled(throttled);
        }

        state.Remaining = still;
        return new AttemptResult(pending.Count, still.Count, throttled, lastCode, lastMessage, retryable);
    }

    private void OnRetry(RetryNotice<AttemptResult> notice)
    {
        var result = notice.Outcome.Result;
        if (result.Throttled == result.Remaining)
        {
            KinesisLog.RecordsThrottled(_logger, _streamLabel, result.Remaining, result.Total, notice.FailedAttempt, notice.Delay);
        }
        else
        {
            KinesisLog.RecordsRetrying(_logger, _streamLabel, result.Remaining, result.Total, result.ErrorCode ?? "unknown", notice.FailedAttempt, notice.Delay);
        }
    }

    /// <summary>The answer to one attempt: how many records are left, why, and whether another attempt may help.</summary>
    private readonly record struct AttemptResult(int Total, int Remaining, int Throttled, string? ErrorCode, string? ErrorMessage, bool Retryable);

    /// <summary>The records of one batch as the attempts sort them.</summary>
    private sealed class SendState(List<OutgoingRecord> batch)
    {
        public List<OutgoingRecord> Remaining { get; set; } = batch;

        public List<(OutgoingRecord Record, string? ShardId)> Written { get; } = new(batch.Count);

        public List<(OutgoingRecord Record, string ErrorCode, string ErrorMessage)> GivenUp { get; } = [];
    }
}
