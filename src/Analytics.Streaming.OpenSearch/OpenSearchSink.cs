using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Analytics.Streaming.OpenSearch.Internal;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace Analytics.Streaming.OpenSearch;

/// <summary>
/// An <see cref="ISink{T}"/> that writes items as documents to OpenSearch or Elasticsearch with the <c>_bulk</c> API:
/// one action per item with a deterministic <c>_id</c> (and, for results, an external version), NDJSON written with
/// <see cref="Utf8JsonWriter"/> into a pooled buffer, bulks cut by bytes and action count.
/// </summary>
/// <typeparam name="T">The item type: window results, or events for a "recent events" index.</typeparam>
/// <remarks>
/// <para>
/// <b>Idempotent and ordered by version.</b> Every document has the <c>_id</c> of <see cref="OpenSearchSinkOptions{T}.Id"/>,
/// so a replay after a restart overwrites instead of adding. With <see cref="OpenSearchSinkOptions{T}.Version"/> (the
/// record count of a result) the action carries <c>version_type=external_gte</c>: the cluster keeps the highest version
/// whatever order writes arrive in, and answers 409 to an older one, which the sink counts as stale and treats as
/// success. With <see cref="OpenSearchOpType.Create"/> (data streams, append-only indices) a document already there
/// answers 409 too: success, counted as stale.
/// </para>
/// <para>
/// <b>Per-item outcomes.</b> The answer is read item by item. Items answered 429 or 5xx are sent again (only they) with
/// the backoff of <see cref="OpenSearchSinkOptions{T}.Retry"/>; a whole request answered 429, 500, 502, 503 or 504, or lost in
/// transport, is sent again as a whole. Items refused for good (mapping errors and other 400s, 404s) go to
/// <see cref="OpenSearchSinkOptions{T}.DeadLetters"/> with the server's status, error type and reason, and the document
/// as payload; so do items whose document cannot be written (NaN, invalid raw JSON, an accessor that throws). When
/// retries run out, or a request fails in a way retrying cannot fix (401, 403, 413), the call throws
/// (<see cref="OpenSearchDeliveryException"/>, <see cref="OpenSearchException"/>): the pipeline then stops without
/// checkpointing past the failure and replays from its last checkpoint.
/// </para>
/// <para>
/// <b>Durability.</b> <see cref="WriteAsync"/> sends a bulk whenever one is full; <see cref="FlushAsync"/> sends the rest,
/// hands dead letters to their sink and flushes it, and returns when the cluster acknowledged every action (use the
/// cluster's <c>refresh_interval</c> for visibility: no refresh is forced). Calls must not overlap. After a call threw,
/// the sink is unusable (later calls throw <see cref="InvalidOperationException"/>): the pipeline restarts from its last
/// checkpoint with a new sink.
/// </para>
/// </remarks>
public sealed class OpenSearchSink<T> : ISink<T>
{
    private static readonly JsonEncodedText IndexAction = JsonEncodedText.Encode("index");
    private static readonly JsonEncodedText CreateAction = JsonEncodedText.Encode("create");
    private static readonly JsonEncodedText DeleteAction = JsonEncodedText.Encode("delete");
    private static readonly JsonEncodedText IndexField = JsonEncodedText.Encode("_index");
    private static readonly JsonEncodedText IdField = JsonEncodedText.Encode("_id");
    private static readonly JsonEncodedText VersionField = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText VersionTypeField = JsonEncodedText.Encode("version_type");
    private static readonly JsonEncodedText ExternalGte = JsonEncodedText.Encode("external_gte");
    private static readonly JsonEncodedText External = JsonEncodedText.Encode("external");

    private readonly OpenSearchSinkOptions<T> _options;
    private readonly OpenSearchDocumentMap<T> _map;
    private readonly OpenSearchIndex<T> _index;
    private readonly Func<T, string> _id;
    private readonly Func<T, long>? _version;
    private readonly Func<T, StreamPosition>? _position;
    private readonly Func<T, IEnumerable<T>>? _supersedes;
    private readonly JsonEncodedText _action;
    private readonly JsonEncodedText _versionType;
    private readonly OpenSearchTransport _transport;
    private readonly ResiliencePipeline<Attempt> _retry;
    private readonly ILogger _logger;
    private readonly TagList _tags;
    private readonly PooledBufferWriter _buffer = new(64 * 1024);
    private readonly PooledBufferWriter _retryBuffer = new(4 * 1024);
    private readonly Utf8JsonWriter _writer;
    private readonly List<PendingAction> _actions = [];
    private readonly List<BulkItem> _items = [];
    private readonly List<DeadLetter> _deadLetters = [];
    private long _applied;
    private long _stale;
    private long _rejected;
    private long _retries;
    private long _requests;
    private long _bytes;
    private bool _disposed;
    private Exception? _fault;

    /// <summary>Creates the sink; the options are validated here.</summary>
    /// <param name="options">The settings; not copied, so do not change them afterwards.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which and what to change.</exception>
    public OpenSearchSink(OpenSearchSinkOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _map = options.Document!;
        _index = options.Index!;
        _id = options.Id!;
        _version = options.Version;
        _position = options.DeadLetterPosition;
        _supersedes = options.Supersedes;
        _action = options.OpType == OpenSearchOpType.Create ? CreateAction : IndexAction;
        _versionType = options.VersionType == OpenSearchVersionType.External ? External : ExternalGte;
        _transport = new OpenSearchTransport(options.Endpoint!, options.Authentication, options.HttpHandler, options.RequestTimeout, options.TimeProvider);
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<OpenSearchSink<T>>();
        _tags = new TagList { { "sink", options.Name } };
        _retry = RetryPipelineFactory.Create<Attempt>(options.Retry, options.TimeProvider, static outcome => outcome.Result.Retryable, OnRetry);
        _writer = new Utf8JsonWriter(_buffer, DocumentField<T>.WriterOptions);
    }

    /// <summary>Gets the base address requests go to (with a trailing slash).</summary>
    public Uri Endpoint => _transport.Endpoint;

    /// <summary>Gets counters of what the sink has done so far.</summary>
    public OpenSearchSinkStatistics Statistics => new(_applied, _stale, _rejected, _retries, _requests, _bytes, _actions.Count);

    /// <inheritdoc />
    /// <exception cref="OpenSearchDeliveryException">A full bulk could not be delivered after every attempt.</exception>
    /// <exception cref="OpenSearchException">A request failed in a way retrying cannot fix.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        try
        {
            await WriteCoreAsync(items, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _fault ??= exception;
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>Sends the buffered actions, hands the dead letters to their sink and flushes it.</remarks>
    /// <exception cref="OpenSearchDeliveryException">Actions could not be delivered after every attempt.</exception>
    /// <exception cref="OpenSearchException">A request failed in a way retrying cannot fix.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        try
        {
            if (_actions.Count > 0)
            {
                await SendAsync(cancellationToken).ConfigureAwait(false);
                _buffer.Clear();
            }

            await HandOverDeadLettersAsync(flush: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _fault ??= exception;
            throw;
        }
    }

    private async ValueTask WriteCoreAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        var group = new List<PendingAction>();
        for (int i = 0; i < items.Length; i++)
        {
            // The item's lines, then the deletes of what it supersedes: written together or not at all, so a refused
            // item never leaves its session without a document.
            int start = _buffer.WrittenCount;
            group.Clear();
            if (!TryAppend(items.Span[i], start, out var action))
            {
                continue;
            }

            group.Add(action);
            if (_supersedes is not null && !TryAppendDeletes(items.Span[i], action, group))
            {
                continue;
            }

            if (_actions.Count > 0 && (_buffer.WrittenCount > _options.MaxBulkBytes || _actions.Count + group.Count > _options.MaxBulkActions))
            {
                // The new actions start the next bulk: send what precedes them.
                await SendAsync(cancellationToken).ConfigureAwait(false);
                _buffer.KeepTail(_buffer.WrittenCount - start);
                for (int g = 0; g < group.Count; g++)
                {
                    group[g] = group[g] with { Offset = group[g].Offset - start };
                }
            }

            _actions.AddRange(group);
        }

        if (_deadLetters.Count > 0)
        {
            await HandOverDeadLettersAsync(flush: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Creates or replaces a composable index template (<c>PUT _index_template/{name}</c>), such as one made by
    /// <see cref="OpenSearchIndexTemplate.Create{T}"/>, with the sink's authentication and retries.
    /// </summary>
    /// <param name="name">The template name.</param>
    /// <param name="template">The template body (JSON).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the cluster acknowledged the template.</returns>
    /// <exception cref="OpenSearchException">The cluster refused the template.</exception>
    public async Task PutIndexTemplateAsync(string name, ReadOnlyMemory<byte> template, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string path = "_index_template/" + Uri.EscapeDataString(name);
        var last = await _retry.ExecuteAsync(
            static async (state, token) =>
            {
                using var response = await state.Sink._transport.SendAsync(HttpMethod.Put, state.Path, state.Body, ndjson: false, token).ConfigureAwait(false);
                if (response.Status is >= 200 and < 300)
                {
                    return default;
                }

                var (type, reason) = response.Status == 0 ? ("transport", response.Problem ?? string.Empty) : response.ReadError();
                return new Attempt(IsTransient(response.Status), response.Status, type, reason, 0);
            },
            (Sink: this, Path: path, Body: template),
            cancellationToken).ConfigureAwait(false);
        if (last.ErrorType is not null)
        {
            throw new OpenSearchException($"PUT {path} failed with {last.Status} {last.ErrorType}: {last.ErrorReason}", last.Status == 0 ? null : last.Status, last.ErrorType);
        }
    }

    /// <summary>Releases the buffers and connections; actions not flushed are dropped (flush first; a replay writes them again).</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _writer.Dispose();
            _buffer.Dispose();
            _retryBuffer.Dispose();
            _transport.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
        {
            throw new InvalidOperationException(
                $"{_options.Name}: the OpenSearch sink failed earlier and dropped what it held; create a new sink and replay from the last checkpoint. First failure: {_fault.GetType().Name}: {_fault.Message}",
                _fault);
        }
    }

    private static bool IsTransient(int status) => status is 0 or 429 or 500 or 502 or 503 or 504;

    private static string NormalizeId(string id)
    {
        if (id.Length > 170 && Encoding.UTF8.GetByteCount(id) > 512)
        {
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
        }

        return id;
    }

    /// <summary>
    /// Writes a delete of every document <paramref name="item"/> supersedes, with the item's version, after the item's
    /// own lines; when one cannot be written, the item's lines go too and the item becomes a dead letter.
    /// </summary>
    private bool TryAppendDeletes(T item, PendingAction written, List<PendingAction> group)
    {
        try
        {
            long version = _version?.Invoke(item) ?? 0;
            foreach (var old in _supersedes!(item))
            {
                int start = _buffer.WrittenCount;
                string index = _index.NameOf(old);
                string id = NormalizeId(_id(old));
                _writer.Reset(_buffer);
                _writer.WriteStartObject();
                _writer.WriteStartObject(DeleteAction);
                _writer.WriteString(IndexField, index);
                _writer.WriteString(IdField, id);
                if (_version is not null)
                {
                    _writer.WriteNumber(VersionField, version);
                    _writer.WriteString(VersionTypeField, ExternalGte);
                }

                _writer.WriteEndObject();
                _writer.WriteEndObject();
                _writer.Flush();
                _buffer.Write("\n"u8);
                group.Add(new PendingAction(start, _buffer.WrittenCount - start, -1, index, id, old));
            }

            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            _writer.Reset(_buffer);
            _buffer.Truncate(written.Offset);
            RejectItem(item, written.Index, written.Id, $"the documents it supersedes cannot be deleted: {exception.GetType().Name}: {exception.Message}");
            return false;
        }
    }

    /// <summary>Writes the action and document lines of one item; on failure, nothing stays in the buffer and the item becomes a dead letter.</summary>
    private bool TryAppend(T item, int start, out PendingAction action)
    {
        string? index = null, id = null;
        try
        {
            index = _index.NameOf(item);
            string rawId = _id(item);
            if (string.IsNullOrEmpty(rawId))
            {
                throw new OpenSearchValueException("The item's id is empty.");
            }

            id = NormalizeId(rawId);
            long version = 0;
            if (_version is not null)
            {
                version = _version(item);
                if (version < 0)
                {
                    throw new OpenSearchValueException($"The item's version is {version}; external versions are 0 or more.");
                }
            }

            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            _writer.WriteStartObject(_action);
            _writer.WriteString(IndexField, index);
            _writer.WriteString(IdField, id);
            if (_version is not null)
            {
                _writer.WriteNumber(VersionField, version);
                _writer.WriteString(VersionTypeField, _versionType);
            }

            _writer.WriteEndObject();
            _writer.WriteEndObject();
            _writer.Flush();
            _buffer.Write("\n"u8);
            int source = _buffer.WrittenCount - start;
            _writer.Reset(_buffer);
            _map.Write(_writer, item);
            _writer.Flush();
            _buffer.Write("\n"u8);
            action = new PendingAction(start, _buffer.WrittenCount - start, source, index, id, item);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            _writer.Reset(_buffer);
            _buffer.Truncate(start);
            RejectItem(item, index, id, exception is OpenSearchValueException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}");
            action = default;
            return false;
        }
    }

    /// <summary>Sends an item that cannot be written to the dead letters (<see cref="DeadLetterReason.InvalidValue"/>), with its text as the payload.</summary>
    private void RejectItem(T item, string? index, string? id, string reason)
    {
        string message = $"The document {(id is null ? string.Empty : $"'{id}' ")}for OpenSearch index '{index ?? "?"}' cannot be written: {reason}";
        byte[] payload;
        try
        {
            payload = Encoding.UTF8.GetBytes(item?.ToString() ?? string.Empty);
        }
#pragma warning disable CA1031 // The item is already failing; a ToString that throws must not stop the stream too.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            payload = [];
        }

        Reject(PositionOf(item, index ?? "?", id ?? "?"), DeadLetterReason.InvalidValue, message, payload, index ?? "?", id ?? "?");
    }

    /// <summary>The position a dead letter of <paramref name="item"/> reports: <see cref="OpenSearchSinkOptions{T}.DeadLetterPosition"/>, or <c>{index}/{id}</c>.</summary>
    private StreamPosition PositionOf(T item, string index, string id)
    {
        if (_position is not null)
        {
            try
            {
                return _position(item);
            }
#pragma warning disable CA1031 // The item is already failing; a position selector that throws must not stop the stream too.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
            }
        }

        return new StreamPosition($"{index}/{id}", SequenceNumber.Zero);
    }

    private void Reject(StreamPosition position, DeadLetterReason reason, string message, byte[] payload, string index, string id)
    {
        _rejected++;
        OpenSearchTelemetry.Rejected.Add(1, _tags);
        OpenSearchLog.DocumentRejected(_logger, _options.Name, id, index, message);
        if (_options.DeadLetters is not null)
        {
            _deadLetters.Add(new DeadLetter(position, reason, message, payload));
        }
    }

    private async ValueTask HandOverDeadLettersAsync(bool flush, CancellationToken cancellationToken)
    {
        if (_options.DeadLetters is not { } sink)
        {
            return;
        }

        if (_deadLetters.Count > 0)
        {
            var letters = _deadLetters.ToArray();
            _deadLetters.Clear();
            await sink.WriteAsync(letters, cancellationToken).ConfigureAwait(false);
        }

        if (flush)
        {
            await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Delivers every buffered action (retrying what is transient) and clears the list; the buffer is left to the caller.</summary>
    private async Task SendAsync(CancellationToken cancellationToken)
    {
        var delivery = new Delivery(this, [.. _actions]);
        using var activity = OpenSearchTelemetry.ActivitySource.HasListeners() ? OpenSearchTelemetry.ActivitySource.StartActivity("OpenSearch.Bulk", ActivityKind.Client) : null;
        activity?.SetTag("db.system.name", "opensearch");
        activity?.SetTag("db.operation.name", "bulk");
        activity?.SetTag("db.operation.batch.size", delivery.Pending.Count);
        var last = await _retry.ExecuteAsync(static (d, token) => d.Sink.AttemptAsync(d, token), delivery, cancellationToken).ConfigureAwait(false);
        _actions.Clear();
        if (delivery.Pending.Count == 0 && !last.Fatal)
        {
            return;
        }

        activity?.SetStatus(ActivityStatusCode.Error, last.ErrorReason);
        OpenSearchLog.DeliveryFailed(_logger, _options.Name, delivery.Pending.Count, delivery.Attempts, last.Status, last.ErrorType ?? "error", last.ErrorReason ?? string.Empty);
        if (last.Fatal)
        {
            throw new OpenSearchException(
                $"{_options.Name}: the _bulk request to {_transport.Endpoint} failed with {last.Status} {last.ErrorType}, which retrying cannot fix: {last.ErrorReason}",
                last.Status == 0 ? null : last.Status,
                last.ErrorType);
        }

        throw new OpenSearchDeliveryException(
            $"{_options.Name}: {delivery.Pending.Count} action(s) could not be delivered to {_transport.Endpoint} after {delivery.Attempts} attempts; the last answer was {last.Status} {last.ErrorType}: {last.ErrorReason}",
            delivery.Pending.Count,
            last.Status == 0 ? null : last.Status,
            last.ErrorType);
    }

    private async ValueTask<Attempt> AttemptAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var pending = delivery.Pending;
        if (delivery.Attempts++ > 0)
        {
            _retries += pending.Count;
            OpenSearchTelemetry.Retries.Add(pending.Count, _tags);
        }

        ReadOnlyMemory<byte> body;
        if (delivery.Attempts == 1)
        {
            var lastAction = pending[^1];
            body = _buffer.WrittenMemory[..(lastAction.Offset + lastAction.Length)];
        }
        else
        {
            _retryBuffer.Clear();
            foreach (var action in pending)
            {
                _retryBuffer.Write(_buffer.WrittenSpan.Slice(action.Offset, action.Length));
            }

            body = _retryBuffer.WrittenMemory;
        }

        long started = _options.TimeProvider.GetTimestamp();
        _requests++;
        _bytes += body.Length;
        OpenSearchTelemetry.Requests.Add(1, _tags);
        OpenSearchTelemetry.Bytes.Add(body.Length, _tags);
        TransportResponse response;
        try
        {
            response = await _transport.SendAsync(HttpMethod.Post, "_bulk", body, ndjson: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            OpenSearchTelemetry.RequestDuration.Record(_options.TimeProvider.GetElapsedTime(started).TotalSeconds, _tags);
        }

        using (response)
        {
            if (response.Status == 0)
            {
                return new Attempt(true, 0, "transport", response.Problem, pending.Count);
            }

            if (response.Status != 200)
            {
                var (type, reason) = response.ReadError();
                return IsTransient(response.Status)
                    ? new Attempt(true, response.Status, type, reason, pending.Count)
                    : new Attempt(false, response.Status, type, response.Status == 413 ? $"{reason} (the request is too large: lower OpenSearchSinkOptions.MaxBulkBytes)" : reason, pending.Count) { Fatal = true };
            }

            try
            {
                BulkResponse.Read(response.BodyMemory, pending.Count, _items);
            }
            catch (InvalidDataException exception)
            {
                return new Attempt(false, response.Status, "malformed_response", $"the _bulk answer cannot be read: {exception.Message}", pending.Count) { Fatal = true };
            }

            return Classify(delivery);
        }
    }

    private Attempt Classify(Delivery delivery)
    {
        var pending = delivery.Pending;
        List<PendingAction>? again = null;
        int applied = 0, stale = 0, lastStatus = 200;
        string? lastType = null, lastReason = null;
        for (int i = 0; i < pending.Count; i++)
        {
            var item = _items[i];
            var action = pending[i];
            bool delete = action.Source < 0;
            if (item.Status is >= 200 and < 300 || (delete && item.Status == 404 && item.ErrorType is null))
            {
                applied++;
            }
            else if (item.Status == 409 && (_version is not null || _options.OpType == OpenSearchOpType.Create))
            {
                stale++;
            }
            else if (IsTransient(item.Status) || item.Status >= 500)
            {
                (again ??= []).Add(action);
                (lastStatus, lastType, lastReason) = (item.Status, item.ErrorType, item.ErrorReason);
            }
            else
            {
                var source = delete ? _buffer.WrittenSpan.Slice(action.Offset, action.Length - 1) : _buffer.WrittenSpan.Slice(action.Offset + action.Source, action.Length - action.Source - 1);
                string message = $"OpenSearch refused document '{action.Id}' for index '{action.Index}' with {item.Status} {item.ErrorType}: {item.ErrorReason}";
                Reject(PositionOf(action.Item, action.Index, action.Id), DeadLetterReason.Rejected, message, source.ToArray(), action.Index, action.Id);
            }
        }

        _applied += applied;
        _stale += stale;
        OpenSearchTelemetry.Documents.Add(applied, _tags);
        if (stale > 0)
        {
            OpenSearchTelemetry.Stale.Add(stale, _tags);
            OpenSearchLog.StaleWrites(_logger, _options.Name, stale);
        }

        delivery.Pending = again ?? [];
        return again is null
            ? default
            : new Attempt(true, lastStatus, lastType, lastReason, again.Count) { Total = pending.Count, PerItem = true };
    }

    private void OnRetry(RetryNotice<Attempt> notice)
    {
        var attempt = notice.Outcome.Result;
        if (attempt.PerItem)
        {
            OpenSearchLog.ItemsRetrying(_logger, _options.Name, attempt.Failed, attempt.Total, attempt.Status, attempt.ErrorType ?? "error", notice.FailedAttempt, notice.Delay);
        }
        else if (attempt.Status == 0)
        {
            OpenSearchLog.TransportFailed(_logger, _options.Name, attempt.ErrorReason ?? "no answer", notice.FailedAttempt, notice.Delay);
        }
        else
        {
            OpenSearchLog.RequestThrottled(_logger, _options.Name, attempt.Status, attempt.Failed, notice.FailedAttempt, notice.Delay);
        }
    }

    /// <summary>One buffered action: where its lines are in the buffer, where its document line starts (-1 for a delete), and its item (a copy, for the position of a dead letter).</summary>
    private readonly record struct PendingAction(int Offset, int Length, int Source, string Index, string Id, T Item);

    /// <summary>The outcome of one attempt: whether another may help, and the last failure seen.</summary>
    private readonly record struct Attempt(bool Retryable, int Status, string? ErrorType, string? ErrorReason, int Failed)
    {
        public bool Fatal { get; init; }

        public bool PerItem { get; init; }

        public int Total { get; init; }
    }

    private sealed class Delivery(OpenSearchSink<T> sink, List<PendingAction> pending)
    {
        public OpenSearchSink<T> Sink { get; } = sink;

        public List<PendingAction> Pending { get; set; } = pending;

        public int Attempts { get; set; }
    }
}

/// <summary>Counters of an <see cref="OpenSearchSink{T}"/> since it was created.</summary>
/// <param name="DocumentsWritten">Actions the cluster applied (created or updated).</param>
/// <param name="StaleWrites">Writes refused with 409 because the cluster holds a newer (or the same) version, or the document of a <c>create</c>; successes.</param>
/// <param name="DocumentsRejected">Documents sent to the dead letters (or only counted, without a dead-letter sink).</param>
/// <param name="Retries">Actions sent again after a 429, a 5xx or a lost request.</param>
/// <param name="Requests">_bulk requests sent.</param>
/// <param name="BytesSent">Body bytes of the _bulk requests.</param>
/// <param name="BufferedActions">Actions waiting for the next bulk.</param>
public sealed record OpenSearchSinkStatistics(long DocumentsWritten, long StaleWrites, long DocumentsRejected, long Retries, long Requests, long BytesSent, int BufferedActions);
