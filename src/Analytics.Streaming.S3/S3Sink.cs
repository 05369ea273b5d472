using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.S3;

/// <summary>
/// A data-lake sink: buffers records into objects per partition (Hive style, Firehose style, dynamic partitions from
/// record fields), rolls them by size, record count and age like Firehose's buffering hints, and delivers them to
/// S3 (multipart for large objects) or a local folder. Records that cannot be converted go to an error prefix with
/// the reason.
/// </summary>
/// <typeparam name="T">The record type: window results, decoded events, or <see cref="RawRecord"/> for the raw zone.</typeparam>
/// <remarks>
/// <para>
/// <b>Durability.</b> <see cref="FlushAsync"/> closes every open object and returns when all of them, and the
/// error objects, are stored: what was written before it is durable, as <see cref="ISink{T}"/> requires before a
/// checkpoint. Objects also close on their own when they reach <see cref="S3SinkOptions{T}.MaxObjectBytes"/>,
/// <see cref="S3SinkOptions{T}.MaxRecordsPerObject"/> or <see cref="S3SinkOptions{T}.MaxObjectAge"/> (checked on
/// every call). <see cref="DisposeAsync"/> does <i>not</i> flush: it aborts open uploads and drops buffered records,
/// which the replay after the last checkpoint writes again.
/// </para>
/// <para>
/// <b>Idempotence.</b> With <see cref="S3SinkOptions{T}.RecordIdentity"/> set, an object's name is a hash of its
/// partition and the identity of its first record, so the replay that follows a crash writes objects with the same
/// names and overwrites them rather than adding copies. This holds when objects roll at the same records in the
/// replay, which rolling by size and count guarantees and rolling by age does not (as with Kafka Connect's S3 sink).
/// </para>
/// <para>
/// <b>Failures.</b> Store requests are retried under <see cref="S3SinkOptions{T}.Retry"/>. When a call throws, the
/// sink aborts what it had open and becomes unusable: later calls throw <see cref="InvalidOperationException"/>, and
/// the pipeline restarts from its last checkpoint with a new sink.
/// </para>
/// <para>
/// <b>Threading.</b> Calls must not overlap (the pipeline never overlaps them). Memory is about one part
/// (<see cref="S3SinkOptions{T}.PartSize"/>) plus what the format buffers (a Parquet row group) per open object.
/// </para>
/// </remarks>
public sealed class S3Sink<T> : ISink<T>
{
    private const string ConversionFailed = "format-conversion-failed";
    private readonly S3SinkOptions<T> _options;
    private readonly IObjectStore _store;
    private readonly IObjectFormat<T> _format;
    private readonly KeyLayout<T> _layout;
    private readonly TimeProvider _time;
    private readonly Retrier _retrier;
    private readonly string _tablePrefix;
    private readonly string _errorPrefix;
    private readonly Dictionary<PartitionKey, OpenObject> _open = [];
    private readonly Dictionary<long, ErrorObject> _errors = [];
    private readonly List<OpenObject> _due = [];
    private readonly KeyValuePair<string, object?> _tableTag;
    private Exception? _fault;
    private bool _disposed;
    private long _objects;
    private long _records;
    private long _bytes;
    private long _errorRecords;
    private long _errorObjects;
    private long _multipart;

    /// <summary>Creates a sink; the options are validated here.</summary>
    /// <param name="options">The settings; not copied, so do not change them afterwards.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and what to change.</exception>
    public S3Sink(S3SinkOptions<T> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _store = options.Store!;
        _format = options.Format!;
        _layout = options.Layout;
        _time = options.TimeProvider;
        _retrier = new Retrier(options.Retry, _store, _time);
        _tablePrefix = options.TableLocationPrefix;
        _errorPrefix = options.EffectiveErrorPrefix;
        _tableTag = new("table", options.TableName);
    }

    /// <summary>Gets the key prefix of the table's objects, such as <c>lake/analytics/page_views/</c>.</summary>
    public string TablePrefix => _tablePrefix;

    /// <summary>Gets the location of the table folder (<c>s3://bucket/prefix/</c> or a local path), the <c>LOCATION</c> of its Athena table.</summary>
    public string TableLocation => _store.GetLocation(_tablePrefix);

    /// <summary>Gets the key prefix under which records that cannot be converted are written.</summary>
    public string ErrorPrefix => _errorPrefix;

    /// <summary>
    /// Describes the table this sink writes, for Athena (<see cref="DataLakeTable.ToAthenaDdl"/>) and Glue
    /// (<see cref="DataLakeTable.ToGlueCreateTableJson"/>), with partition projection matching the key layout.
    /// </summary>
    /// <param name="database">The Glue database.</param>
    /// <param name="columns">The data columns; <see langword="null"/> to take them from the format (Parquet knows its schema; line formats need them given).</param>
    /// <param name="projectionFirstYear">The first year of projected time partitions. Default 2020.</param>
    /// <returns>The table description.</returns>
    /// <exception cref="InvalidOperationException">No columns were given and the format does not know its columns.</exception>
    public DataLakeTable DescribeTable(string database, IReadOnlyList<TableColumn>? columns = null, int projectionFirstYear = 2020)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(projectionFirstYear, 1970);
        var table = _format as ITableFormat;
        var resolved = columns ?? table?.Columns
            ?? throw new InvalidOperationException($"The format {_format.GetType().Name} does not describe its columns: pass them to DescribeTable.");
        var storage = table?.Storage ?? TableStorage.JsonLines();
        return new DataLakeTable(database, _options.TableName, TableLocation, resolved, _layout.BuildColumns(projectionFirstYear), storage);
    }

    /// <summary>Gets counters of what the sink has done so far.</summary>
    public S3SinkStatistics Statistics => new(_objects, _records, _bytes, _errorObjects, _errorRecords, Interlocked.Read(ref _multipart), _retrier.Retries, _open.Count);

    /// <inheritdoc />
    /// <remarks>
    /// Buffers the records in their partitions' objects; uploads full parts of large objects and closes objects that
    /// reached a size, count or age limit. Records that cannot be partitioned or converted are kept for the error prefix.
    /// </remarks>
    public async ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        try
        {
            var now = _time.GetUtcNow();
            for (int i = 0; i < items.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var item = items.Span[i];
                var target = await RouteAsync(item, now, cancellationToken).ConfigureAwait(false);
                if (target is null)
                {
                    continue;
                }

                if (!target.Writer.TryWrite(item, out string? error))
                {
                    AddError(item, "InvalidValue", error, now);
                    if (target.Records == 0)
                    {
                        Discard(target);
                    }

                    continue;
                }

                target.Records++;
                if (target.Records >= (_options.MaxRecordsPerObject ?? int.MaxValue) || target.Writer.SizeEstimate >= _options.MaxObjectBytes)
                {
                    await CloseAsync(target, cancellationToken).ConfigureAwait(false);
                }
                else if (target.Buffer.Length >= _options.PartSize)
                {
                    await UploadFullPartsAsync(target, cancellationToken).ConfigureAwait(false);
                }
            }

            await CloseDueAsync(_time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await FailAsync(ex).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>Closes and stores every open object and error object; returns when all are durable.</remarks>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        try
        {
            if (_open.Count == 1 || (_open.Count > 1 && _options.MaxConcurrentUploads == 1))
            {
                foreach (var value in _open.Values)
                {
                    await StoreAsync(value, cancellationToken).ConfigureAwait(false);
                }
            }
            else if (_open.Count > 1)
            {
                var targets = new OpenObject[_open.Count];
                _open.Values.CopyTo(targets, 0);
                await Parallel.ForEachAsync(
                    targets,
                    new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrentUploads, CancellationToken = cancellationToken },
                    async (target, ct) => await StoreAsync(target, ct).ConfigureAwait(false)).ConfigureAwait(false);
            }

            foreach (var value in _open.Values)
            {
                Closed(value);
            }

            _open.Clear();

            while (_errors.Count > 0)
            {
                ErrorObject first = null!;
                foreach (var value in _errors.Values)
                {
                    first = value;
                    break;
                }

                await CloseErrorsAsync(first, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            await FailAsync(ex).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Aborts open uploads and drops buffered records; does not flush (see the type's remarks).</summary>
    /// <returns>A task that completes when uploads are aborted.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await AbortAllAsync().ConfigureAwait(false);
    }

    private async ValueTask<OpenObject?> RouteAsync(T item, DateTimeOffset now, CancellationToken cancellationToken)
    {
        PartitionKey key;
        try
        {
            key = _layout.Evaluate(item, now);
        }
#pragma warning disable CA1031 // A selector that throws on one record must not stop the stream: the record goes to the error prefix.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            AddError(item, "DynamicPartitioning.MetadataExtractionFailed", $"The partition of the record could not be computed: {ex.GetType().Name}: {ex.Message}", now);
            return null;
        }

        if (_open.TryGetValue(key, out var existing))
        {
            return existing;
        }

        string name;
        string path = _layout.FormatPath(key);
        try
        {
            name = _options.RecordIdentity is { } identity
                ? HashName(path, identity(item))
                : string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid():N}");
        }
#pragma warning disable CA1031 // As above, for the identity selector.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            AddError(item, "RecordIdentityFailed", $"The identity of the record could not be computed: {ex.GetType().Name}: {ex.Message}", now);
            return null;
        }

        if (_open.Count >= _options.MaxOpenObjects)
        {
            OpenObject oldest = null!;
            foreach (var value in _open.Values)
            {
                if (oldest is null || value.OpenedAt < oldest.OpenedAt)
                {
                    oldest = value;
                }
            }

            await CloseAsync(oldest, cancellationToken).ConfigureAwait(false);
        }

        string objectKey = $"{_tablePrefix}{path}{_options.FileNamePrefix}{name}{_format.FileExtension}";
        ObjectKeys.Validate(objectKey);
        var buffer = new PartBuffer();
        var created = new OpenObject(key, objectKey, buffer, _format.CreateWriter(buffer), now);
        _open.Add(key, created);
        return created;
    }

    private static string HashName(string partitionPath, string identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(partitionPath + "\n" + identity), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    private async ValueTask CloseDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        _due.Clear();
        foreach (var value in _open.Values)
        {
            if (now - value.OpenedAt >= _options.MaxObjectAge)
            {
                _due.Add(value);
            }
        }

        foreach (var value in _due)
        {
            await CloseAsync(value, cancellationToken).ConfigureAwait(false);
        }

        _due.Clear();
        if (_errors.Count > 0)
        {
            List<ErrorObject>? dueErrors = null;
            foreach (var value in _errors.Values)
            {
                if (now - value.OpenedAt >= _options.MaxObjectAge)
                {
                    (dueErrors ??= []).Add(value);
                }
            }

            foreach (var value in dueErrors ?? [])
            {
                await CloseErrorsAsync(value, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask UploadFullPartsAsync(OpenObject target, CancellationToken cancellationToken)
    {
        if (target.Upload is null)
        {
            target.Upload = await StartUploadAsync(target.Key, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _multipart);
            S3SinkTelemetry.MultipartUploads.Add(1, _tableTag);
        }

        while (target.Buffer.Length >= _options.PartSize)
        {
            await UploadPartAsync(target, _options.PartSize, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken)
    {
        IMultipartUpload? upload = null;
        await _retrier.RunAsync(
            async (state, ct) => upload = await state.Store.StartMultipartUploadAsync(state.Key, state.ContentType, ct).ConfigureAwait(false),
            (Store: _store, Key: key, _format.ContentType),
            null,
            cancellationToken).ConfigureAwait(false);
        return upload!;
    }

    private async ValueTask UploadPartAsync(OpenObject target, long size, CancellationToken cancellationToken)
    {
        int partNumber = target.PartsUploaded + 1;
        if (partNumber > S3ObjectStore.MaximumPartCount)
        {
            throw new InvalidOperationException($"Object {target.Key} needs more than {S3ObjectStore.MaximumPartCount} parts: raise PartSize or lower MaxObjectBytes.");
        }

        using var content = target.Buffer.OpenFront(size);
        await _retrier.RunAsync(
            static (state, ct) => state.Upload.UploadPartAsync(state.PartNumber, state.Content, ct),
            (Upload: target.Upload!, PartNumber: partNumber, Content: content),
            content,
            cancellationToken).ConfigureAwait(false);
        target.Buffer.Discard(size);
        target.PartsUploaded = partNumber;
    }

    private async ValueTask CloseAsync(OpenObject target, CancellationToken cancellationToken)
    {
        await StoreAsync(target, cancellationToken).ConfigureAwait(false);
        _open.Remove(target.PartitionKey);
        Closed(target);
    }

    /// <summary>Finishes an object and stores it; touches nothing but the object, so several run at once on flush.</summary>
    private async ValueTask StoreAsync(OpenObject target, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using var activity = S3SinkTelemetry.Source.StartActivity("S3Sink.StoreObject");
        target.Writer.Complete();
        target.Writer.Dispose();
        target.Size = target.Buffer.TotalWritten;
        activity?.SetTag("s3.key", target.Key);
        activity?.SetTag("s3.bytes", target.Size);
        activity?.SetTag("s3.records", target.Records);
        if (target.Upload is null && target.Buffer.Length > _options.PartSize)
        {
            target.Upload = await StartUploadAsync(target.Key, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _multipart);
            S3SinkTelemetry.MultipartUploads.Add(1, _tableTag);
            while (target.Buffer.Length >= _options.PartSize)
            {
                await UploadPartAsync(target, _options.PartSize, cancellationToken).ConfigureAwait(false);
            }
        }

        if (target.Upload is null)
        {
            using var content = target.Buffer.OpenFront(target.Buffer.Length);
            await _retrier.RunAsync(
                static (state, ct) => state.Store.PutObjectAsync(state.Key, state.Content, state.ContentType, ct),
                (Store: _store, target.Key, Content: content, _format.ContentType),
                content,
                cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (target.Buffer.Length > 0 || target.PartsUploaded == 0)
            {
                await UploadPartAsync(target, target.Buffer.Length, cancellationToken).ConfigureAwait(false);
            }

            await _retrier.RunAsync(static (upload, ct) => upload.CompleteAsync(ct), target.Upload, null, cancellationToken).ConfigureAwait(false);
        }

        target.Stored = true;
        S3SinkTelemetry.UploadDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _tableTag);
    }

    private void Closed(OpenObject target)
    {
        target.Buffer.Dispose();
        _objects++;
        _records += target.Records;
        _bytes += target.Size;
        S3SinkTelemetry.Objects.Add(1, _tableTag);
        S3SinkTelemetry.Records.Add(target.Records, _tableTag);
        S3SinkTelemetry.Bytes.Add(target.Size, _tableTag);
    }

    private void Discard(OpenObject target)
    {
        _open.Remove(target.PartitionKey);
        target.Writer.Dispose();
        target.Buffer.Dispose();
    }

    private void AddError(T item, string errorCode, string message, DateTimeOffset now)
    {
        var hour = now.UtcDateTime;
        long bucket = hour.Ticks - (hour.Ticks % TimeSpan.TicksPerHour);
        if (!_errors.TryGetValue(bucket, out var errors))
        {
            errors = new ErrorObject(bucket, now);
            _errors.Add(bucket, errors);
        }

        if (errors.Records == 0 && _options.RecordIdentity is { } identity)
        {
            try
            {
                errors.FirstIdentity = identity(item);
            }
#pragma warning disable CA1031 // The identity is only used for a file name here; fall back to a random one.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                errors.FirstIdentity = null;
            }
        }

        using (var json = new Utf8JsonWriter(errors.Buffer))
        {
            long ms = now.ToUnixTimeMilliseconds();
            json.WriteStartObject();
            json.WriteNumber("attemptsMade", 1);
            json.WriteNumber("arrivalTimestamp", ms);
            json.WriteString("errorCode", errorCode);
            json.WriteString("errorMessage", message);
            json.WriteNumber("attemptEndingTimestamp", ms);
            json.WriteBase64String("rawData", ErrorPayloadOf(item).Span);
            json.WriteString("tableName", _options.TableName);
            json.WriteEndObject();
        }

        errors.Buffer.WriteByte((byte)'\n');
        errors.Records++;
        _errorRecords++;
        S3SinkTelemetry.ErrorRecords.Add(1, _tableTag);
    }

    private ReadOnlyMemory<byte> ErrorPayloadOf(T item)
    {
        if (_options.ErrorPayload is { } payload)
        {
            return payload(item);
        }

        if (typeof(T) == typeof(RawRecord))
        {
            return Unsafe.As<T, RawRecord>(ref item).Data;
        }

        return Encoding.UTF8.GetBytes(item?.ToString() ?? string.Empty);
    }

    private async ValueTask CloseErrorsAsync(ErrorObject errors, CancellationToken cancellationToken)
    {
        var hour = new DateTime(errors.Bucket, DateTimeKind.Utc);
        string name = errors.FirstIdentity is { } identity
            ? HashName(ConversionFailed, identity)
            : string.Create(CultureInfo.InvariantCulture, $"{errors.OpenedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid():N}");
        string key = string.Create(CultureInfo.InvariantCulture, $"{_errorPrefix}{ConversionFailed}/{hour:yyyy'/'MM'/'dd'/'HH}/{_options.FileNamePrefix}{name}.json");
        using var content = errors.Buffer.OpenFront(errors.Buffer.Length);
        await _retrier.RunAsync(
            static (state, ct) => state.Store.PutObjectAsync(state.Key, state.Content, "application/x-ndjson", ct),
            (Store: _store, Key: key, Content: content),
            content,
            cancellationToken).ConfigureAwait(false);
        _errors.Remove(errors.Bucket);
        errors.Buffer.Dispose();
        _errorObjects++;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
        {
            throw new InvalidOperationException(
                $"The S3 sink for table '{_options.TableName}' failed earlier and dropped its open objects; create a new sink and replay from the last checkpoint. First failure: {_fault.GetType().Name}: {_fault.Message}",
                _fault);
        }
    }

    private async ValueTask FailAsync(Exception ex)
    {
        _fault ??= ex;
        await AbortAllAsync().ConfigureAwait(false);
    }

    private async ValueTask AbortAllAsync()
    {
        foreach (var value in _open.Values)
        {
            value.Writer.Dispose();
            value.Buffer.Dispose();
            if (value.Upload is not null)
            {
                await value.Upload.AbortAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        _open.Clear();
        foreach (var value in _errors.Values)
        {
            value.Buffer.Dispose();
        }

        _errors.Clear();
    }

    private sealed class OpenObject(PartitionKey partitionKey, string key, PartBuffer buffer, IObjectWriter<T> writer, DateTimeOffset openedAt)
    {
        public PartitionKey PartitionKey { get; } = partitionKey;

        public string Key { get; } = key;

        public PartBuffer Buffer { get; } = buffer;

        public IObjectWriter<T> Writer { get; } = writer;

        public DateTimeOffset OpenedAt { get; } = openedAt;

        public long Records { get; set; }

        public IMultipartUpload? Upload { get; set; }

        public int PartsUploaded { get; set; }

        public long Size { get; set; }

        public bool Stored { get; set; }
    }

    private sealed class ErrorObject(long bucket, DateTimeOffset openedAt)
    {
        public long Bucket { get; } = bucket;

        public DateTimeOffset OpenedAt { get; } = openedAt;

        public PartBuffer Buffer { get; } = new();

        public long Records { get; set; }

        public string? FirstIdentity { get; set; }
    }
}

/// <summary>Counters of an <see cref="S3Sink{T}"/> since it was created.</summary>
/// <param name="ObjectsWritten">Table objects stored.</param>
/// <param name="RecordsWritten">Records in the stored table objects.</param>
/// <param name="BytesWritten">Bytes of the stored table objects.</param>
/// <param name="ErrorObjectsWritten">Objects stored under the error prefix.</param>
/// <param name="ErrorRecords">Records sent to the error prefix (stored or still buffered).</param>
/// <param name="MultipartUploads">Table objects uploaded in parts.</param>
/// <param name="Retries">Store requests sent again after a transient failure.</param>
/// <param name="OpenObjects">Objects currently open (buffering).</param>
public sealed record S3SinkStatistics(
    long ObjectsWritten,
    long RecordsWritten,
    long BytesWritten,
    long ErrorObjectsWritten,
    long ErrorRecords,
    long MultipartUploads,
    long Retries,
    int OpenObjects);

/// <summary>The package's telemetry: meter and activity source <c>Analytics.Streaming.S3</c>; instruments are tagged with <c>table</c>.</summary>
internal static class S3SinkTelemetry
{
    public static readonly Meter Meter = new("Analytics.Streaming.S3");
    public static readonly ActivitySource Source = new("Analytics.Streaming.S3");
    public static readonly Counter<long> Objects = Meter.CreateCounter<long>("analytics.s3.objects", "{object}", "Objects stored.");
    public static readonly Counter<long> Records = Meter.CreateCounter<long>("analytics.s3.records", "{record}", "Records in stored objects.");
    public static readonly Counter<long> Bytes = Meter.CreateCounter<long>("analytics.s3.bytes", "By", "Bytes of stored objects.");
    public static readonly Counter<long> ErrorRecords = Meter.CreateCounter<long>("analytics.s3.error_records", "{record}", "Records sent to the error prefix.");
    public static readonly Counter<long> MultipartUploads = Meter.CreateCounter<long>("analytics.s3.multipart_uploads", "{upload}", "Objects uploaded in parts.");
    public static readonly Histogram<double> UploadDuration = Meter.CreateHistogram<double>("analytics.s3.close_duration", "ms", "Time to close and store an object.");
}
