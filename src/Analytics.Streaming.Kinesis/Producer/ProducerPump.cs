using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis;

/// <summary>What the pump of a producer reacts to, in the order it arrives.</summary>
internal readonly struct ProducerSignal
{
    private ProducerSignal(ProducerSignalKind kind, ProducerRecord record, TaskCompletionSource? flush, BatchOutcome? outcome)
    {
        Kind = kind;
        Record = record;
        Flush = flush;
        Outcome = outcome;
    }

    public ProducerSignalKind Kind { get; }

    public ProducerRecord Record { get; }

    public TaskCompletionSource? Flush { get; }

    public BatchOutcome? Outcome { get; }

    public static ProducerSignal ForRecord(in ProducerRecord record) => new(ProducerSignalKind.Record, record, null, null);

    public static ProducerSignal ForFlush(TaskCompletionSource marker) => new(ProducerSignalKind.Flush, default, marker, null);

    public static ProducerSignal ForSent(BatchOutcome outcome) => new(ProducerSignalKind.Sent, default, null, outcome);

    public static ProducerSignal LingerElapsed => new(ProducerSignalKind.Linger, default, null, null);
}

internal enum ProducerSignalKind
{
    Record,
    Flush,
    Sent,
    Linger,
}

/// <summary>
/// The pump of a producer: the one reader of its signal channel. It routes accepted records through the shard map and
/// the aggregator into the batch queue, starts sends within the in-flight limit, settles their outcomes (written,
/// given up, or sent again after a reshard), and completes flushes.
/// </summary>
/// <remarks>
/// <para>
/// Records and flush markers come from <see cref="RecordIntake"/>, outcomes from sends, and linger ticks from a timer,
/// all over one unbounded channel (the intake bounds the records), so the pump never waits on two sources.
/// </para>
/// <para>
/// A flush drains: every open aggregate is closed and every batch sent, and records and markers that arrive meanwhile
/// wait until the drain is over, so that a flush covers exactly the records added before it and a steady stream of
/// new records cannot hold it back.
/// </para>
/// </remarks>
internal sealed class ProducerPump : IDisposable
{
    /// <summary>How many times the user records of an aggregate that landed on an unexpected shard are sent again.</summary>
    private const int MaxRedirects = 2;

    private readonly KinesisProducerOptions _options;
    private readonly Channel<ProducerSignal> _signals;
    private readonly RecordIntake _intake;
    private readonly ShardMapCache _shardMap;
    private readonly RecordAggregator _aggregator;
    private readonly BatchQueue _queue;
    private readonly BatchSender _sender;
    private readonly ProducerCounters _counters;
    private readonly ProducerFailures _failures;
    private readonly ILogger _logger;
    private readonly string _streamLabel;
    private readonly ITimer _lingerTimer;
    private readonly List<OutgoingRecord> _closed = [];
    private readonly Queue<ProducerSignal> _deferred = new();
    private readonly List<TaskCompletionSource> _flushWaiters = [];
    private int _inFlight;
    private bool _draining;

    public ProducerPump(
        KinesisProducerOptions options,
        Channel<ProducerSignal> signals,
        RecordIntake intake,
        ShardMapCache shardMap,
        BatchSender sender,
        ProducerCounters counters,
        ProducerFailures failures,
        ILogger logger)
    {
        _options = options;
        _signals = signals;
        _intake = intake;
        _shardMap = shardMap;
        _sender = sender;
        _counters = counters;
        _failures = failures;
        _logger = logger;
        _streamLabel = options.StreamName ?? options.StreamArn ?? string.Empty;
        _aggregator = new RecordAggregator(options.AggregationMaxSize);
        _queue = new BatchQueue(options.MaxBatchRecords, options.MaxBatchBytes, options.Linger, options.TimeProvider);
        _lingerTimer = options.TimeProvider.CreateTimer(static state => ((ChannelWriter<ProducerSignal>)state!).TryWrite(ProducerSignal.LingerElapsed), signals.Writer, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Runs until the signal channel completes; a failure fails the pending flushes and closes the intake.</summary>
    public async Task RunAsync()
    {
        try
        {
            await foreach (var signal in _signals.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await HandleAsync(signal).ConfigureAwait(false);
                while (await StepAsync().ConfigureAwait(false))
                {
                    // A drain completed and released deferred signals: handle them as if they had just arrived.
                }
            }
        }
        catch (Exception exception)
        {
            // No record or flush gets in any more; every flush waiting anywhere fails with the cause.
            _intake.Close(failure: exception);
            foreach (var waiter in _flushWaiters)
            {
                waiter.TrySetException(exception);
            }

            foreach (var signal in _deferred)
            {
                signal.Flush?.TrySetException(exception);
            }

            while (_signals.Reader.TryRead(out var signal))
            {
                signal.Flush?.TrySetException(exception);
            }

            throw;
        }
    }

    public void Dispose()
    {
        _lingerTimer.Dispose();
        _aggregator.Dispose();
    }

    private async ValueTask HandleAsync(ProducerSignal signal)
    {
        switch (signal.Kind)
        {
            case ProducerSignalKind.Record when _draining:
            case ProducerSignalKind.Flush when _draining:
                _deferred.Enqueue(signal);
                break;
            case ProducerSignalKind.Record:
                await AcceptAsync(signal.Record).ConfigureAwait(false);
                break;
            case ProducerSignalKind.Flush:
                _flushWaiters.Add(signal.Flush!);
                _draining = true;
                break;
            case ProducerSignalKind.Sent:
                _inFlight--;
                await SettleAsync(signal.Outcome!).ConfigureAwait(false);
                break;
            default:
                // A linger tick: the step below looks at the clock.
                break;
        }
    }

    /// <summary>Routes one record: alone, or into the open aggregate of the shard its hash key maps to.</summary>
    private async ValueTask AcceptAsync(ProducerRecord record)
    {
        _queue.NoteArrival();
        if (!_options.AggregationEnabled || _aggregator.IsTooLarge(record))
        {
            _queue.Add(OutgoingRecord.Single(record));
            return;
        }

        if (_shardMap.NeedsRefresh)
        {
            await _shardMap.RefreshAsync(CancellationToken.None).ConfigureAwait(false);

            // Aggregates built for the old map are closed so that no aggregate mixes the shards of two maps.
            _aggregator.CloseAll(_closed);
            _queue.AddRange(_closed);
        }

        string? shard = _shardMap.Find(KinesisHashKey.Of(record.PartitionKey, record.ExplicitHashKey));
        if (shard is null)
        {
            _queue.Add(OutgoingRecord.Single(record));
            return;
        }

        _aggregator.Add(record, shard, _closed);
        _queue.AddRange(_closed);
    }

    /// <summary>Takes the outcome of a send: counts and releases written records, records failures, resends misrouted aggregates.</summary>
    private async ValueTask SettleAsync(BatchOutcome outcome)
    {
        int done = 0;
        foreach (var (record, shardId) in outcome.Written)
        {
            if (record.IsAggregate && shardId is not null && !string.Equals(shardId, record.PredictedShard, StringComparison.Ordinal)
                && record.Members[0].Redirects < MaxRedirects)
            {
                // The shard map was stale (a reshard): consumers drop aggregates whose records fall outside the
                // shard, so the user records are sent again with a fresh map, as the KPL does. This copy stays.
                KinesisLog.AggregateRedirected(_logger, _streamLabel, record.PredictedShard!, shardId, record.UserRecordCount);
                _shardMap.MarkStale();
                foreach (var member in record.Members)
                {
                    await AcceptAsync(member with { Redirects = member.Redirects + 1 }).ConfigureAwait(false);
                }

                continue;
            }

            _counters.Written(record);
            done += record.UserRecordCount;
            record.Release();
        }

        foreach (var (record, code, message) in outcome.GivenUp)
        {
            _failures.Add(record, code, message);
            _counters.Failed(record.UserRecordCount);
            done += record.UserRecordCount;
            record.Release();
        }

        if (done > 0)
        {
            _intake.Release(done);
        }
    }

    /// <summary>
    /// Closes aggregates and starts sends as linger, drains, full batches and a full buffer require; completes a drain.
    /// Returns <see langword="true"/> when a completed drain released deferred signals to handle.
    /// </summary>
    private async ValueTask<bool> StepAsync()
    {
        // Closing aggregates only helps when a send can start now; meanwhile they keep filling. A full buffer may be
        // all open aggregates (small records over many shards): they are closed too, or adds would wait out the linger.
        bool lingerExpired = _queue.LingerExpired;
        if (_draining || ((lingerExpired || _intake.IsFull) && _inFlight < _options.MaxConcurrentRequests))
        {
            _aggregator.CloseAll(_closed);
            _queue.AddRange(_closed);
        }

        while (_inFlight < _options.MaxConcurrentRequests && _queue.Count > 0
               && (_draining || lingerExpired || _intake.IsFull || _queue.HasFullBatch()))
        {
            _inFlight++;
            _ = SendAsync(_queue.TakeBatch(_aggregator.OpenCount));
        }

        _queue.ResetIfIdle(_aggregator.OpenCount);
        // Wake up when the linger of what waits runs out; once it has run out, the next send's outcome wakes the pump.
        _lingerTimer.Change(_queue.LingerRemaining is { } remaining && remaining > TimeSpan.Zero ? remaining : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        if (!_draining || _queue.Count > 0 || _aggregator.OpenCount > 0 || _inFlight > 0)
        {
            return false;
        }

        foreach (var waiter in _flushWaiters)
        {
            waiter.TrySetResult();
        }

        _flushWaiters.Clear();
        _draining = false;
        bool released = _deferred.Count > 0;
        while (!_draining && _deferred.TryDequeue(out var signal))
        {
            await HandleAsync(signal).ConfigureAwait(false);
        }

        return released;
    }

    /// <summary>Sends one batch on its own task and posts the outcome back to the pump.</summary>
    private async Task SendAsync(List<OutgoingRecord> batch)
    {
        BatchOutcome outcome;
        try
        {
            outcome = await _sender.SendAsync(batch, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The sender reports failures in its outcome; should anything else escape, give the records up rather
            // than lose track of them.
            outcome = new BatchOutcome([], [.. batch.Select(r => (r, exception.GetType().Name, exception.Message))]);
        }

        _signals.Writer.TryWrite(ProducerSignal.ForSent(outcome));
    }
}
