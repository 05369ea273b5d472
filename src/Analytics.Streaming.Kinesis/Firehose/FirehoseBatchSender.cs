using System.Diagnostics;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Analytics.Streaming.Kinesis.Firehose;

/// <summary>
/// Sends one batch of records to a delivery stream with PutRecordBatch and resends only the records that failed,
/// through the retry pipeline built from <see cref="FirehoseSinkOptions.Retry"/>; throws when records remain.
/// </summary>
internal sealed class FirehoseBatchSender
{
    private readonly IFirehoseClient _client;
    private readonly string _deliveryStream;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TagList _tags;
    private readonly ResiliencePipeline<AttemptResult> _retry;

    public FirehoseBatchSender(IFirehoseClient client, string deliveryStream, RetryOptions retry, TimeProvider time, ILogger logger)
    {
        _client = client;
        _deliveryStream = deliveryStream;
        _time = time;
        _logger = logger;
        _tags = new TagList { { "delivery_stream", deliveryStream } };
        _retry = RetryPipelineFactory.Create<AttemptResult>(retry, time, static outcome => outcome.Result.Retryable, OnRetry);
    }

    /// <summary>Gets the number of records delivered so far.</summary>
    public long Delivered { get; private set; }

    /// <summary>Gets the number of records sent again after a failure so far.</summary>
    public long Retried { get; private set; }

    /// <summary>Delivers every record, or throws <see cref="FirehoseDeliveryException"/> with those that could not be.</summary>
    public async Task DeliverAsync(IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken cancellationToken)
    {
        var state = new DeliveryState(records);
        var last = await _retry.ExecuteAsync(static (s, token) => s.Sender.AttemptAsync(s.State, token), (Sender: this, State: state), cancellationToken).ConfigureAwait(false);
        if (state.Pending.Count == 0)
        {
            return;
        }

        KinesisLog.FirehoseRecordsFailed(_logger, _deliveryStream, state.Pending.Count, state.Attempts, last.ErrorCode);
        string message = last.CallFailure is { IsRetryable: false } fatal
            ? $"PutRecordBatch to '{_deliveryStream}' failed with {fatal.ErrorCode}, which is not retryable: {fatal.Message}"
            : $"{state.Pending.Count} record(s) could not be delivered to '{_deliveryStream}' after {state.Attempts} attempts; last error {last.ErrorCode}: {last.ErrorMessage}";
        throw new FirehoseDeliveryException(message, state.Pending.Count, last.ErrorCode, last.CallFailure);
    }

    private async ValueTask<AttemptResult> AttemptAsync(DeliveryState state, CancellationToken cancellationToken)
    {
        var pending = state.Pending;
        if (state.Attempts++ > 0)
        {
            Retried += pending.Count;
            KinesisTelemetry.FirehoseRetries.Add(pending.Count, _tags);
        }

        long started = _time.GetTimestamp();
        FirehosePutRecordBatchResponse response;
        try
        {
            response = await _client.PutRecordBatchAsync(new FirehosePutRecordBatchRequest { DeliveryStreamName = _deliveryStream, Records = pending }, cancellationToken).ConfigureAwait(false);
        }
        catch (KinesisException exception)
        {
            return new AttemptResult(pending.Count, pending.Count, exception.ErrorCode, exception.Message, exception, exception.IsRetryable);
        }
        finally
        {
            KinesisTelemetry.FirehoseRequestDuration.Record(_time.GetElapsedTime(started).TotalSeconds, _tags);
        }

        List<ReadOnlyMemory<byte>>? failed = null;
        string code = string.Empty, message = string.Empty;
        bool retryable = true;
        for (int i = 0; i < response.RequestResponses.Count; i++)
        {
            var result = response.RequestResponses[i];
            if (!result.IsSuccess)
            {
                (failed ??= []).Add(pending[i]);
                code = result.ErrorCode!;
                message = result.ErrorMessage ?? code;
                retryable &= KinesisErrors.IsRetryable(code, null);
            }
        }

        int delivered = pending.Count - (failed?.Count ?? 0);
        Delivered += delivered;
        KinesisTelemetry.FirehoseRecords.Add(delivered, _tags);
        state.Pending = failed ?? [];
        return new AttemptResult(pending.Count, failed?.Count ?? 0, code, message, null, failed is not null && retryable);
    }

    private void OnRetry(RetryNotice<AttemptResult> notice)
    {
        var result = notice.Outcome.Result;
        KinesisLog.FirehoseRecordsRetrying(_logger, _deliveryStream, result.Failed, result.Total, result.ErrorCode, notice.FailedAttempt, notice.Delay);
    }

    /// <summary>The answer to one attempt: how many of how many records failed, why, and whether another attempt may help.</summary>
    private readonly record struct AttemptResult(int Total, int Failed, string ErrorCode, string ErrorMessage, KinesisException? CallFailure, bool Retryable);

    private sealed class DeliveryState(IReadOnlyList<ReadOnlyMemory<byte>> records)
    {
        public IReadOnlyList<ReadOnlyMemory<byte>> Pending { get; set; } = records;

        public int Attempts { get; set; }
    }
}
