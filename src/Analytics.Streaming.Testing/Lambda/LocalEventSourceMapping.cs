using System.Collections.Concurrent;
using System.Text.Json;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Lambda;

namespace Analytics.Streaming.Testing;

/// <summary>
/// A local stand-in for Lambda's Kinesis event source mapping: reads the shards of a stream through any
/// <see cref="IKinesisClient"/> (a local emulator in tests, or a real stream), builds the documented Kinesis event,
/// and invokes a handler with the batching, retry, bisect, record-age and partial-batch-response rules Lambda documents.
/// </summary>
/// <remarks>
/// <para>
/// One batch is in flight per shard (<c>ParallelizationFactor</c> 1); shards are read in parallel, and a child shard
/// starts only after its parents were read to their end and every one of their batches succeeded or was discarded.
/// </para>
/// <para>
/// <b>Failures</b>, as Lambda treats them: an exception from the handler fails the whole batch; with
/// <see cref="LocalEventSourceMappingOptions.ReportBatchItemFailures"/> the response's <c>batchItemFailures</c> are read:
/// the mapping checkpoints just before the lowest sequence number listed and retries from it (an empty or unknown
/// <c>itemIdentifier</c> fails the whole batch; a response without <c>batchItemFailures</c> is a success). With
/// <see cref="LocalEventSourceMappingOptions.BisectBatchOnFunctionError"/> a failed batch is split in two, first half first,
/// without counting a retry. A batch whose retries are exhausted, and records older than
/// <see cref="LocalEventSourceMappingOptions.MaximumRecordAge"/>, are discarded and listed in <see cref="Discarded"/>.
/// </para>
/// <para>
/// Positions are kept in memory: a new mapping starts at the oldest record of every shard.
/// </para>
/// </remarks>
public sealed class LocalEventSourceMapping
{
    private readonly IKinesisClient _client;
    private readonly LocalEventSourceMappingOptions _options;
    private readonly Func<KinesisStreamEvent, CancellationToken, Task<KinesisStreamBatchResponse?>> _invoke;
    private readonly ConcurrentQueue<DiscardedBatch> _discarded = new();
    private readonly ConcurrentDictionary<string, string> _positions = new(StringComparer.Ordinal);

    private LocalEventSourceMapping(IKinesisClient client, LocalEventSourceMappingOptions options, Func<KinesisStreamEvent, CancellationToken, Task<KinesisStreamBatchResponse?>> handler)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
        _invoke = handler;
    }

    /// <summary>Creates a mapping that invokes a handler in the stream-in, stream-out shape (<c>Amazon.Lambda.RuntimeSupport</c>'s).</summary>
    /// <param name="client">The Kinesis client, such as the Kinesis package's <c>KinesisClient</c> pointed at an emulator.</param>
    /// <param name="options">The mapping's settings.</param>
    /// <param name="handler">The function: the event's JSON in, the response's JSON out (a <see langword="null"/> stream is a success).</param>
    /// <returns>The mapping.</returns>
    /// <exception cref="ArgumentException">An option is out of Lambda's range.</exception>
    public static LocalEventSourceMapping ForStreamHandler(IKinesisClient client, LocalEventSourceMappingOptions options, Func<Stream, CancellationToken, Task<Stream>> handler)
        => new(client, options, WrapStream(handler));

    /// <summary>Creates a mapping that invokes a handler with the typed models.</summary>
    /// <param name="client">The Kinesis client.</param>
    /// <param name="options">The mapping's settings.</param>
    /// <param name="handler">The function; a <see langword="null"/> response is a success.</param>
    /// <returns>The mapping.</returns>
    /// <exception cref="ArgumentException">An option is out of Lambda's range.</exception>
    public static LocalEventSourceMapping ForTypedHandler(IKinesisClient client, LocalEventSourceMappingOptions options, Func<KinesisStreamEvent, CancellationToken, Task<KinesisStreamBatchResponse>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return new(client, options, async (e, ct) => await handler(e, ct).ConfigureAwait(false));
    }

    /// <summary>Gets the counters.</summary>
    public LocalEventSourceMappingStatistics Statistics { get; } = new();

    /// <summary>Gets the batches given up on, in the order they were discarded.</summary>
    public IReadOnlyCollection<DiscardedBatch> Discarded => _discarded;

    /// <summary>Gets the sequence number the mapping checkpointed for a shard, or <see langword="null"/> before its first batch.</summary>
    /// <param name="shardId">The shard.</param>
    /// <returns>The last sequence number the mapping is done with.</returns>
    public string? GetCheckpoint(string shardId) => _positions.TryGetValue(shardId, out string? position) ? position : null;

    /// <summary>
    /// Reads every shard until it is caught up: closed shards to their end, open shards until a read returns nothing
    /// more; every record read by then has been handled (or discarded).
    /// </summary>
    /// <param name="cancellationToken">Stops reading; the task then ends with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The ids of the shards read to their end (closed shards).</returns>
    public async Task<IReadOnlyCollection<string>> RunUntilCaughtUpAsync(CancellationToken cancellationToken)
    {
        var finished = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var running = new Dictionary<string, Task>(StringComparer.Ordinal);
        while (true)
        {
            var shards = await ShardReading.ListAsync(_client, _options.StreamName, cancellationToken).ConfigureAwait(false);
            var listed = shards.Select(s => s.ShardId).ToHashSet(StringComparer.Ordinal);
            foreach (var shard in shards)
            {
                if (running.ContainsKey(shard.ShardId))
                {
                    continue;
                }

                bool parentsDone = shard.Parents.All(p => !listed.Contains(p) || (running.TryGetValue(p, out var task) && task.IsCompletedSuccessfully && finished.ContainsKey(p)));
                if (parentsDone)
                {
                    running[shard.ShardId] = ReadShardAsync(shard.ShardId, finished, cancellationToken);
                }
            }

            var pending = running.Values.Where(t => !t.IsCompleted).ToArray();
            if (pending.Length == 0)
            {
                await Task.WhenAll(running.Values).ConfigureAwait(false);
                bool startable = shards.Any(s => !running.ContainsKey(s.ShardId) && s.Parents.All(p => !listed.Contains(p) || finished.ContainsKey(p)));
                if (!startable)
                {
                    return finished.Keys.ToArray();
                }

                continue;
            }

            await Task.WhenAny(pending).ConfigureAwait(false);
            foreach (var task in pending.Where(t => t.IsFaulted || t.IsCanceled))
            {
                await task.ConfigureAwait(false);
            }
        }
    }

    private async Task ReadShardAsync(string shardId, ConcurrentDictionary<string, bool> finished, CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        var reader = new ShardReading(_client, _options.StreamName, shardId);
        await reader.StartAsync(GetCheckpoint(shardId), cancellationToken).ConfigureAwait(false);
        var pending = new List<ShardReading.Record>();
        long? gatheringSince = null;
        while (true)
        {
            bool caughtUp = false;
            while (pending.Count < _options.BatchSize && !reader.IsEndOfShard)
            {
                var page = await reader.ReadAsync(_options.BatchSize - pending.Count, cancellationToken).ConfigureAwait(false);
                if (page.Count > 0)
                {
                    pending.AddRange(page);
                    gatheringSince ??= time.GetTimestamp();
                    continue;
                }

                caughtUp = true;
                break;
            }

            bool windowOpen = _options.MaximumBatchingWindow > TimeSpan.Zero && gatheringSince is { } since
                && time.GetElapsedTime(since) < _options.MaximumBatchingWindow && pending.Count < _options.BatchSize && !reader.IsEndOfShard;
            if (pending.Count > 0 && !windowOpen)
            {
                int count = CutBatch(pending);
                var batch = pending.GetRange(0, count);
                pending.RemoveRange(0, count);
                gatheringSince = pending.Count > 0 ? time.GetTimestamp() : null;
                await HandleBatchAsync(shardId, batch, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (pending.Count == 0 && reader.IsEndOfShard)
            {
                finished[shardId] = true;
                return;
            }

            if (pending.Count == 0 && caughtUp)
            {
                return;
            }

            await Task.Delay(windowOpen ? TimeSpan.FromMilliseconds(Math.Min(_options.PollInterval.TotalMilliseconds, 50)) : _options.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How many of the pending records fit in one invocation (batch size and payload limit).</summary>
    private int CutBatch(List<ShardReading.Record> pending)
    {
        long size = 32;
        int count = 0;
        foreach (var record in pending)
        {
            long recordSize = 512 + (((record.Data.Length + 2) / 3) * 4) + (record.PartitionKey.Length * 3);
            if (count == _options.BatchSize || (count > 0 && size + recordSize > _options.MaximumPayloadBytes))
            {
                break;
            }

            size += recordSize;
            count++;
        }

        return count;
    }

    /// <summary>Invokes the function with a batch until every record succeeded or was discarded.</summary>
    private async Task HandleBatchAsync(string shardId, List<ShardReading.Record> records, CancellationToken cancellationToken)
    {
        var work = new Stack<(List<ShardReading.Record> Records, int Attempts)>();
        work.Push((records, 0));
        while (work.Count > 0)
        {
            var (batch, attempts) = work.Pop();
            if (_options.MaximumRecordAge is { } maximumAge)
            {
                var now = _options.TimeProvider.GetUtcNow();
                int expired = 0;
                while (expired < batch.Count && now - batch[expired].ArrivalTime > maximumAge)
                {
                    expired++;
                }

                if (expired > 0)
                {
                    Discard(shardId, batch.GetRange(0, expired), "RecordAgeExceeded");
                    batch = batch.GetRange(expired, batch.Count - expired);
                    if (batch.Count == 0)
                    {
                        continue;
                    }
                }
            }

            Statistics.OnInvocation(batch.Count);
            int failedAt;
            try
            {
                var response = await _invoke(BuildEvent(shardId, batch), cancellationToken).ConfigureAwait(false);
                failedAt = _options.ReportBatchItemFailures ? FirstFailure(batch, response) : batch.Count;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Any exception from the function is a function error, as for Lambda.
            catch (Exception)
#pragma warning restore CA1031
            {
                failedAt = 0;
                Statistics.OnFunctionError();
                if (_options.BisectBatchOnFunctionError && batch.Count > 1)
                {
                    Statistics.OnBisection();
                    int half = batch.Count / 2;
                    work.Push((batch.GetRange(half, batch.Count - half), attempts));
                    work.Push((batch.GetRange(0, half), attempts));
                    continue;
                }

                Retry(shardId, batch, attempts, work);
                continue;
            }

            if (failedAt > 0)
            {
                Complete(shardId, batch.GetRange(0, failedAt));
            }

            if (failedAt < batch.Count)
            {
                if (failedAt == 0)
                {
                    Statistics.OnFunctionError();
                }
                else
                {
                    Statistics.OnPartialFailure();
                }

                Retry(shardId, batch.GetRange(failedAt, batch.Count - failedAt), attempts, work);
            }
        }
    }

    private void Retry(string shardId, List<ShardReading.Record> batch, int attempts, Stack<(List<ShardReading.Record> Records, int Attempts)> work)
    {
        if (_options.MaximumRetryAttempts >= 0 && attempts >= _options.MaximumRetryAttempts)
        {
            Discard(shardId, batch, "RetryAttemptsExhausted");
            return;
        }

        work.Push((batch, attempts + 1));
    }

    private void Complete(string shardId, List<ShardReading.Record> records)
    {
        _positions[shardId] = records[^1].SequenceNumber.ToString();
        Statistics.OnCompleted(records.Count);
    }

    private void Discard(string shardId, List<ShardReading.Record> records, string reason)
    {
        _discarded.Enqueue(new DiscardedBatch(shardId, records[0].SequenceNumber.ToString(), records[^1].SequenceNumber.ToString(), records.Count, reason));
        _positions[shardId] = records[^1].SequenceNumber.ToString();
    }

    /// <summary>The index of the lowest failed record (the batch's count when none failed), as Lambda reads a partial batch response.</summary>
    private static int FirstFailure(List<ShardReading.Record> batch, KinesisStreamBatchResponse? response)
    {
        if (response?.BatchItemFailures is not { Count: > 0 } failures)
        {
            return batch.Count;
        }

        int lowest = batch.Count;
        foreach (var failure in failures)
        {
            if (failure is null || string.IsNullOrEmpty(failure.ItemIdentifier) || !SequenceNumber.TryParse(failure.ItemIdentifier, out var sequence))
            {
                return 0;
            }

            int index = batch.FindIndex(r => r.SequenceNumber == sequence);
            if (index < 0)
            {
                return 0;
            }

            lowest = Math.Min(lowest, index);
        }

        return lowest;
    }

    private KinesisStreamEvent BuildEvent(string shardId, List<ShardReading.Record> batch)
    {
        var kinesisEvent = new KinesisStreamEvent { Records = new List<KinesisStreamRecord>(batch.Count) };
        foreach (var record in batch)
        {
            string sequence = record.SequenceNumber.ToString();
            kinesisEvent.Records.Add(new KinesisStreamRecord
            {
                Kinesis = new KinesisStreamRecordPayload
                {
                    KinesisSchemaVersion = "1.0",
                    PartitionKey = record.PartitionKey,
                    SequenceNumber = sequence,
                    Data = record.Data,
                    ApproximateArrivalTimestamp = record.ArrivalTime,
                    EncryptionType = record.EncryptionType,
                },
                EventSource = "aws:kinesis",
                EventVersion = "1.0",
                EventId = shardId + ":" + sequence,
                EventName = "aws:kinesis:record",
                InvokeIdentityArn = "arn:aws:iam::000000000000:role/local-event-source-mapping",
                AwsRegion = _options.Region,
                EventSourceArn = _options.EffectiveStreamArn,
            });
        }

        return kinesisEvent;
    }

    private static Func<KinesisStreamEvent, CancellationToken, Task<KinesisStreamBatchResponse?>> WrapStream(Func<Stream, CancellationToken, Task<Stream>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return async (kinesisEvent, cancellationToken) =>
        {
            using var input = new MemoryStream();
            JsonSerializer.Serialize(input, kinesisEvent, LambdaJsonContext.Default.KinesisStreamEvent);
            input.Position = 0;
            Stream? output = await handler(input, cancellationToken).ConfigureAwait(false);
            if (output is null)
            {
                return null;
            }

            await using (output.ConfigureAwait(false))
            {
                using var document = await JsonDocument.ParseAsync(output, default, cancellationToken).ConfigureAwait(false);
                return ReadResponse(document.RootElement);
            }
        };
    }

    /// <summary>Reads a response as Lambda does: by the exact key names; a missing <c>batchItemFailures</c> is a success.</summary>
    private static KinesisStreamBatchResponse? ReadResponse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("batchItemFailures", out var failures) || failures.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var response = new KinesisStreamBatchResponse();
        foreach (var failure in failures.EnumerateArray())
        {
            string identifier = failure.ValueKind == JsonValueKind.Object && failure.TryGetProperty("itemIdentifier", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString() ?? string.Empty
                : string.Empty;
            response.BatchItemFailures.Add(new KinesisStreamBatchItemFailure { ItemIdentifier = identifier });
        }

        return response;
    }
}
