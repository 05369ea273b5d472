using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// A result sink that keeps one DynamoDB item per result identity: the latest value of every key and window, ready
/// for dashboards and time-range queries. A replay overwrites the same item, and an older value never replaces a newer
/// one (<see cref="DynamoDbWriteMode.Versioned"/>, the default).
/// </summary>
/// <typeparam name="T">The item type, usually a <see cref="WindowResult{TKey, TValue}"/>.</typeparam>
/// <remarks>
/// <para>
/// <b>Buffering.</b> <see cref="WriteAsync"/> builds each item with the <see cref="DynamoDbSinkOptions{T}.Map"/> (no
/// reflection) and buffers it by primary key: a newer version of a buffered key replaces the older one, so only the
/// newest value of each key is sent. The buffer is written when it holds
/// <see cref="DynamoDbSinkOptions{T}.MaxBufferedItems"/> keys, and by <see cref="FlushAsync"/>, which returns when
/// every item written before it is stored in DynamoDB (or went to the dead letters), as <see cref="ISink{T}"/>
/// requires before a checkpoint.
/// </para>
/// <para>
/// <b>Versions.</b> In <see cref="DynamoDbWriteMode.Versioned"/> mode every item is a <c>PutItem</c> with the
/// condition <c>attribute_not_exists(#v) OR #v &lt;= :v</c> on the map's version attribute (for window results, the
/// record count, which grows with every change of a window). A <c>ConditionalCheckFailedException</c> means the table
/// already holds a newer value: the write counts as done (<see cref="DynamoDbSinkStatistics.StaleWrites"/>), not as a
/// failure. In <see cref="DynamoDbWriteMode.Batch"/> mode items go out with <c>BatchWriteItem</c>, 25 per call, and the
/// last write wins.
/// </para>
/// <para>
/// <b>Failures.</b> Throttling, 5xx, dropped connections and unprocessed batch items are retried under
/// <see cref="DynamoDbSinkOptions{T}.Retry"/> (only the unprocessed items are sent again). Items that can never be
/// stored go to <see cref="DynamoDbSinkOptions{T}.DeadLetters"/> with the reason: larger than 400 KB, a missing, empty
/// or too long key, a value out of range or an accessor that throws (checked before anything is sent), and items
/// DynamoDB refuses with a <c>ValidationException</c> (a batch refused as a whole is written again item by item to
/// find them). Anything else, or retries running out, is thrown; the sink then refuses further calls, and the pipeline
/// restarts from its last checkpoint with a new sink, whose replay writes the same items again.
/// </para>
/// <para>
/// <b>Threading.</b> Calls must not overlap (the pipeline never overlaps them); requests inside one flush run
/// concurrently, up to <see cref="DynamoDbSinkOptions{T}.MaxConcurrentRequests"/>. The client is not disposed by the sink.
/// </para>
/// </remarks>
public sealed class DynamoDbSink<T> : ISink<T>
{
    private const int MaxBatchItems = 25;
    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDbSinkOptions<T> _options;
    private readonly DynamoDbItemMap<T> _map;
    private readonly string _table;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;
    private readonly ResiliencePipeline<int> _batchRetry;
    private readonly Dictionary<string, Pending> _buffer = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<DeadLetter> _deadLetters = new();
    private readonly KeyValuePair<string, object?> _tableTag;
    private readonly string _versionCondition;
    private readonly string _deleteCondition;
    private long _order;
    private long _written;
    private long _deleted;
    private long _stale;
    private long _deadLettered;
    private long _retries;
    private long _requests;
    private Exception? _fault;
    private bool _disposed;

    /// <summary>Creates the sink; the options are validated here.</summary>
    /// <param name="client">The DynamoDB client (shared; not disposed by the sink).</param>
    /// <param name="options">The settings; not copied, so do not change them afterwards.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which and what to change.</exception>
    public DynamoDbSink(IAmazonDynamoDB client, DynamoDbSinkOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
        _map = options.Map!;
        _table = options.TableName;
        _tableTag = new("table", _table);
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DynamoDbSink<T>>();
        _versionCondition = "attribute_not_exists(#v) OR #v <= :v";
        _deleteCondition = "attribute_not_exists(#v) OR #v < :v";
        _retry = RetryPipelineFactory.Create(options.Retry, options.TimeProvider, DynamoDbWriteErrors.IsTransient, OnRetry);
        _batchRetry = RetryPipelineFactory.Create<int>(
            options.Retry,
            options.TimeProvider,
            static outcome => outcome.Exception is { } e ? DynamoDbWriteErrors.IsTransient(e) : outcome.Result > 0,
            OnBatchRetry);
    }

    /// <summary>Gets the table name.</summary>
    public string TableName => _table;

    /// <summary>Gets counters of what the sink has done so far.</summary>
    public DynamoDbSinkStatistics Statistics => new(
        Interlocked.Read(ref _written),
        Interlocked.Read(ref _deleted),
        Interlocked.Read(ref _stale),
        Interlocked.Read(ref _deadLettered),
        Interlocked.Read(ref _retries),
        Interlocked.Read(ref _requests),
        _buffer.Count);

    /// <inheritdoc />
    /// <remarks>Builds and buffers the items; writes the buffer when it reaches <see cref="DynamoDbSinkOptions{T}.MaxBufferedItems"/> keys.</remarks>
    public async ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        for (int i = 0; i < items.Length; i++)
        {
            Buffer(items.Span[i]);
            if (_buffer.Count >= _options.MaxBufferedItems)
            {
                await RunAsync(WriteBufferedAsync, cancellationToken).ConfigureAwait(false);
            }
        }

        if (!_deadLetters.IsEmpty)
        {
            await RunAsync(DeliverDeadLettersAsync, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>Writes every buffered item and flushes the dead-letter sink; returns when all are durable.</remarks>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        await RunAsync(WriteBufferedAsync, cancellationToken).ConfigureAwait(false);
        await RunAsync(DeliverDeadLettersAsync, cancellationToken).ConfigureAwait(false);
        if (_options.DeadLetters is { } deadLetters)
        {
            await RunAsync(ct => deadLetters.FlushAsync(ct), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Drops buffered items without writing them (flush first); the client and the dead-letter sink stay open.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        _disposed = true;
        _buffer.Clear();
        return ValueTask.CompletedTask;
    }

    private void Buffer(T item)
    {
        long order = ++_order;
        if (!_map.TryBuildItem(item, out var attributes, out int size, out var reason, out string? error))
        {
            DeadLetter(item, KeyText(item), reason, $"Item cannot be written to DynamoDB table {_table}: {error}");
            return;
        }

        string keyText = KeyText(attributes);
        if (size > ItemSize.MaxItemBytes)
        {
            DeadLetter(item, keyText, DeadLetterReason.InvalidRecord, $"Item {keyText} is {size} bytes; DynamoDB items are at most {ItemSize.MaxItemBytes} bytes (400 KB), attribute names included.");
            return;
        }

        long version = _map.Version is { } v ? v(item) : order;
        Add(new Pending(item, keyText, Key(attributes), attributes, version, order));
        if (_map.ReplacedBy?.Invoke(item) is { Count: > 0 } replaced)
        {
            foreach (var old in replaced)
            {
                if (_map.TryBuildKey(old, out var key, out _))
                {
                    Add(new Pending(old, KeyText(key), key, null, version, order));
                }
            }
        }
    }

    /// <summary>Keeps the newest entry of a key: the higher version, or on a tie the later one.</summary>
    private void Add(Pending entry)
    {
        // The buffer key puts the partition key's length first, so no pair of key values can collide ("a|b" + "c" vs "a" + "b|c").
        var pk = entry.Key[_map.PartitionKey.Name];
        string pkText = pk.S ?? pk.N;
        string bufferKey = string.Concat(pkText.Length.ToString(CultureInfo.InvariantCulture), ":", entry.KeyText);
        if (!_buffer.TryGetValue(bufferKey, out var existing) || existing.Version <= entry.Version)
        {
            _buffer[bufferKey] = entry;
        }
    }

    private async ValueTask WriteBufferedAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Count == 0)
        {
            return;
        }

        var entries = new Pending[_buffer.Count];
        _buffer.Values.CopyTo(entries, 0);
        _buffer.Clear();
        long started = Stopwatch.GetTimestamp();
        using var activity = DynamoDbTelemetry.ActivitySource.StartActivity("DynamoDbSink.Write");
        activity?.SetTag("db.system", "dynamodb");
        activity?.SetTag("aws.dynamodb.table_names", _table);
        activity?.SetTag("items", entries.Length);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentRequests, CancellationToken = cancellationToken };
        if (_options.WriteMode == DynamoDbWriteMode.Versioned)
        {
            await Parallel.ForEachAsync(entries, parallel, (entry, ct) => WriteOneAsync(entry, conditional: true, ct)).ConfigureAwait(false);
        }
        else
        {
            var groups = new List<ArraySegment<Pending>>((entries.Length + MaxBatchItems - 1) / MaxBatchItems);
            for (int i = 0; i < entries.Length; i += MaxBatchItems)
            {
                groups.Add(new ArraySegment<Pending>(entries, i, Math.Min(MaxBatchItems, entries.Length - i)));
            }

            await Parallel.ForEachAsync(groups, parallel, WriteBatchAsync).ConfigureAwait(false);
        }

        DynamoDbSinkInstruments.WriteDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _tableTag);
    }

    private async ValueTask WriteOneAsync(Pending entry, bool conditional, CancellationToken cancellationToken)
    {
        try
        {
            await _retry.ExecuteAsync(
                async (state, ct) =>
                {
                    var (sink, pending, withCondition) = state;
                    Interlocked.Increment(ref sink._requests);
                    if (pending.Item is not null)
                    {
                        var put = new PutItemRequest { TableName = sink._table, Item = pending.Item };
                        if (withCondition)
                        {
                            sink.Condition(put, pending.Version);
                        }

                        await sink._client.PutItemAsync(put, ct).ConfigureAwait(false);
                    }
                    else
                    {
                        var delete = new DeleteItemRequest { TableName = sink._table, Key = pending.Key };
                        if (withCondition)
                        {
                            delete.ConditionExpression = sink._deleteCondition;
                            delete.ExpressionAttributeNames = new Dictionary<string, string> { ["#v"] = sink._map.VersionAttributeName! };
                            delete.ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":v"] = DynamoDbItemMapBuilder<T>.Number(pending.Version) };
                        }

                        await sink._client.DeleteItemAsync(delete, ct).ConfigureAwait(false);
                    }
                },
                (this, entry, conditional),
                cancellationToken).ConfigureAwait(false);
            Stored(entry, 1);
        }
        catch (ConditionalCheckFailedException)
        {
            Interlocked.Increment(ref _stale);
            DynamoDbSinkInstruments.StaleWrites.Add(1, _tableTag);
        }
        catch (Exception ex) when (DynamoDbWriteErrors.IsValidation(ex))
        {
            DeadLetter(entry.Source, entry.KeyText, DeadLetterReason.Rejected, $"DynamoDB table {_table} refused item {entry.KeyText}: {ex.Message}");
        }
    }

    private async ValueTask WriteBatchAsync(ArraySegment<Pending> group, CancellationToken cancellationToken)
    {
        var requests = new List<WriteRequest>(group.Count);
        foreach (var entry in group)
        {
            requests.Add(entry.Item is not null
                ? new WriteRequest { PutRequest = new PutRequest { Item = entry.Item } }
                : new WriteRequest { DeleteRequest = new DeleteRequest { Key = entry.Key } });
        }

        var state = new BatchState(this, requests);
        int left;
        try
        {
            left = await _batchRetry.ExecuteAsync(
                static async (state, ct) =>
                {
                    var sink = state.Sink;
                    Interlocked.Increment(ref sink._requests);
                    var response = await sink._client.BatchWriteItemAsync(
                        new BatchWriteItemRequest { RequestItems = new Dictionary<string, List<WriteRequest>> { [sink._table] = state.Remaining } },
                        ct).ConfigureAwait(false);
                    state.Remaining = response.UnprocessedItems is { } unprocessed && unprocessed.TryGetValue(sink._table, out var rest) && rest is not null ? rest : [];
                    return state.Remaining.Count;
                },
                state,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DynamoDbWriteErrors.IsValidation(ex))
        {
            // The whole call was refused for one bad item (or a few): write them one by one to find it.
            DynamoDbLog.SinkBatchRejected(_logger, _table, group.Count, ex.Message);
            foreach (var entry in group)
            {
                await WriteOneAsync(entry, conditional: false, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (left > 0)
        {
            throw new DynamoDbWriteException($"{left} items of a BatchWriteItem call to table {_table} were still unprocessed when retries ran out (DynamoDbSinkOptions.Retry).");
        }

        foreach (var entry in group)
        {
            Stored(entry, 1);
        }
    }

    private void Condition(PutItemRequest put, long version)
    {
        put.ConditionExpression = _versionCondition;
        put.ExpressionAttributeNames = new Dictionary<string, string> { ["#v"] = _map.VersionAttributeName! };
        put.ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":v"] = DynamoDbItemMapBuilder<T>.Number(version) };
    }

    private void Stored(Pending entry, int count)
    {
        if (entry.Item is null)
        {
            Interlocked.Add(ref _deleted, count);
            DynamoDbSinkInstruments.ItemsDeleted.Add(count, _tableTag);
        }
        else
        {
            Interlocked.Add(ref _written, count);
            DynamoDbSinkInstruments.ItemsWritten.Add(count, _tableTag);
        }
    }

    private void DeadLetter(T item, string keyText, DeadLetterReason reason, string message)
    {
        ReadOnlyMemory<byte> payload;
        try
        {
            payload = _options.DeadLetterPayload is { } select ? select(item) : Encoding.UTF8.GetBytes(item?.ToString() ?? string.Empty);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            payload = default;
            message += $" (DeadLetterPayload threw {ex.GetType().Name}: {ex.Message})";
        }

        _deadLetters.Enqueue(new DeadLetter(new StreamPosition($"dynamodb:{_table}/{keyText}", SequenceNumber.Zero), reason, message, payload));
        Interlocked.Increment(ref _deadLettered);
        DynamoDbSinkInstruments.DeadLetters.Add(1, _tableTag);
        DynamoDbLog.SinkDeadLetter(_logger, _table, reason, message);
    }

    private async ValueTask DeliverDeadLettersAsync(CancellationToken cancellationToken)
    {
        if (_deadLetters.IsEmpty)
        {
            return;
        }

        var letters = new List<DeadLetter>(_deadLetters.Count);
        while (_deadLetters.TryDequeue(out var letter))
        {
            letters.Add(letter);
        }

        if (_options.DeadLetters is { } sink)
        {
            await sink.WriteAsync(letters.ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask RunAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken)
    {
        try
        {
            await action(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _fault = ex;
            _buffer.Clear();
            if (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                DynamoDbLog.SinkGaveUp(_logger, _table, ex);
            }

            throw;
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
        {
            throw new InvalidOperationException($"The DynamoDB sink for table {_table} failed earlier ({_fault.GetType().Name}: {_fault.Message}); create a new sink (the pipeline restarts from its last checkpoint).", _fault);
        }
    }

    private void OnRetry(RetryNotice<object> notice)
    {
        Interlocked.Increment(ref _retries);
        DynamoDbSinkInstruments.Retries.Add(1, _tableTag);
        DynamoDbLog.SinkRetrying(_logger, "write", _table, DynamoDbWriteErrors.Code(notice.Outcome.Exception), notice.FailedAttempt, notice.Delay);
    }

    private void OnBatchRetry(RetryNotice<int> notice)
    {
        Interlocked.Increment(ref _retries);
        DynamoDbSinkInstruments.Retries.Add(1, _tableTag);
        if (notice.Outcome.Exception is { } exception)
        {
            DynamoDbLog.SinkRetrying(_logger, "BatchWriteItem", _table, DynamoDbWriteErrors.Code(exception), notice.FailedAttempt, notice.Delay);
        }
        else
        {
            DynamoDbLog.SinkUnprocessedItems(_logger, _table, notice.Outcome.Result, notice.FailedAttempt, notice.Delay);
        }
    }

    private string KeyText(T item)
    {
        try
        {
            return _map.TryBuildKey(item, out var key, out _) ? KeyText(key) : "(no key)";
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return "(no key)";
        }
    }

    private string KeyText(Dictionary<string, AttributeValue> attributes)
    {
        var pk = attributes[_map.PartitionKey.Name];
        string text = pk.S ?? pk.N;
        if (_map.SortKey is { } sortKey)
        {
            var sk = attributes[sortKey.Name];
            text = string.Concat(text, "|", sk.S ?? sk.N);
        }

        return text;
    }

    private Dictionary<string, AttributeValue> Key(Dictionary<string, AttributeValue> attributes)
    {
        var key = new Dictionary<string, AttributeValue>(2, StringComparer.Ordinal) { [_map.PartitionKey.Name] = attributes[_map.PartitionKey.Name] };
        if (_map.SortKey is { } sortKey)
        {
            key[sortKey.Name] = attributes[sortKey.Name];
        }

        return key;
    }

    /// <summary>A buffered write (or, with no item, a delete) of one key.</summary>
    private sealed record Pending(T Source, string KeyText, Dictionary<string, AttributeValue> Key, Dictionary<string, AttributeValue>? Item, long Version, long Order);

    private sealed class BatchState(DynamoDbSink<T> sink, List<WriteRequest> remaining)
    {
        public DynamoDbSink<T> Sink { get; } = sink;

        public List<WriteRequest> Remaining { get; set; } = remaining;
    }
}

/// <summary>Counters of a <see cref="DynamoDbSink{T}"/>.</summary>
/// <param name="ItemsWritten">Items stored (puts that DynamoDB accepted).</param>
/// <param name="ItemsDeleted">Items of replaced identities deleted (session windows that grew or merged).</param>
/// <param name="StaleWrites">Conditional writes skipped because the table already held a newer version: done, not failed.</param>
/// <param name="DeadLetters">Items sent to the dead letters (too large, invalid, or refused by DynamoDB).</param>
/// <param name="Retries">Attempts made again after throttling, a 5xx, a dropped connection or unprocessed items.</param>
/// <param name="Requests">Write requests sent (<c>PutItem</c>, <c>DeleteItem</c>, <c>BatchWriteItem</c>), retries included.</param>
/// <param name="Buffered">Keys waiting in the buffer.</param>
public readonly record struct DynamoDbSinkStatistics(long ItemsWritten, long ItemsDeleted, long StaleWrites, long DeadLetters, long Retries, long Requests, int Buffered);

/// <summary>A write to DynamoDB that could not be completed after every attempt (items still unprocessed).</summary>
public sealed class DynamoDbWriteException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DynamoDbWriteException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public DynamoDbWriteException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public DynamoDbWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The sink's instruments, tagged with <c>table</c>.</summary>
internal static class DynamoDbSinkInstruments
{
    public static readonly Counter<long> ItemsWritten = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "sink.items", "{item}", "Items stored in DynamoDB.");
    public static readonly Counter<long> ItemsDeleted = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "sink.deletes", "{item}", "Items of replaced identities deleted.");
    public static readonly Counter<long> StaleWrites = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "sink.stale_writes", "{item}", "Conditional writes skipped because a newer version was stored.");
    public static readonly Counter<long> DeadLetters = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "sink.dead_letters", "{item}", "Items sent to the dead letters.");
    public static readonly Counter<long> Retries = DynamoDbTelemetry.Meter.CreateCounter<long>(DynamoDbTelemetry.Prefix + "sink.retries", "{retry}", "Write attempts made again.");
    public static readonly Histogram<double> WriteDuration = DynamoDbTelemetry.Meter.CreateHistogram<double>(DynamoDbTelemetry.Prefix + "sink.write_duration", "ms", "Time to write a buffer of items.");
}
