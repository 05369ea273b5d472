using System.Diagnostics;
using System.Globalization;
using Analytics.Streaming.Parquet;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetReader = Parquet.ParquetReader;

namespace Analytics.Streaming.S3;

/// <summary>
/// The compaction job of a data-lake table (what a Glue ETL job does for Firehose output): per partition folder, it
/// merges small Parquet objects into large ones, so queries open fewer files. It reads the small objects with
/// Parquet.Net and writes the merged ones with <see cref="ParquetWriter{T}"/>, on any <see cref="IObjectStore"/>.
/// </summary>
/// <remarks>
/// <para>
/// <b>What is merged.</b> The table's data objects are the <c>.parquet</c> objects under
/// <c>{Prefix}{zone}/{TableName}/</c> whose path below the table has no segment starting with <c>.</c> or
/// <c>_</c> (names query engines skip). They are grouped by partition folder (the key up to its last <c>/</c>). An
/// object smaller than <see cref="ParquetCompactorOptions.SmallObjectBytes"/> is a candidate, unless an intent log of
/// an <see cref="S3Sink{T}"/> writing the same table lists it: such an object belongs to a checkpoint that is not
/// saved yet, and a restore of the sink may still delete it, so it waits for a later run. The candidates of a
/// partition, in key order, are packed into merges of at most <see cref="ParquetCompactorOptions.TargetObjectBytes"/>;
/// within a merge, objects with the same schema (names, types, nullability) are merged, in key order, row groups
/// in order, so the rows keep their order. A group of fewer than <see cref="ParquetCompactorOptions.MinObjectsToMerge"/>
/// objects is left alone, and so are objects that cannot be read or have a schema compaction does not handle
/// (nested columns, INT96, nanosecond timestamps: see the package README); they are counted and logged.
/// </para>
/// <para>
/// <b>Crash safety.</b> Every merge has a manifest outside the table,
/// <c>{Prefix}{zone}/_compaction-manifests/{TableName}/{id}.json</c>, listing its inputs and its output. It is
/// stored <i>pending</i> before the merged object is written, rewritten <i>committed</i> once the merged object is
/// stored (the commit point), and deleted after the inputs are. Every run starts by finishing what an interrupted
/// run left: a pending manifest's output is deleted (its inputs are intact), a committed manifest's remaining inputs
/// are deleted (its output holds their rows). So after any crash and a re-run, every row is in the table exactly
/// once. A failure surfaces from <see cref="RunAsync"/>; the next run recovers the same way.
/// </para>
/// <para>
/// <b>Readers.</b> S3 cannot swap several objects at once: between the store of a merged object and the delete of
/// its inputs (a few requests), and after a crash in that window until the next run, a reader that lists the folder
/// itself sees the rows twice. <see cref="ListCommittedObjectsAsync"/> reads the manifests and gives, at any moment,
/// crash or not, the objects that hold every row exactly once (what an engine should read); run the job when the
/// readers that list folders themselves (Athena, DuckDB) can accept that window, as with a Glue job.
/// </para>
/// <para>
/// <b>Re-running</b> changes nothing: a partition whose small objects were merged into one has a single candidate,
/// and one object is never rewritten. Run one compactor per table at a time (as a Glue job with concurrency 1); it may
/// run while a sink writes the table.
/// </para>
/// <para>Store requests are retried under <see cref="ParquetCompactorOptions.Retry"/>.</para>
/// </remarks>
public sealed class ParquetCompactor
{
    private const string ParquetExtension = ".parquet";
    private const string ContentType = "application/vnd.apache.parquet";
    private readonly ParquetCompactorOptions _options;
    private readonly IObjectStore _store;
    private readonly Retrier _retrier;
    private readonly ILogger _log;
    private readonly ParquetWriterOptions _writerOptions;
    private readonly KeyValuePair<string, object?> _tableTag;
    private readonly string _tablePrefix;
    private readonly string _manifestPrefix;
    private int[] _indices = [];

    /// <summary>Creates a compactor; the options are validated here.</summary>
    /// <param name="options">The settings; not copied, so do not change them afterwards.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and what to change.</exception>
    public ParquetCompactor(ParquetCompactorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _store = options.Store!;
        _log = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Analytics.Streaming.S3.ParquetCompactor");
        _retrier = new Retrier(options.Retry, _store, options.TimeProvider, _log, options.TableName);
        _writerOptions = options.WriterOptions ?? new ParquetWriterOptions();
        _tableTag = new("table", options.TableName);
        _tablePrefix = options.TableLocationPrefix;
        _manifestPrefix = options.ManifestPrefix;
    }

    /// <summary>Gets the key prefix of the table, such as <c>lake/processed/readings/</c>.</summary>
    public string TablePrefix => _tablePrefix;

    /// <summary>Gets the key prefix of the compaction manifests, such as <c>lake/processed/_compaction-manifests/readings/</c>.</summary>
    public string ManifestPrefix => _manifestPrefix;

    /// <summary>Finishes interrupted compactions, then merges the small objects of every partition.</summary>
    /// <param name="cancellationToken">Cancels the run; a cancelled merge is finished or undone by the next run.</param>
    /// <returns>What the run did.</returns>
    /// <exception cref="InvalidDataException">An object in the manifest folder or in a sink's intent-log folder is not what the compactor expects there.</exception>
    public async Task<CompactionResult> RunAsync(CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using var activity = S3Telemetry.Source.StartActivity("ParquetCompactor.Run");
        activity?.SetTag("s3.table_prefix", _tablePrefix);
        S3Log.CompactionStarted(_log, _options.TableName, _tablePrefix);
        var run = new RunCounters { Recovered = await RecoverAsync(cancellationToken).ConfigureAwait(false) };

        // Objects first, intent logs second: the sink logs a key before it stores the object, so every uncommitted
        // object listed here is in a log that still exists when the logs are read (or was committed meanwhile).
        var objects = await ListDataObjectsAsync(cancellationToken).ConfigureAwait(false);
        var uncommitted = await ReadSinkIntentsAsync(cancellationToken).ConfigureAwait(false);
        run.ObjectsBefore = objects.Count;

        var partitions = new SortedDictionary<string, List<StoredObject>>(StringComparer.Ordinal);
        foreach (var value in objects)
        {
            string partition = value.Key[..(value.Key.LastIndexOf('/') + 1)];
            if (!partitions.TryGetValue(partition, out var list))
            {
                partitions.Add(partition, list = []);
            }

            list.Add(value);
        }

        run.Partitions = partitions.Count;
        foreach (var (partition, list) in partitions)
        {
            int merges = run.Merges;
            await CompactPartitionAsync(partition, list, uncommitted, run, cancellationToken).ConfigureAwait(false);
            if (run.Merges > merges)
            {
                run.PartitionsCompacted++;
            }
        }

        var result = new CompactionResult(
            run.Partitions,
            run.PartitionsCompacted,
            run.ObjectsBefore,
            run.ObjectsBefore - run.Inputs + run.Merges,
            run.Inputs,
            run.Merges,
            run.Rows,
            run.BytesRead,
            run.BytesWritten,
            run.Skipped,
            run.Recovered);
        activity?.SetTag("s3.objects_before", result.ObjectsBefore);
        activity?.SetTag("s3.objects_after", result.ObjectsAfter);
        S3Telemetry.CompactionDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _tableTag);
        S3Log.CompactionFinished(_log, _options.TableName, result.ObjectsBefore, result.ObjectsAfter, result.ObjectsWritten, result.RowsRewritten);
        return result;
    }

    /// <summary>
    /// Lists the table's data objects as a reader should see them: the objects of an interrupted or running merge
    /// that are not (yet) or no longer authoritative are left out, so every row is in exactly one listed object, even
    /// while a compaction runs or after one crashed.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The keys, in ordinal order.</returns>
    /// <remarks>
    /// Reads the manifests, lists the table, and reads the manifests again; when they changed in between (a merge
    /// began, committed or ended), it tries again, at most 10 times. Pending merges hide their outputs, committed ones
    /// their inputs.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The manifests changed during 10 listings in a row.</exception>
    public async Task<IReadOnlyList<string>> ListCommittedObjectsAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var before = await ReadManifestsAsync(cancellationToken).ConfigureAwait(false);
            var objects = await ListDataObjectsAsync(cancellationToken).ConfigureAwait(false);
            var after = await ReadManifestsAsync(cancellationToken).ConfigureAwait(false);
            if (!SameManifests(before, after))
            {
                continue;
            }

            var hidden = new HashSet<string>(StringComparer.Ordinal);
            foreach (var manifest in after.Values)
            {
                hidden.UnionWith(manifest.Committed ? manifest.Inputs : manifest.Outputs);
            }

            var keys = new List<string>(objects.Count);
            foreach (var value in objects)
            {
                if (!hidden.Contains(value.Key))
                {
                    keys.Add(value.Key);
                }
            }

            return keys;
        }

        throw new InvalidOperationException($"The compaction manifests of table '{_options.TableName}' changed during 10 listings in a row; try again when the compactor is idle.");
    }

    private static bool SameManifests(Dictionary<string, CompactionManifest> a, Dictionary<string, CompactionManifest> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, manifest) in a)
        {
            if (!b.TryGetValue(key, out var other) || other.Committed != manifest.Committed)
            {
                return false;
            }
        }

        return true;
    }

    private async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var manifests = await ReadManifestsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (key, manifest) in manifests)
        {
            if (manifest.Committed)
            {
                await DeleteAllAsync(manifest.Inputs, cancellationToken).ConfigureAwait(false);
                S3Log.CompactionRolledForward(_log, _options.TableName, key, manifest.Inputs.Count);
            }
            else
            {
                await _store.AbortMultipartUploadsAsync(manifest.Outputs, cancellationToken).ConfigureAwait(false);
                await DeleteAllAsync(manifest.Outputs, cancellationToken).ConfigureAwait(false);
                S3Log.CompactionRolledBack(_log, _options.TableName, key, manifest.Inputs.Count);
            }

            await _retrier.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            S3Telemetry.CompactionRecovered.Add(1, _tableTag);
        }

        return manifests.Count;
    }

    private async Task<Dictionary<string, CompactionManifest>> ReadManifestsAsync(CancellationToken cancellationToken)
    {
        var manifests = new Dictionary<string, CompactionManifest>(StringComparer.Ordinal);
        foreach (string key in await _retrier.ListKeysAsync(_manifestPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!key.EndsWith(CompactionManifest.Extension, StringComparison.Ordinal))
            {
                continue;
            }

            byte[]? content = await _retrier.GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (content is not null)
            {
                manifests.Add(key, CompactionManifest.Parse(content, _store.GetLocation(key)));
            }
        }

        return manifests;
    }

    private async Task<HashSet<string>> ReadSinkIntentsAsync(CancellationToken cancellationToken)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        string prefix = _options.IntentPrefix;
        foreach (string log in await _retrier.ListKeysAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            int slash = log.LastIndexOf('/');
            if (!IntentLog.TryParseEpoch(log.AsSpan(slash + 1), out _))
            {
                continue;
            }

            byte[]? content = await _retrier.GetAsync(log, cancellationToken).ConfigureAwait(false);
            if (content is not null)
            {
                keys.UnionWith(IntentLog.ParseKeys(content, _store.GetLocation(log)));
            }
        }

        return keys;
    }

    private async Task<List<StoredObject>> ListDataObjectsAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredObject> all = [];
        await _retrier.RunAsync(
            async (state, ct) => all = await state.Store.ListObjectsAsync(state.Prefix, ct).ConfigureAwait(false),
            (Store: _store, Prefix: _tablePrefix),
            null,
            cancellationToken).ConfigureAwait(false);
        var data = new List<StoredObject>(all.Count);
        foreach (var value in all)
        {
            if (IsDataObject(value.Key))
            {
                data.Add(value);
            }
        }

        return data;
    }

    private bool IsDataObject(string key)
    {
        if (!key.StartsWith(_tablePrefix, StringComparison.Ordinal) || !key.EndsWith(ParquetExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(_tablePrefix.Length);
        foreach (var range in rest.Split('/'))
        {
            var segment = rest[range];
            if (segment.IsEmpty || segment[0] is '.' or '_')
            {
                return false;
            }
        }

        return true;
    }

    private async Task CompactPartitionAsync(string partition, List<StoredObject> objects, HashSet<string> uncommitted, RunCounters run, CancellationToken cancellationToken)
    {
        var candidates = new List<StoredObject>();
        int waiting = 0;
        foreach (var value in objects)
        {
            if (value.Size is { } size && size >= _options.SmallObjectBytes)
            {
                continue;
            }

            if (uncommitted.Contains(value.Key))
            {
                waiting++;
                continue;
            }

            candidates.Add(value);
        }

        if (waiting > 0)
        {
            Skip(partition, waiting, "a sink's intent log lists them (their checkpoint is not saved yet); a later run merges them", run);
        }

        if (candidates.Count < _options.MinObjectsToMerge)
        {
            return;
        }

        var bin = new List<StoredObject>();
        long binBytes = 0;
        foreach (var value in candidates)
        {
            long size = value.Size ?? 0;
            if (bin.Count > 0 && binBytes + size > _options.TargetObjectBytes)
            {
                await MergeBinAsync(partition, bin, run, cancellationToken).ConfigureAwait(false);
                bin = [];
                binBytes = 0;
            }

            bin.Add(value);
            binBytes += size;
        }

        await MergeBinAsync(partition, bin, run, cancellationToken).ConfigureAwait(false);
    }

    private async Task MergeBinAsync(string partition, List<StoredObject> bin, RunCounters run, CancellationToken cancellationToken)
    {
        if (bin.Count < _options.MinObjectsToMerge)
        {
            return;
        }

        var groups = new Dictionary<string, List<Input>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var value in bin)
        {
            byte[]? content = await _retrier.GetAsync(value.Key, cancellationToken).ConfigureAwait(false);
            if (content is null || (value.Size is null && content.Length >= _options.SmallObjectBytes))
            {
                continue; // Gone meanwhile, or (size unknown until now) not small.
            }

            MergeSchema? schema;
            string? reason;
            try
            {
                var reader = await NetReader.CreateAsync(new MemoryStream(content, writable: false), MergeSchema.ReadOptions, leaveStreamOpen: false, cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    schema = MergeSchema.TryCreate(reader.Schema, out reason);
                }
            }
#pragma warning disable CA1031 // An object Parquet.Net cannot read is left alone and reported; it must not stop the compaction of the others.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                schema = null;
                reason = $"{value.Key} cannot be read as Parquet: {ex.GetType().Name}: {ex.Message}";
            }

            if (schema is null)
            {
                Skip(partition, 1, reason!, run);
                continue;
            }

            if (!groups.TryGetValue(schema.Signature, out var group))
            {
                groups.Add(schema.Signature, group = []);
                order.Add(schema.Signature);
            }

            group.Add(new Input(value.Key, content, schema));
        }

        foreach (string signature in order)
        {
            var group = groups[signature];
            if (group.Count >= _options.MinObjectsToMerge)
            {
                await MergeAsync(partition, group, run, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task MergeAsync(string partition, List<Input> inputs, RunCounters run, CancellationToken cancellationToken)
    {
        var now = _options.TimeProvider.GetUtcNow();
        string id = string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid():N}");
        string output = $"{partition}{_options.FileNamePrefix}{id}{ParquetExtension}";
        string manifestKey = $"{_manifestPrefix}{id}{CompactionManifest.Extension}";
        if (!_store.IsValidKey(output, out string? invalid) || !_store.IsValidKey(manifestKey, out invalid))
        {
            Skip(partition, inputs.Count, $"the merged object's key cannot be stored: {invalid}", run);
            return;
        }

        using var activity = S3Telemetry.Source.StartActivity("ParquetCompactor.Merge");
        activity?.SetTag("s3.key", output);
        activity?.SetTag("s3.inputs", inputs.Count);
        var keys = new string[inputs.Count];
        long bytesRead = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            keys[i] = inputs[i].Key;
            bytesRead += inputs[i].Content.Length;
        }

        var manifest = new CompactionManifest(_options.TableName, Committed: false, keys, [output]);
        await PutAsync(manifestKey, manifest.Format(), "application/json", cancellationToken).ConfigureAwait(false);

        var schema = inputs[0].Schema;
        int[]? sortColumns = null;
        if (_options.SortBy.Count > 0)
        {
            sortColumns = schema.ColumnIndexes([.. _options.SortBy], out string? missing);
            if (sortColumns is null)
            {
                await _retrier.DeleteAsync(manifestKey, cancellationToken).ConfigureAwait(false);
                Skip(partition, inputs.Count, missing!, run);
                return;
            }
        }

        using var buffer = new PartBuffer();
        IMultipartUpload? upload = null;
        int parts = 0;
        long rows = 0;
        long size;
        try
        {
            string? failure = null;
            using (var writer = new ParquetWriter<int>(buffer, schema.Map, _writerOptions, leaveOpen: true))
            {
                foreach (var input in inputs)
                {
                    try
                    {
                        var reader = await NetReader.CreateAsync(new MemoryStream(input.Content, writable: false), MergeSchema.ReadOptions, leaveStreamOpen: false, cancellationToken).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            for (int g = 0; g < reader.RowGroupCount; g++)
                            {
                                // Sorted: every row is held until all are read; otherwise each row group is written as read.
                                int count = await schema.ReadAsync(reader, g, sortColumns is null ? 0 : checked((int)rows), cancellationToken).ConfigureAwait(false);
                                if (sortColumns is null)
                                {
                                    writer.Write(Indices(count));
                                }

                                rows += count;
                            }
                        }
                    }
#pragma warning disable CA1031 // A damaged input undoes this merge only; the objects stay as they are and the run goes on.
                    catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                    {
                        failure = $"{input.Key} could not be merged: {ex.GetType().Name}: {ex.Message}";
                        break;
                    }

                    while (buffer.Length >= _options.PartSize)
                    {
                        upload ??= await StartUploadAsync(output, cancellationToken).ConfigureAwait(false);
                        await UploadPartAsync(upload, ++parts, buffer, _options.PartSize, cancellationToken).ConfigureAwait(false);
                    }
                }

                if (failure is null)
                {
                    if (sortColumns is not null)
                    {
                        writer.Write(schema.SortedRows((int)rows, sortColumns));
                    }

                    writer.Complete();
                }
            }

            if (failure is not null)
            {
                if (upload is not null)
                {
                    await upload.AbortAsync(cancellationToken).ConfigureAwait(false);
                    upload = null;
                }

                await _retrier.DeleteAsync(manifestKey, cancellationToken).ConfigureAwait(false);
                Skip(partition, inputs.Count, failure, run);
                return;
            }

            size = buffer.TotalWritten;
            if (upload is null)
            {
                using var content = buffer.OpenFront(buffer.Length);
                await _retrier.RunAsync(
                    static (state, ct) => state.Store.PutObjectAsync(state.Key, state.Content, ContentType, ct),
                    (Store: _store, Key: output, Content: content),
                    content,
                    cancellationToken).ConfigureAwait(false);
            }
            else
            {
                if (buffer.Length > 0)
                {
                    await UploadPartAsync(upload, ++parts, buffer, buffer.Length, cancellationToken).ConfigureAwait(false);
                }

                await _retrier.RunAsync(static (u, ct) => u.CompleteAsync(ct), upload, null, cancellationToken).ConfigureAwait(false);
                upload = null;
            }
        }
        finally
        {
            if (upload is not null)
            {
                await upload.DisposeAsync().ConfigureAwait(false);
            }
        }

        // The commit point: from here on the merged object is authoritative and the inputs are to be deleted.
        await PutAsync(manifestKey, (manifest with { Committed = true }).Format(), "application/json", cancellationToken).ConfigureAwait(false);
        await DeleteAllAsync(keys, cancellationToken).ConfigureAwait(false);
        await _retrier.DeleteAsync(manifestKey, cancellationToken).ConfigureAwait(false);

        run.Merges++;
        run.Inputs += inputs.Count;
        run.Rows += rows;
        run.BytesRead += bytesRead;
        run.BytesWritten += size;
        S3Telemetry.CompactionInputs.Add(inputs.Count, _tableTag);
        S3Telemetry.CompactionOutputs.Add(1, _tableTag);
        S3Telemetry.CompactionRows.Add(rows, _tableTag);
        S3Telemetry.CompactionBytes.Add(size, _tableTag);
        activity?.SetTag("s3.rows", rows);
        activity?.SetTag("s3.bytes", size);
        S3Log.PartitionCompacted(_log, _options.TableName, inputs.Count, rows, output, size);
    }

    private ReadOnlySpan<int> Indices(int count)
    {
        if (_indices.Length < count)
        {
            _indices = new int[count];
            for (int i = 0; i < count; i++)
            {
                _indices[i] = i;
            }
        }

        return _indices.AsSpan(0, count);
    }

    private void Skip(string partition, int count, string reason, RunCounters run)
    {
        run.Skipped += count;
        S3Telemetry.CompactionSkipped.Add(count, _tableTag);
        S3Log.ObjectsSkipped(_log, _options.TableName, partition, count, reason);
    }

    private async Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken)
    {
        IMultipartUpload? upload = null;
        await _retrier.RunAsync(
            async (state, ct) => upload = await state.Store.StartMultipartUploadAsync(state.Key, ContentType, ct).ConfigureAwait(false),
            (Store: _store, Key: key),
            null,
            cancellationToken).ConfigureAwait(false);
        return upload!;
    }

    private async Task UploadPartAsync(IMultipartUpload upload, int partNumber, PartBuffer buffer, long size, CancellationToken cancellationToken)
    {
        if (partNumber > S3ObjectStore.MaximumPartCount)
        {
            throw new InvalidOperationException($"A merged object of table '{_options.TableName}' needs more than {S3ObjectStore.MaximumPartCount} parts: raise PartSize or lower TargetObjectBytes.");
        }

        using var content = buffer.OpenFront(size);
        await _retrier.RunAsync(
            static (state, ct) => state.Upload.UploadPartAsync(state.PartNumber, state.Content, ct),
            (Upload: upload, PartNumber: partNumber, Content: content),
            content,
            cancellationToken).ConfigureAwait(false);
        buffer.Discard(size);
    }

    private async Task PutAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(bytes, writable: false);
        await _retrier.RunAsync(
            static (state, ct) => state.Store.PutObjectAsync(state.Key, state.Content, state.ContentType, ct),
            (Store: _store, Key: key, Content: content, ContentType: contentType),
            content,
            cancellationToken).ConfigureAwait(false);
    }

    private async Task DeleteAllAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (string key in keys)
        {
            await _retrier.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record Input(string Key, byte[] Content, MergeSchema Schema);

    private sealed class RunCounters
    {
        public int Partitions { get; set; }

        public int PartitionsCompacted { get; set; }

        public long ObjectsBefore { get; set; }

        public int Merges { get; set; }

        public long Inputs { get; set; }

        public long Rows { get; set; }

        public long BytesRead { get; set; }

        public long BytesWritten { get; set; }

        public long Skipped { get; set; }

        public int Recovered { get; set; }
    }
}

/// <summary>What one <see cref="ParquetCompactor.RunAsync"/> did.</summary>
/// <param name="PartitionsScanned">Partition folders of the table that hold data objects.</param>
/// <param name="PartitionsCompacted">Partition folders where at least one merge was made.</param>
/// <param name="ObjectsBefore">Data objects of the table when the run listed them (after finishing interrupted compactions).</param>
/// <param name="ObjectsAfter">Data objects after the run: <paramref name="ObjectsBefore"/> less the merged inputs plus the merged objects (objects a sink stored meanwhile not counted).</param>
/// <param name="ObjectsMerged">Small objects merged, then deleted.</param>
/// <param name="ObjectsWritten">Merged objects written (one per merge).</param>
/// <param name="RowsRewritten">Rows copied into merged objects.</param>
/// <param name="BytesRead">Bytes of the merged small objects.</param>
/// <param name="BytesWritten">Bytes of the merged objects.</param>
/// <param name="ObjectsSkipped">Small objects left alone: listed in a sink's intent log, unreadable, or with a schema compaction does not merge (see the log, event 3105).</param>
/// <param name="InterruptedCompactionsRecovered">Manifests of interrupted runs finished (committed) or undone (pending) at the start.</param>
public sealed record CompactionResult(
    int PartitionsScanned,
    int PartitionsCompacted,
    long ObjectsBefore,
    long ObjectsAfter,
    long ObjectsMerged,
    long ObjectsWritten,
    long RowsRewritten,
    long BytesRead,
    long BytesWritten,
    long ObjectsSkipped,
    int InterruptedCompactionsRecovered);
