using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.S3;

/// <summary>
/// A data-lake sink: buffers records into objects per partition (Hive style, Firehose style, dynamic partitions from
/// record fields), rolls them by size, record count and age like Firehose's buffering hints, and delivers them to
/// S3 (multipart for large objects) or a local folder. Records that cannot be stored go to an error prefix with
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
/// <b>Effectively once.</b> In a pipeline the sink is an <see cref="ICheckpointListener"/>. Every object it writes
/// (table and error objects) belongs to an epoch, the checkpoint that will cover it (the last completed checkpoint
/// plus one). Before the first byte of an object is uploaded, its key is added to the epoch's intent log, a small
/// JSON object at <c>{Prefix}{zone}/_sink-intents/{TableName}/{writer}/epoch-{n}-from-{restored}-fence-{token}-{run}.json</c>, outside the table folder.
/// <see cref="CheckpointCompletedAsync"/> deletes the logs of completed epochs: their objects are final; it also
/// undoes the epochs an earlier owner of the writer id logged after this run's restore (an owner that kept running
/// after its pipeline was taken over, whose checkpoints a fenced store refuses). Such an owner's own sink undoes its
/// epoch when it learns of the refusal (<see cref="CheckpointRefusedAsync"/>).
/// <see cref="RestoreAsync(string, long, long, CancellationToken)"/>, called when the pipeline starts, deletes every object listed in the logs of epochs
/// after the checkpoint the pipeline resumes from (objects a crashed run stored during an interrupted flush, or
/// rolled by size, count or age after its last checkpoint), then those logs. A run with a fencing token first stores
/// a claim next to its logs (<c>claim-fence-{token}-from-{restored}-{run}.json</c>): no run with a lower token
/// committed an epoch after that restore point, so a restore or a completion also undoes such a run's logs when
/// their epochs look committed (an old owner that uploaded after the new owner stopped, then crashed). The replay
/// writes the same results again into new objects, so the lake ends with exactly one copy of each. Until the restart,
/// readers can see such an uncommitted object. Object names are a UTC time and a random id, like Firehose's, so no run overwrites another's.
/// Used without a pipeline (no <see cref="RestoreAsync(string, long, long, CancellationToken)"/>), the sink keeps no logs and undoes nothing.
/// </para>
/// <para>
/// <b>Writers.</b> The logs are kept per writer, <see cref="S3SinkOptions{T}.WriterId"/> or by default the pipeline
/// name; a restore undoes only its own writer's epochs. Sinks that write one table at the same time (several workers,
/// or two sinks of one pipeline) need distinct writer ids, each stable across its restarts.
/// </para>
/// <para>
/// <b>Bad records.</b> A record whose partition cannot be computed, whose object key would be invalid (a <c>.</c> or
/// <c>..</c> folder in a plain layout, a key over 1,024 UTF-8 bytes, a segment too long for a file name on a local
/// folder) or whose value the format refuses goes to the error prefix with its reason; the stream goes on.
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
public sealed class S3Sink<T> : ISink<T>, ICheckpointListener
{
    private const string ConversionFailed = "format-conversion-failed";

    /// <summary>How many claims of a writer are kept: the newest by fencing token (see the package README).</summary>
    private const int ClaimsKept = 16;

    private readonly S3SinkOptions<T> _options;
    private readonly IObjectStore _store;
    private readonly IObjectFormat<T> _format;
    private readonly KeyLayout<T> _layout;
    private readonly TimeProvider _time;
    private readonly Retrier _retrier;
    private readonly ILogger _log;
    private readonly string _tablePrefix;
    private readonly string _errorPrefix;
    private readonly string _intentPrefix;
    private readonly Dictionary<PartitionKey, OpenObject> _open = [];
    private readonly Dictionary<long, ErrorObject> _errors = [];
    private readonly List<OpenObject> _due = [];
    private readonly KeyValuePair<string, object?> _tableTag;
    private readonly List<string> _epochKeys = [];
    private Exception? _fault;
    private string? _logPrefix; // set by RestoreAsync: intent logs are kept from then on
    private string? _writerId;
    private long _epoch;
    private long _restoredFrom; // the checkpoint RestoreAsync was given
    private long _fence; // the fencing token RestoreAsync was given (0 without fencing)
    private string _run = string.Empty; // this run's id in its log names, new at every RestoreAsync
    private bool _epochLogged;
    private long _rolledBack;
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
        _log = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Analytics.Streaming.S3.S3Sink");
        _retrier = new Retrier(options.Retry, _store, _time, _log, options.TableName);
        _tablePrefix = options.TableLocationPrefix;
        _errorPrefix = options.EffectiveErrorPrefix;
        _intentPrefix = options.IntentPrefix;
        _tableTag = new("table", options.TableName);
    }

    /// <summary>Gets the key prefix of the table's objects, such as <c>lake/analytics/page_views/</c>.</summary>
    public string TablePrefix => _tablePrefix;

    /// <summary>Gets the location of the table folder (<c>s3://bucket/prefix/</c> or a local path), the <c>LOCATION</c> of its Athena table.</summary>
    public string TableLocation => _store.GetLocation(_tablePrefix);

    /// <summary>Gets the key prefix under which records that cannot be stored (partitioned, named or converted) are written.</summary>
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

    /// <summary>Gets the key prefix of this sink's intent logs, such as <c>lake/analytics/_sink-intents/page_views/worker-1/</c>; <see langword="null"/> until <see cref="RestoreAsync(string, long, long, CancellationToken)"/>.</summary>
    public string? IntentLogPrefix => _logPrefix;

    /// <summary>Gets counters of what the sink has done so far.</summary>
    public S3SinkStatistics Statistics => new(_objects, _records, _bytes, _errorObjects, _errorRecords, Interlocked.Read(ref _multipart), _retrier.Retries, _open.Count, _rolledBack);

    /// <inheritdoc />
    /// <remarks>
    /// Buffers the records in their partitions' objects; uploads full parts of large objects and closes objects that
    /// reached a size, count or age limit. Records that cannot be partitioned, named or converted are kept for the
    /// error prefix.
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
            // One intent-log write covers every object of the flush, before the first of them is uploaded.
            await LogIntentsAsync(_open.Values, _errors.Values, cancellationToken).ConfigureAwait(false);
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

    /// <inheritdoc />
    /// <remarks>
    /// <para>
    /// Lists this writer's intent logs (writer = <see cref="S3SinkOptions{T}.WriterId"/>, or
    /// <paramref name="pipelineName"/> when that is not set). For every log of an epoch after
    /// <paramref name="checkpointId"/> it aborts the unfinished multipart uploads of the listed keys (best effort),
    /// deletes the listed objects (a missing one is fine) and then the log; logs of epochs up to
    /// <paramref name="checkpointId"/> are committed and only deleted, unless a claim of a run with a higher fencing
    /// token proves them uncommitted (see the type's remarks). From then on the sink keeps intent logs, the first epoch
    /// being <paramref name="checkpointId"/> + 1. Safe to repeat after a failure.
    /// </para>
    /// <para>Must be called before the first write, or after a flush: open objects would belong to no epoch.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">Objects are open, or the sink failed earlier.</exception>
    /// <exception cref="InvalidDataException">An object in the writer's log folder is not an intent log.</exception>
    public ValueTask RestoreAsync(string pipelineName, long checkpointId, CancellationToken cancellationToken)
        => RestoreAsync(pipelineName, checkpointId, 0, cancellationToken);

    /// <inheritdoc cref="RestoreAsync(string, long, CancellationToken)"/>
    /// <param name="pipelineName">The pipeline (the writer, unless <see cref="S3SinkOptions{T}.WriterId"/> is set).</param>
    /// <param name="checkpointId">The checkpoint the pipeline resumes from; 0 when it starts without one.</param>
    /// <param name="fence">
    /// The fencing token the pipeline's checkpoint was claimed with (0 without fencing). It is part of this run's log
    /// names, so that once a checkpoint of this run completes, the epochs an earlier owner with a lower token logged
    /// after the same restore point are undone (see <see cref="CheckpointCompletedAsync"/>). A run with a token first
    /// stores its claim (one PUT), and keeps the writer's 16 newest claims.
    /// </param>
    /// <param name="cancellationToken">Cancels the recovery.</param>
    public async ValueTask RestoreAsync(string pipelineName, long checkpointId, long fence, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(pipelineName);
        ArgumentOutOfRangeException.ThrowIfNegative(checkpointId);
        ArgumentOutOfRangeException.ThrowIfNegative(fence);
        ThrowIfUnusable();
        if (_open.Count > 0 || _errors.Count > 0)
        {
            throw new InvalidOperationException(
                $"The S3 sink for table '{_options.TableName}' has open objects: RestoreAsync must come before the first write, or after FlushAsync.");
        }

        string logPrefix = $"{_intentPrefix}{IntentLog.EscapeWriter(_options.WriterId ?? pipelineName)}/";
        using var activity = S3Telemetry.Source.StartActivity("S3Sink.Restore");
        activity?.SetTag("s3.intent_prefix", logPrefix);
        activity?.SetTag("checkpoint.id", checkpointId);
        var keys = await _retrier.ListKeysAsync(logPrefix, cancellationToken).ConfigureAwait(false);
        string run = IntentLog.NewRun();
        string writerId = _options.WriterId ?? pipelineName;
        var claims = await ClaimAsync(logPrefix, keys, writerId, checkpointId, fence, run, cancellationToken).ConfigureAwait(false);
        var undo = new List<string>();
        var done = new List<string>();
        foreach (string log in keys)
        {
            if (!IntentLog.TryParse(log.AsSpan(logPrefix.Length), out long epoch, out _, out long logFence, out _))
            {
                continue; // A claim, or not one of ours (or a sub-folder of a writer whose id begins like ours): left alone.
            }

            (epoch <= checkpointId && !claims.Exists(c => c.ProvesUncommitted(epoch, logFence)) ? done : undo).Add(log);
        }

        int rolledBack = await RollBackAsync(undo, [], cancellationToken).ConfigureAwait(false);
        foreach (string log in done)
        {
            await _retrier.DeleteAsync(log, cancellationToken).ConfigureAwait(false);
        }

        activity?.SetTag("s3.rolled_back", rolledBack);
        _logPrefix = logPrefix;
        _restoredFrom = checkpointId;
        _fence = fence;
        _run = run;
        _writerId = writerId;
        _epoch = checkpointId + 1;
        _epochKeys.Clear();
        _epochLogged = false;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Deletes the intent log of the epoch the checkpoint covers: its objects are final. The pipeline flushes the
    /// sink before it saves a checkpoint, so no object is open here; a notification for a checkpoint that is not
    /// newer than the last one is ignored. Then lists the writer's logs and undoes those of another run that restored
    /// from an older checkpoint than this one (or from the same one under a lower fencing token), for an epoch after
    /// this run's restore point: an earlier owner that kept running after the pipeline was taken over.
    /// </remarks>
    /// <exception cref="InvalidOperationException"><see cref="RestoreAsync(string, long, long, CancellationToken)"/> was not called, objects are still open, or the sink failed earlier.</exception>
    public async ValueTask CheckpointCompletedAsync(long checkpointId, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        if (_logPrefix is null)
        {
            throw new InvalidOperationException($"The S3 sink for table '{_options.TableName}' was told of checkpoint {checkpointId} before RestoreAsync: call RestoreAsync when the pipeline starts.");
        }

        if (checkpointId < _epoch)
        {
            return;
        }

        if (_open.Count > 0 || _errors.Count > 0)
        {
            throw new InvalidOperationException(
                $"The S3 sink for table '{_options.TableName}' still has open objects when checkpoint {checkpointId} completed: flush it before saving a checkpoint.");
        }

        try
        {
            if (_epochLogged)
            {
                await _retrier.DeleteAsync(LogKey, cancellationToken).ConfigureAwait(false);
            }

            _epoch = checkpointId + 1;
            _epochKeys.Clear();
            _epochLogged = false;
            await RollBackStaleRunsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await FailAsync(ex).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Undoes this run's epoch of <paramref name="checkpointId"/> (its objects, then its intent log): the store refused
    /// the checkpoint because another owner took the pipeline over, so nothing of the epoch will be committed, and the
    /// new owner writes those results again. The sink is unusable afterwards. A notification for another epoch than the
    /// current one does nothing.
    /// </remarks>
    public async ValueTask CheckpointRefusedAsync(long checkpointId, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        if (_logPrefix is null || checkpointId != _epoch)
        {
            return;
        }

        await FailAsync(new InvalidOperationException($"Checkpoint {checkpointId} was refused: another owner took the pipeline over, and this sink undid its epoch.")).ConfigureAwait(false);
        if (_epochLogged)
        {
            // The keys this sink logged, not only those its log still lists: the new owner's restore may have undone
            // the epoch and deleted the log while one of its uploads was still under way, which then landed.
            await RollBackAsync([LogKey], _epochKeys, cancellationToken).ConfigureAwait(false);
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

    private string LogKey => string.Create(CultureInfo.InvariantCulture, $"{_logPrefix}{IntentLog.FileName(_epoch, _restoredFrom, _fence, _run)}");

    /// <summary>
    /// Undoes the epochs an earlier owner of this writer id logged after this run's restore. A run that logged an epoch
    /// after this one's restore point, and restored from an older checkpoint, or from the same one under a lower
    /// fencing token, is an owner that kept running after it lost the pipeline: a checkpoint of this run is saved, so
    /// the store refuses that owner's (fenced), and those epochs are never committed. A later owner restores from this
    /// run's checkpoint or a newer one, or claims with a higher token, so its logs are never touched. Without fencing
    /// (token 0 on both sides) two runs from the same checkpoint cannot be ordered, and neither undoes the other.
    /// Also undone: the logs that a claim proves uncommitted (<see cref="Claim.ProvesUncommitted"/>), whatever their epoch.
    /// </summary>
    private async ValueTask RollBackStaleRunsAsync(CancellationToken cancellationToken)
    {
        var keys = await _retrier.ListKeysAsync(_logPrefix!, cancellationToken).ConfigureAwait(false);
        var claims = ReadClaims(_logPrefix!, keys).ConvertAll(c => c.Claim);
        var stale = new List<string>();
        foreach (string log in keys)
        {
            if (IntentLog.TryParse(log.AsSpan(_logPrefix!.Length), out long epoch, out long restoredFrom, out long fence, out string run)
                && run != _run
                && ((epoch > _restoredFrom && (restoredFrom < _restoredFrom || (restoredFrom == _restoredFrom && fence < _fence)))
                    || claims.Exists(c => c.ProvesUncommitted(epoch, fence))))
            {
                stale.Add(log);
            }
        }

        await RollBackAsync(stale, [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// With a fencing token, stores this run's claim (before anything else of the run) and deletes the oldest claims
    /// beyond <see cref="ClaimsKept"/>. Returns every claim listed, and this run's: a deleted claim still held when listed.
    /// </summary>
    private async ValueTask<List<Claim>> ClaimAsync(string logPrefix, IReadOnlyList<string> keys, string writerId, long checkpointId, long fence, string run, CancellationToken cancellationToken)
    {
        var listed = ReadClaims(logPrefix, keys);
        var claims = listed.ConvertAll(c => c.Claim);
        if (fence == 0)
        {
            return claims;
        }

        await PutJsonAsync(logPrefix + IntentLog.ClaimName(fence, checkpointId, run), IntentLog.FormatClaim(writerId, fence, checkpointId), cancellationToken).ConfigureAwait(false);
        claims.Add(new Claim(fence, checkpointId));
        foreach (var (key, _) in listed.OrderByDescending(c => c.Claim.Fence).Skip(ClaimsKept - 1))
        {
            await _retrier.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }

        return claims;
    }

    /// <summary>The claims among a listing of a writer's log folder, with their keys.</summary>
    private static List<(string Key, Claim Claim)> ReadClaims(string logPrefix, IReadOnlyList<string> keys)
    {
        var claims = new List<(string Key, Claim Claim)>();
        foreach (string key in keys)
        {
            if (IntentLog.TryParseClaim(key.AsSpan(logPrefix.Length), out var claim))
            {
                claims.Add((key, claim));
            }
        }

        return claims;
    }

    /// <summary>Aborts the unfinished uploads of the keys the logs list, and of <paramref name="logged"/> (best effort), deletes those objects, then the logs; returns how many objects.</summary>
    private async ValueTask<int> RollBackAsync(List<string> logs, List<string> logged, CancellationToken cancellationToken)
    {
        var undo = new List<string>();
        foreach (string log in logs)
        {
            if (await _retrier.GetAsync(log, cancellationToken).ConfigureAwait(false) is { } content)
            {
                undo.AddRange(IntentLog.ParseKeys(content, _store.GetLocation(log)));
            }
        }

        if (logged.Count > 0)
        {
            var listed = new HashSet<string>(undo, StringComparer.Ordinal);
            undo.AddRange(logged.Where(listed.Add));
        }

        if (undo.Count > 0)
        {
            await _store.AbortMultipartUploadsAsync(undo, cancellationToken).ConfigureAwait(false);
            foreach (string key in undo)
            {
                await _retrier.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                _rolledBack++;
                S3Telemetry.ObjectsRolledBack.Add(1, _tableTag);
                S3Log.ObjectRolledBack(_log, _options.TableName, key);
            }
        }

        foreach (string log in logs)
        {
            await _retrier.DeleteAsync(log, cancellationToken).ConfigureAwait(false);
        }

        return undo.Count;
    }

    /// <summary>Adds the keys of objects about to be uploaded to the epoch's intent log and stores the log, once for all of them; nothing without a restore.</summary>
    private async ValueTask LogIntentsAsync(IEnumerable<OpenObject> objects, IEnumerable<ErrorObject> errors, CancellationToken cancellationToken)
    {
        if (_logPrefix is null)
        {
            return;
        }

        bool added = false;
        foreach (var value in objects)
        {
            if (!value.Logged)
            {
                _epochKeys.Add(value.Key);
                value.Logged = added = true;
            }
        }

        foreach (var value in errors)
        {
            if (!value.Logged)
            {
                _epochKeys.Add(value.Key);
                value.Logged = added = true;
            }
        }

        if (!added)
        {
            return;
        }

        await PutJsonAsync(LogKey, IntentLog.Format(_writerId!, _epoch, _epochKeys), cancellationToken).ConfigureAwait(false);
        _epochLogged = true;
    }

    /// <summary>Stores a small JSON object (an intent log, a claim), with the sink's retries.</summary>
    private async ValueTask PutJsonAsync(string key, byte[] json, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(json);
        await _retrier.RunAsync(
            static (state, ct) => state.Store.PutObjectAsync(state.Key, state.Content, "application/json", ct),
            (Store: _store, Key: key, Content: content),
            content,
            cancellationToken).ConfigureAwait(false);
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

        string name = string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid():N}");
        string objectKey = $"{_tablePrefix}{_layout.FormatPath(key)}{_options.FileNamePrefix}{name}{_format.FileExtension}";
        if (!_store.IsValidKey(objectKey, out string? reason))
        {
            AddError(item, "InvalidObjectKey", $"The record's partition values give an object key that cannot be stored: {reason}", now);
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

        var buffer = new PartBuffer();
        var created = new OpenObject(key, objectKey, buffer, _format.CreateWriter(buffer), now);
        _open.Add(key, created);
        return created;
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

        List<ErrorObject>? dueErrors = null;
        foreach (var value in _errors.Values)
        {
            if (now - value.OpenedAt >= _options.MaxObjectAge)
            {
                (dueErrors ??= []).Add(value);
            }
        }

        if (_due.Count == 0 && dueErrors is null)
        {
            return;
        }

        await LogIntentsAsync(_due, dueErrors ?? [], cancellationToken).ConfigureAwait(false);
        foreach (var value in _due)
        {
            await CloseAsync(value, cancellationToken).ConfigureAwait(false);
        }

        _due.Clear();
        foreach (var value in dueErrors ?? [])
        {
            await CloseErrorsAsync(value, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask UploadFullPartsAsync(OpenObject target, CancellationToken cancellationToken)
    {
        if (target.Upload is null)
        {
            await LogIntentsAsync([target], [], cancellationToken).ConfigureAwait(false);
            target.Upload = await StartUploadAsync(target.Key, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _multipart);
            S3Telemetry.MultipartUploads.Add(1, _tableTag);
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
        await LogIntentsAsync([target], [], cancellationToken).ConfigureAwait(false);
        await StoreAsync(target, cancellationToken).ConfigureAwait(false);
        _open.Remove(target.PartitionKey);
        Closed(target);
    }

    /// <summary>Finishes an object and stores it; touches nothing but the object, so several run at once on flush. Its intent is logged already.</summary>
    private async ValueTask StoreAsync(OpenObject target, CancellationToken cancellationToken)
    {
        Debug.Assert(target.Logged || _logPrefix is null, "An object is uploaded before its key is in the intent log.");
        long started = Stopwatch.GetTimestamp();
        using var activity = S3Telemetry.Source.StartActivity("S3Sink.StoreObject");
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
            S3Telemetry.MultipartUploads.Add(1, _tableTag);
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
        S3Telemetry.StoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _tableTag);
    }

    private void Closed(OpenObject target)
    {
        target.Buffer.Dispose();
        _objects++;
        _records += target.Records;
        _bytes += target.Size;
        S3Telemetry.Objects.Add(1, _tableTag);
        S3Telemetry.Records.Add(target.Records, _tableTag);
        S3Telemetry.Bytes.Add(target.Size, _tableTag);
        S3Log.ObjectStored(_log, _options.TableName, target.Key, target.Records, target.Size);
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
            string name = string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid():N}");
            string key = string.Create(CultureInfo.InvariantCulture, $"{_errorPrefix}{ConversionFailed}/{new DateTime(bucket, DateTimeKind.Utc):yyyy'/'MM'/'dd'/'HH}/{_options.FileNamePrefix}{name}.json");
            errors = new ErrorObject(bucket, key, now);
            _errors.Add(bucket, errors);
        }

        ReadOnlyMemory<byte> payload;
        try
        {
            payload = ErrorPayloadOf(item);
        }
#pragma warning disable CA1031 // The record is already failing; a payload selector (or ToString) that throws must not stop the stream too.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            payload = ReadOnlyMemory<byte>.Empty;
            message += $" (rawData is empty: the record's payload could not be computed: {ex.GetType().Name}: {ex.Message})";
        }

        using (var json = new Utf8JsonWriter(errors.Buffer))
        {
            long ms = now.ToUnixTimeMilliseconds();
            json.WriteStartObject();
            json.WriteNumber("attemptsMade", 1);
            json.WriteNumber("arrivalTimestamp", ms);
            json.WriteString("errorCode", errorCode);
            json.WriteString("errorMessage", IntentLog.ValidUtf16(message));
            json.WriteNumber("attemptEndingTimestamp", ms);
            json.WriteBase64String("rawData", payload.Span);
            json.WriteString("tableName", _options.TableName);
            json.WriteEndObject();
        }

        errors.Buffer.WriteByte((byte)'\n');
        errors.Records++;
        _errorRecords++;
        S3Telemetry.ErrorRecords.Add(1, _tableTag);
        S3Log.RecordToErrorPrefix(_log, _options.TableName, errorCode, message);
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
        await LogIntentsAsync([], [errors], cancellationToken).ConfigureAwait(false);
        using var content = errors.Buffer.OpenFront(errors.Buffer.Length);
        await _retrier.RunAsync(
            static (state, ct) => state.Store.PutObjectAsync(state.Key, state.Content, "application/x-ndjson", ct),
            (Store: _store, errors.Key, Content: content),
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

        public bool Logged { get; set; }
    }

    private sealed class ErrorObject(long bucket, string key, DateTimeOffset openedAt)
    {
        public long Bucket { get; } = bucket;

        public string Key { get; } = key;

        public DateTimeOffset OpenedAt { get; } = openedAt;

        public PartBuffer Buffer { get; } = new();

        public long Records { get; set; }

        public bool Logged { get; set; }
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
/// <param name="ObjectsRolledBack">Keys of checkpoints that were never saved, deleted by <see cref="S3Sink{T}.RestoreAsync(string, long, long, CancellationToken)"/> (including keys logged before a crash stopped their upload).</param>
public sealed record S3SinkStatistics(
    long ObjectsWritten,
    long RecordsWritten,
    long BytesWritten,
    long ErrorObjectsWritten,
    long ErrorRecords,
    long MultipartUploads,
    long Retries,
    int OpenObjects,
    long ObjectsRolledBack);
