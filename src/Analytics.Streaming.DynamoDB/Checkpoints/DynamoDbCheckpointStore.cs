using System.Diagnostics.Metrics;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// A checkpoint store in a DynamoDB table: one head item per pipeline that names its current snapshot, and the
/// snapshot's bytes either inside the head (up to <see cref="DynamoDbCheckpointStoreOptions.ChunkSize"/>) or in chunk
/// items written before the head. Several processes and restarts share it safely.
/// </summary>
/// <remarks>
/// <para>
/// <b>Layout.</b> Partition key <c>pk</c> = the pipeline name, sort key <c>sk</c>: <c>head</c> for the head item
/// (<c>checkpointId</c> N, <c>snapshot</c> S, <c>chunks</c> N, <c>size</c> N, <c>data</c> B when inline,
/// <c>createdAt</c> and <c>savedAt</c> S, <c>fence</c> N once claimed), and <c>chunk#{snapshot}#{n}</c> for chunk <c>n</c> of a snapshot
/// (<c>data</c> B), where the snapshot id is the checkpoint id in 19 digits, a dash and a random id.
/// </para>
/// <para>
/// <b>Atomic saves.</b> A large checkpoint's chunks are written first under a snapshot id no one else uses; the head
/// is written last, with the condition <c>attribute_not_exists(fence) AND (attribute_not_exists(checkpointId) OR checkpointId &lt; :id)</c>
/// (a save without a fencing token; see <b>Fencing</b> for the others), so it moves
/// only forward (a stale writer never moves a pipeline back) and only to a snapshot whose chunks are all stored. A
/// crash before the head write leaves the previous snapshot in force; its leftover chunks are deleted by a later save.
/// A load reads the head, then the chunks it names (consistent reads), and checks the count, the size and the
/// checkpoint's own CRC-32C: a damaged snapshot throws <see cref="InvalidDataException"/> rather than reading as empty.
/// </para>
/// <para>
/// <b>Fencing.</b> A claim (<see cref="ClaimAsync"/>) sets the head's <c>fence</c> N with the condition
/// <c>attribute_not_exists(fence) OR fence &lt;= :fence</c> (creating a head without a checkpoint for a new pipeline),
/// and a save under a token also writes <c>fence</c>, with the condition extended to
/// <c>attribute_not_exists(fence) OR fence &lt; :fence OR (fence = :fence AND (attribute_not_exists(checkpointId) OR checkpointId &lt; :id))</c>.
/// A save refused because of a higher stored token throws <see cref="CheckpointFencedException"/> after deleting its own
/// chunks. A head without <c>fence</c> has token 0.
/// </para>
/// <para>
/// <b>Clean-up.</b> After the head moves, chunks of older snapshots (and of unfinished ones of the same or older
/// checkpoints) are deleted, best effort: a failure is logged, and the next save tries again. Chunks of newer
/// checkpoints, which another writer may be writing, are left alone.
/// </para>
/// <para>Thread-safe; the client is not disposed by the store.</para>
/// </remarks>
public sealed class DynamoDbCheckpointStore : IFencedCheckpointStore
{
    private const string PartitionKey = "pk";
    private const string SortKey = "sk";
    private const string Head = "head";
    private const string ChunkPrefix = "chunk#";
    private const string FenceAttribute = "fence";
    private const int MaxBatchItems = 25;
    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDbCheckpointStoreOptions _options;
    private readonly string _table;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;
    private readonly ResiliencePipeline<int> _batchRetry;
    private readonly KeyValuePair<string, object?> _tableTag;
    private readonly HashSet<string> _swept = new(StringComparer.Ordinal);
    private readonly Lock _sweptGate = new();

    /// <summary>Creates the store; the options are validated here.</summary>
    /// <param name="client">The DynamoDB client (shared; not disposed by the store).</param>
    /// <param name="options">The settings.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public DynamoDbCheckpointStore(IAmazonDynamoDB client, DynamoDbCheckpointStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
        _table = options.TableName;
        _tableTag = new("table", _table);
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DynamoDbCheckpointStore>();
        _retry = RetryPipelineFactory.Create(options.Retry, options.TimeProvider, DynamoDbWriteErrors.IsTransient, OnRetry);
        _batchRetry = RetryPipelineFactory.Create<int>(
            options.Retry,
            options.TimeProvider,
            static outcome => outcome.Exception is { } e ? DynamoDbWriteErrors.IsTransient(e) : outcome.Result > 0,
            notice => OnRetry(new RetryNotice<object>(notice.FailedAttempt, notice.Delay, notice.Elapsed, Outcome.FromResult<object>(notice.Outcome.Result))));
    }

    /// <summary>Describes the table this store needs: string partition key <c>pk</c>, string sort key <c>sk</c>, billed on demand.</summary>
    /// <param name="tableName">The table name.</param>
    /// <returns>The request, for <c>CreateTableAsync</c> (or as the shape to give an infrastructure template).</returns>
    public static CreateTableRequest CreateTableRequest(string tableName)
    {
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        return new CreateTableRequest
        {
            TableName = tableName,
            KeySchema = [new KeySchemaElement(PartitionKey, KeyType.HASH), new KeySchemaElement(SortKey, KeyType.RANGE)],
            AttributeDefinitions = [new AttributeDefinition(PartitionKey, ScalarAttributeType.S), new AttributeDefinition(SortKey, ScalarAttributeType.S)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        };
    }

    /// <inheritdoc />
    public async ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(pipelineName);
        using var activity = DynamoDbTelemetry.ActivitySource.StartActivity("DynamoDbCheckpointStore.Load");
        activity?.SetTag("aws.dynamodb.table_names", _table);
        for (int attempt = 1; ; attempt++)
        {
            var head = await ReadHeadAsync(pipelineName, cancellationToken).ConfigureAwait(false);
            if (head is null)
            {
                return null;
            }

            byte[]? bytes = head.Data ?? await ReadChunksAsync(pipelineName, head, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                // The chunks are gone or incomplete: a newer save moved the head and cleaned up meanwhile, or the table is damaged.
                var again = await ReadHeadAsync(pipelineName, cancellationToken).ConfigureAwait(false);
                if (again is not null && again.Snapshot != head.Snapshot && attempt < 5)
                {
                    continue;
                }

                throw new InvalidDataException(
                    $"Checkpoint {head.Id} of pipeline '{pipelineName}' in DynamoDB table {_table} is incomplete: the head names snapshot {head.Snapshot} with {head.Chunks} chunks ({head.Size} bytes), and they are not all there. Restore the table from a backup, or delete the pipeline's items to start it over.");
            }

            try
            {
                return PipelineCheckpoint.Parse(bytes);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"Checkpoint {head.Id} of pipeline '{pipelineName}' in DynamoDB table {_table} cannot be read: {ex.Message} Restore the table from a backup, or delete the pipeline's items to start it over.", ex);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<PipelineCheckpoint?> ClaimAsync(string pipelineName, long fence, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(pipelineName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fence);
        var claim = new UpdateItemRequest
        {
            TableName = _table,
            Key = Key(pipelineName, Head),
            UpdateExpression = "SET #fence = :fence",
            ConditionExpression = "attribute_not_exists(#fence) OR #fence <= :fence",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#fence"] = FenceAttribute },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":fence"] = Number(fence) },
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        try
        {
            await _retry.ExecuteAsync(async (state, ct) => await state.Client.UpdateItemAsync(state.Claim, ct).ConfigureAwait(false), (Client: _client, Claim: claim), cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException ex)
        {
            var current = await HeadAfterConditionFailedAsync(ex, pipelineName, cancellationToken).ConfigureAwait(false);
            throw new CheckpointFencedException(pipelineName, fence, current is null ? -1 : ReadOptionalNumber(current, FenceAttribute));
        }

        // From here on only a writer with this token or a higher one moves the head.
        return await LoadAsync(pipelineName, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => SaveAsync(checkpoint, 0, cancellationToken);

    /// <inheritdoc />
    public async ValueTask SaveAsync(PipelineCheckpoint checkpoint, long fence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(fence);
        string pipeline = checkpoint.PipelineName;
        using var activity = DynamoDbTelemetry.ActivitySource.StartActivity("DynamoDbCheckpointStore.Save");
        activity?.SetTag("aws.dynamodb.table_names", _table);
        activity?.SetTag("checkpoint.id", checkpoint.Id);
        byte[] bytes = checkpoint.ToBytes();
        bool inline = bytes.Length <= _options.ChunkSize;
        int chunks = inline ? 0 : (bytes.Length + _options.ChunkSize - 1) / _options.ChunkSize;
        string snapshot = string.Create(CultureInfo.InvariantCulture, $"{checkpoint.Id:D19}-{Guid.NewGuid():N}");
        if (!inline)
        {
            await WriteChunksAsync(pipeline, snapshot, bytes, chunks, cancellationToken).ConfigureAwait(false);
        }

        var item = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            [PartitionKey] = new(pipeline),
            [SortKey] = new(Head),
            ["checkpointId"] = Number(checkpoint.Id),
            ["snapshot"] = new(snapshot),
            ["chunks"] = Number(chunks),
            ["size"] = Number(bytes.Length),
            ["createdAt"] = new(DynamoDbItemMap.Iso(checkpoint.CreatedAt)),
            ["savedAt"] = new(DynamoDbItemMap.Iso(_options.TimeProvider.GetUtcNow())),
        };
        if (inline)
        {
            item["data"] = new AttributeValue { B = new MemoryStream(bytes, writable: false) };
        }

        if (fence > 0)
        {
            item[FenceAttribute] = Number(fence);
        }

        var put = new PutItemRequest
        {
            TableName = _table,
            Item = item,
            ConditionExpression = fence == 0
                ? "attribute_not_exists(#fence) AND (attribute_not_exists(#id) OR #id < :id)"
                : "attribute_not_exists(#fence) OR #fence < :fence OR (#fence = :fence AND (attribute_not_exists(#id) OR #id < :id))",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#id"] = "checkpointId", ["#fence"] = FenceAttribute },
            ExpressionAttributeValues = fence == 0
                ? new Dictionary<string, AttributeValue> { [":id"] = Number(checkpoint.Id) }
                : new Dictionary<string, AttributeValue> { [":id"] = Number(checkpoint.Id), [":fence"] = Number(fence) },

            // The previous head comes back with the write at no extra cost: it says whether old chunks need deleting.
            ReturnValues = ReturnValue.ALL_OLD,
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        Dictionary<string, AttributeValue>? previous = null; // the head this save replaced, when the answer says
        bool previousUnknown = false;
        try
        {
            var response = await _retry.ExecuteAsync(async (state, ct) => await state.Client.PutItemAsync(state.Put, ct).ConfigureAwait(false), (Client: _client, Put: put), cancellationToken).ConfigureAwait(false);
            previous = response.Attributes;
        }
        catch (ConditionalCheckFailedException ex)
        {
            // The head names our snapshot: an attempt the retry repeated was written and its answer lost. The save
            // stands, even if a claim made since then raised the token: the new owner resumes from it, so the sinks must
            // commit what they wrote for it (the next save is the one refused).
            var current = await HeadAfterConditionFailedAsync(ex, pipeline, cancellationToken).ConfigureAwait(false);
            if (current is null || !current.TryGetValue("snapshot", out var named) || !string.Equals(named.S, snapshot, StringComparison.Ordinal))
            {
                // The table holds the same or a newer checkpoint (a stale writer, or a save repeated), or a writer with
                // a higher token claimed it: ours is not needed, nor are its chunks, which no head names. Only our own
                // chunks are deleted.
                long storedFence = current is null ? 0 : ReadOptionalNumber(current, FenceAttribute);
                if (chunks > 0)
                {
                    await DeleteOwnChunksAsync(pipeline, snapshot, chunks, cancellationToken).ConfigureAwait(false);
                }

                if (storedFence > fence)
                {
                    throw new CheckpointFencedException(pipeline, fence, storedFence);
                }

                DynamoDbLog.CheckpointNotNewer(_logger, _table, pipeline, checkpoint.Id, current is null ? -1 : ReadOptionalNumber(current, "checkpointId"));
                DynamoDbCheckpointInstruments.NotNewer.Add(1, _tableTag);
                return;
            }

            previousUnknown = true; // its answer, which named the head it replaced, was lost: sweep
        }

        DynamoDbCheckpointInstruments.Saves.Add(1, _tableTag);
        DynamoDbCheckpointInstruments.Bytes.Add(bytes.Length, _tableTag);
        DynamoDbLog.CheckpointSaved(_logger, _table, pipeline, checkpoint.Id, bytes.Length, chunks);

        bool sweep;
        lock (_sweptGate)
        {
            sweep = _swept.Add(pipeline) || chunks > 0 || previousUnknown || (previous is not null && previous.TryGetValue("chunks", out var old) && old.N is not (null or "0"));
        }

        if (sweep)
        {
            await CleanUpAsync(pipeline, checkpoint.Id, snapshot, cancellationToken).ConfigureAwait(false);
        }
    }

    private static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    private static long ReadOptionalNumber(Dictionary<string, AttributeValue> item, string name)
        => item.TryGetValue(name, out var value) && value.N is { } n && long.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) ? parsed : 0;

    private static long ReadNumber(Dictionary<string, AttributeValue> item, string name)
        => item.TryGetValue(name, out var value) && value.N is { } n && long.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed)
            ? parsed
            : throw new InvalidDataException($"The checkpoint head item has no number '{name}'.");

    private static Dictionary<string, AttributeValue> Key(string pipeline, string sortKey)
        => new(StringComparer.Ordinal) { [PartitionKey] = new(pipeline), [SortKey] = new(sortKey) };

    private static string ChunkKey(string snapshot, int index) => string.Create(CultureInfo.InvariantCulture, $"{ChunkPrefix}{snapshot}#{index:D6}");

    /// <summary>The head a failed condition met: returned with the failure where the service does (DynamoDB; some emulators do not), read otherwise.</summary>
    private async ValueTask<Dictionary<string, AttributeValue>?> HeadAfterConditionFailedAsync(ConditionalCheckFailedException failure, string pipeline, CancellationToken cancellationToken)
        => failure.Item is { Count: > 0 } item ? item : await ReadHeadItemAsync(pipeline, cancellationToken).ConfigureAwait(false);

    private async ValueTask<Dictionary<string, AttributeValue>?> ReadHeadItemAsync(string pipeline, CancellationToken cancellationToken)
    {
        var request = new GetItemRequest { TableName = _table, Key = Key(pipeline, Head), ConsistentRead = true };
        var response = await _retry.ExecuteAsync(async (state, ct) => await state.Client.GetItemAsync(state.Request, ct).ConfigureAwait(false), (Client: _client, Request: request), cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    private async ValueTask<HeadItem?> ReadHeadAsync(string pipeline, CancellationToken cancellationToken)
    {
        if (await ReadHeadItemAsync(pipeline, cancellationToken).ConfigureAwait(false) is not { } item || !item.ContainsKey("checkpointId"))
        {
            // No head, or one a claim created before the pipeline's first checkpoint.
            return null;
        }

        try
        {
            return new HeadItem(
                ReadNumber(item, "checkpointId"),
                item.TryGetValue("snapshot", out var snapshot) && snapshot.S is { } s ? s : throw new InvalidDataException("The checkpoint head item has no 'snapshot'."),
                (int)ReadNumber(item, "chunks"),
                (int)ReadNumber(item, "size"),
                item.TryGetValue("data", out var data) && data.B is { } stream ? stream.ToArray() : null);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"The checkpoint of pipeline '{pipeline}' in DynamoDB table {_table} is damaged: {ex.Message}", ex);
        }
    }

    /// <summary>Reads the chunks the head names; <see langword="null"/> when they are not all there.</summary>
    private async ValueTask<byte[]?> ReadChunksAsync(string pipeline, HeadItem head, CancellationToken cancellationToken)
    {
        if (head.Chunks <= 0)
        {
            return null;
        }

        var bytes = new byte[head.Size];
        int offset = 0, count = 0;
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var request = new QueryRequest
            {
                TableName = _table,
                ConsistentRead = true,
                KeyConditionExpression = "#pk = :pk AND begins_with(#sk, :prefix)",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = PartitionKey, ["#sk"] = SortKey },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":pk"] = new(pipeline), [":prefix"] = new($"{ChunkPrefix}{head.Snapshot}#") },
                ExclusiveStartKey = start,
            };
            var page = await _retry.ExecuteAsync(async (state, ct) => await state.Client.QueryAsync(state.Request, ct).ConfigureAwait(false), (Client: _client, Request: request), cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items ?? [])
            {
                if (item[SortKey].S != ChunkKey(head.Snapshot, count) || !item.TryGetValue("data", out var data) || data.B is null)
                {
                    return null;
                }

                var chunk = data.B.ToArray();
                if (offset + chunk.Length > bytes.Length)
                {
                    return null;
                }

                chunk.CopyTo(bytes, offset);
                offset += chunk.Length;
                count++;
            }

            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        return count == head.Chunks && offset == head.Size ? bytes : null;
    }

    private async ValueTask WriteChunksAsync(string pipeline, string snapshot, byte[] bytes, int chunks, CancellationToken cancellationToken)
    {
        for (int first = 0; first < chunks; first += MaxBatchItems)
        {
            var requests = new List<WriteRequest>(MaxBatchItems);
            for (int n = first; n < Math.Min(chunks, first + MaxBatchItems); n++)
            {
                int offset = n * _options.ChunkSize;
                var item = Key(pipeline, ChunkKey(snapshot, n));
                item["data"] = new AttributeValue { B = new MemoryStream(bytes, offset, Math.Min(_options.ChunkSize, bytes.Length - offset), writable: false) };
                requests.Add(new WriteRequest { PutRequest = new PutRequest { Item = item } });
            }

            await WriteBatchAsync(requests, cancellationToken).ConfigureAwait(false);
            DynamoDbCheckpointInstruments.Chunks.Add(requests.Count, _tableTag);
        }
    }

    private async ValueTask WriteBatchAsync(List<WriteRequest> requests, CancellationToken cancellationToken)
    {
        var state = new BatchState(_client, _table, requests);
        int left = await _batchRetry.ExecuteAsync(
            static async (state, ct) =>
            {
                foreach (var request in state.Remaining)
                {
                    // A resent chunk's stream was read by the previous attempt.
                    request.PutRequest?.Item["data"].B.Seek(0, SeekOrigin.Begin);
                }

                var response = await state.Client.BatchWriteItemAsync(
                    new BatchWriteItemRequest { RequestItems = new Dictionary<string, List<WriteRequest>> { [state.Table] = state.Remaining } },
                    ct).ConfigureAwait(false);
                state.Remaining = response.UnprocessedItems is { } unprocessed && unprocessed.TryGetValue(state.Table, out var rest) && rest is not null ? rest : [];
                return state.Remaining.Count;
            },
            state,
            cancellationToken).ConfigureAwait(false);
        if (left > 0)
        {
            throw new DynamoDbWriteException($"{left} items of a BatchWriteItem call to checkpoint table {_table} were still unprocessed when retries ran out (DynamoDbCheckpointStoreOptions.Retry).");
        }
    }

    /// <summary>Deletes the chunks of a snapshot whose head write lost; best effort (a later save's clean-up catches what is left).</summary>
    private async ValueTask DeleteOwnChunksAsync(string pipeline, string snapshot, int chunks, CancellationToken cancellationToken)
    {
        try
        {
            for (int first = 0; first < chunks; first += MaxBatchItems)
            {
                var requests = new List<WriteRequest>(MaxBatchItems);
                for (int n = first; n < Math.Min(chunks, first + MaxBatchItems); n++)
                {
                    requests.Add(new WriteRequest { DeleteRequest = new DeleteRequest { Key = Key(pipeline, ChunkKey(snapshot, n)) } });
                }

                await WriteBatchAsync(requests, cancellationToken).ConfigureAwait(false);
            }

            DynamoDbCheckpointInstruments.ChunksDeleted.Add(chunks, _tableTag);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            DynamoDbLog.CheckpointCleanupFailed(_logger, _table, pipeline, ex);
        }
    }

    /// <summary>Deletes chunks of snapshots of checkpoints up to <paramref name="checkpointId"/> other than <paramref name="keepSnapshot"/>; best effort.</summary>
    private async ValueTask CleanUpAsync(string pipeline, long checkpointId, string keepSnapshot, CancellationToken cancellationToken)
    {
        try
        {
            var doomed = new List<WriteRequest>();
            Dictionary<string, AttributeValue>? start = null;
            do
            {
                var request = new QueryRequest
                {
                    TableName = _table,
                    ConsistentRead = true,
                    KeyConditionExpression = "#pk = :pk AND begins_with(#sk, :prefix)",
                    ProjectionExpression = "#pk, #sk",
                    ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = PartitionKey, ["#sk"] = SortKey },
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":pk"] = new(pipeline), [":prefix"] = new(ChunkPrefix) },
                    ExclusiveStartKey = start,
                };
                var page = await _retry.ExecuteAsync(async (state, ct) => await state.Client.QueryAsync(state.Request, ct).ConfigureAwait(false), (Client: _client, Request: request), cancellationToken).ConfigureAwait(false);
                foreach (var item in page.Items ?? [])
                {
                    string sortKey = item[SortKey].S;
                    if (IsDoomed(sortKey, checkpointId, keepSnapshot))
                    {
                        doomed.Add(new WriteRequest { DeleteRequest = new DeleteRequest { Key = Key(pipeline, sortKey) } });
                    }
                }

                start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
            }
            while (start is not null);

            for (int i = 0; i < doomed.Count; i += MaxBatchItems)
            {
                await WriteBatchAsync(doomed.GetRange(i, Math.Min(MaxBatchItems, doomed.Count - i)), cancellationToken).ConfigureAwait(false);
            }

            if (doomed.Count > 0)
            {
                DynamoDbCheckpointInstruments.ChunksDeleted.Add(doomed.Count, _tableTag);
                DynamoDbLog.CheckpointChunksDeleted(_logger, _table, pipeline, doomed.Count);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The checkpoint is saved; leftover chunks only cost storage, and the next save tries again.
            DynamoDbLog.CheckpointCleanupFailed(_logger, _table, pipeline, ex);
            lock (_sweptGate)
            {
                _swept.Remove(pipeline);
            }
        }
    }

    /// <summary>Whether a chunk key belongs to a snapshot of an older checkpoint, or an abandoned one of the same checkpoint.</summary>
    internal static bool IsDoomed(string sortKey, long checkpointId, string keepSnapshot)
    {
        // chunk#{19-digit id}-{32 hex}#{n}
        var rest = sortKey.AsSpan(ChunkPrefix.Length);
        int hash = rest.IndexOf('#');
        if (hash < 0 || rest.Length < 19 || !long.TryParse(rest[..19], NumberStyles.None, CultureInfo.InvariantCulture, out long id))
        {
            return false; // not ours: left alone
        }

        var snapshot = rest[..hash];
        return id < checkpointId || (id == checkpointId && !snapshot.SequenceEqual(keepSnapshot));
    }

    private void OnRetry(RetryNotice<object> notice)
    {
        DynamoDbCheckpointInstruments.Retries.Add(1, _tableTag);
        DynamoDbLog.CheckpointRetrying(_logger, "request", _table, DynamoDbWriteErrors.Code(notice.Outcome.Exception), notice.FailedAttempt, notice.Delay);
    }

    private sealed record HeadItem(long Id, string Snapshot, int Chunks, int Size, byte[]? Data);

    private sealed class BatchState(IAmazonDynamoDB client, string table, List<WriteRequest> remaining)
    {
        public IAmazonDynamoDB Client { get; } = client;

        public string Table { get; } = table;

        public List<WriteRequest> Remaining { get; set; } = remaining;
    }
}

/// <summary>The checkpoint store's instruments, tagged with <c>table</c>.</summary>
internal static class DynamoDbCheckpointInstruments
{
    public static readonly Counter<long> Saves = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "checkpoints.saves", "{checkpoint}", "Checkpoints saved.");
    public static readonly Counter<long> NotNewer = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "checkpoints.not_newer", "{checkpoint}", "Saves skipped because the table held the same or a newer checkpoint.");
    public static readonly Counter<long> Bytes = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "checkpoints.bytes", "By", "Bytes of checkpoints saved.");
    public static readonly Counter<long> Chunks = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "checkpoints.chunks", "{chunk}", "Chunk items written.");
    public static readonly Counter<long> ChunksDeleted = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "checkpoints.chunks_deleted", "{chunk}", "Chunk items of older or unfinished snapshots deleted.");
    public static readonly Counter<long> Retries = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "checkpoints.retries", "{retry}", "Requests made again after a transient failure.");
}
