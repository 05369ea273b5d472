using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.S3;

/// <summary>Settings of an <see cref="S3Sink{T}"/>: where objects go, how keys look, when objects roll, how requests retry.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <remarks>
/// Validated when the sink is created; every message says which property to change. Object keys are
/// <c>{Prefix}{zone}/{TableName}/{partitions}{FileNamePrefix}{name}{extension}</c>, for example
/// <c>lake/analytics/page_views/year=2024/month=05/day=01/hour=10/part-20240501T100512Z-3f2a….parquet</c>. Intent logs
/// (see <see cref="S3Sink{T}"/>) live under <c>{Prefix}{zone}/_sink-intents/{TableName}/</c>.
/// </remarks>
public sealed class S3SinkOptions<T>
{
    /// <summary>Gets or sets where objects are written: an <see cref="S3ObjectStore"/> or a <see cref="LocalFolderObjectStore"/>. Required.</summary>
    public IObjectStore? Store { get; set; }

    /// <summary>Gets or sets the object format, such as <see cref="ParquetObjectFormat{T}"/> or <see cref="LineFormats.JsonLines{T}"/>. Required.</summary>
    public IObjectFormat<T>? Format { get; set; }

    /// <summary>Gets or sets the table name, the folder under the zone: lower-case letters, digits and underscores (Athena and Glue rules). Required.</summary>
    public string TableName { get; set; } = string.Empty;

    /// <summary>Gets or sets the key prefix before the zone, such as <c>lake/</c>; empty (the default) or ending with <c>/</c>.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>Gets or sets the data-lake zone folder; <see cref="DataLakeZone.None"/> by default.</summary>
    public DataLakeZone Zone { get; set; } = DataLakeZone.None;

    /// <summary>Gets or sets the partition layout; by default Hive-style hourly partitions by arrival time.</summary>
    public KeyLayout<T> Layout { get; set; } = KeyLayout<T>.Hive();

    /// <summary>
    /// Gets or sets the id under which this sink keeps its intent logs
    /// (<c>{Prefix}{zone}/_sink-intents/{TableName}/{WriterId}/</c>, escaped for keys); <see langword="null"/> (the
    /// default) uses the pipeline name given to <see cref="S3Sink{T}.RestoreAsync(string, long, long, CancellationToken)"/>. A restore undoes only its own
    /// writer's uncommitted objects, so sinks that write the same table at the same time (several workers, two sinks of
    /// one pipeline) need distinct ids, and each id must stay the same across the restarts of its writer.
    /// </summary>
    public string? WriterId { get; set; }

    /// <summary>Gets or sets the start of every object's file name; <c>part-</c> by default.</summary>
    public string FileNamePrefix { get; set; } = "part-";

    /// <summary>Gets or sets the size at which an object is closed and a new one begun, measured as the format writes it. Default 128 MiB (Firehose's default with format conversion).</summary>
    public long MaxObjectBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Gets or sets the record count at which an object is closed; <see langword="null"/> (the default) for no limit.</summary>
    public int? MaxRecordsPerObject { get; set; }

    /// <summary>
    /// Gets or sets how long an object stays open, measured on <see cref="TimeProvider"/> from its first record; it is
    /// closed by the first write or flush after that. Default 5 minutes (Firehose's buffering interval).
    /// </summary>
    public TimeSpan MaxObjectAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how many objects (partitions) may be open at once; opening one more closes the oldest. Default 100.</summary>
    public int MaxOpenObjects { get; set; } = 100;

    /// <summary>
    /// Gets or sets the part size of multipart uploads: an object that grows past it is uploaded in parts of this
    /// size (while it is written, as far as the format has flushed its bytes; the rest when it closes), smaller
    /// ones in one request. At least 5 MiB (the S3 minimum). Default 8 MiB.
    /// </summary>
    public int PartSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Gets or sets how many objects <see cref="S3Sink{T}.FlushAsync"/> finishes and uploads at once. Default 4; 1 to 64.</summary>
    public int MaxConcurrentUploads { get; set; } = 4;

    /// <summary>
    /// Gets or sets how store requests are retried: what the store calls transient (<see cref="IObjectStore.IsTransient"/>:
    /// throttling, 5xx, timeouts, dropped connections) is retried with exponential backoff and full jitter, bounded by
    /// attempts and time; any other failure surfaces at once. Default: <see cref="RetryOptions"/>' defaults (40 attempts,
    /// 200 ms base, 10 s largest wait, 2 minutes). The AWS SDK client retries on its own too (its <c>MaxErrorRetry</c>);
    /// these retries come on top.
    /// </summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets where the sink logs (event ids 3000-3999: retries, objects stored, records sent to the error prefix, rollbacks). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the key prefix of records that cannot be stored (partitioned, named or converted); by default <c>{Prefix}{zone}/errors/{TableName}/</c> (outside the table, so queries never read it).</summary>
    public string? ErrorPrefix { get; set; }

    /// <summary>
    /// Gets or sets the bytes kept as <c>rawData</c> of a record sent to the error prefix. By default the record's
    /// bytes for <see cref="RawRecord"/>, otherwise the UTF-8 of its <see cref="object.ToString"/>.
    /// </summary>
    public Func<T, ReadOnlyMemory<byte>>? ErrorPayload { get; set; }

    /// <summary>Gets or sets the clock for arrival times, object ages and retry delays; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal string TableLocationPrefix => $"{Prefix}{ZoneFolder(Zone)}{TableName}/";

    internal string EffectiveErrorPrefix => ErrorPrefix ?? $"{Prefix}{ZoneFolder(Zone)}errors/{TableName}/";

    /// <summary>Gets the folder of the table's intent logs; <c>_sink-intents</c> has a hyphen, so no table folder can have its name.</summary>
    internal string IntentPrefix => $"{Prefix}{ZoneFolder(Zone)}_sink-intents/{TableName}/";

    internal static string ZoneFolder(DataLakeZone zone) => zone switch
    {
        DataLakeZone.Raw => "raw/",
        DataLakeZone.Processed => "processed/",
        DataLakeZone.Analytics => "analytics/",
        _ => string.Empty,
    };

    internal void Validate()
    {
        const string Owner = "S3SinkOptions";
        if (Store is null)
        {
            throw OptionErrors.Invalid($"{Owner}.Store is required: use new S3ObjectStore(s3Client, bucket) or new LocalFolderObjectStore(folder).");
        }

        if (Format is null)
        {
            throw OptionErrors.Invalid($"{Owner}.Format is required: use new ParquetObjectFormat<T>(...) or LineFormats.JsonLines(...).");
        }

        if (string.IsNullOrEmpty(TableName) || TableName.Length > 255 || !IsSqlName(TableName))
        {
            throw OptionErrors.Invalid($"{Owner}.TableName '{TableName}' must be 1-255 lower-case letters, digits and underscores, starting with a letter or underscore (Athena and Glue rules).");
        }

        ValidatePrefix(Prefix, nameof(Prefix));
        if (ErrorPrefix is not null)
        {
            if (ErrorPrefix.Length == 0)
            {
                throw OptionErrors.Invalid($"{Owner}.ErrorPrefix is empty: leave it null for the default or give a folder ending with '/'.");
            }

            ValidatePrefix(ErrorPrefix, nameof(ErrorPrefix));
            if (ErrorPrefix.StartsWith(TableLocationPrefix, StringComparison.Ordinal))
            {
                throw OptionErrors.Invalid($"{Owner}.ErrorPrefix '{ErrorPrefix}' lies inside the table folder '{TableLocationPrefix}', where queries would read error files as table data: move it outside.");
            }
        }

        if (!Enum.IsDefined(Zone))
        {
            throw OptionErrors.Invalid($"{Owner}.Zone {(int)Zone} is not a DataLakeZone.");
        }

        ArgumentNullException.ThrowIfNull(Layout, $"{Owner}.Layout");
        if (string.IsNullOrEmpty(FileNamePrefix) || FileNamePrefix[0] is '.' or '_' || FileNamePrefix.Contains('/', StringComparison.Ordinal))
        {
            throw OptionErrors.Invalid($"{Owner}.FileNamePrefix '{FileNamePrefix}' must be non-empty, contain no '/', and not start with '.' or '_' (query engines skip such files).");
        }

        if (PartSize < S3ObjectStore.MinimumPartSize)
        {
            throw OptionErrors.Invalid($"{Owner}.PartSize is {PartSize} bytes: S3 needs at least {S3ObjectStore.MinimumPartSize} (5 MiB).");
        }

        if (MaxObjectBytes < 1024 || MaxObjectBytes > (long)PartSize * S3ObjectStore.MaximumPartCount)
        {
            throw OptionErrors.Invalid($"{Owner}.MaxObjectBytes is {MaxObjectBytes}: use at least 1024 and at most PartSize x 10,000 parts ({(long)PartSize * S3ObjectStore.MaximumPartCount}).");
        }

        if (MaxRecordsPerObject is < 1)
        {
            throw OptionErrors.Invalid($"{Owner}.MaxRecordsPerObject is {MaxRecordsPerObject}: use 1 or more, or null for no limit.");
        }

        if (MaxObjectAge <= TimeSpan.Zero)
        {
            throw OptionErrors.Invalid($"{Owner}.MaxObjectAge is {MaxObjectAge}: use a positive time such as 5 minutes.");
        }

        if (MaxOpenObjects < 1)
        {
            throw OptionErrors.Invalid($"{Owner}.MaxOpenObjects is {MaxOpenObjects}: use 1 or more.");
        }

        if (MaxConcurrentUploads is < 1 or > 64)
        {
            throw OptionErrors.Invalid($"{Owner}.MaxConcurrentUploads is {MaxConcurrentUploads}: use 1 to 64.");
        }

        if (WriterId is not null && string.IsNullOrWhiteSpace(WriterId))
        {
            throw OptionErrors.Invalid($"{Owner}.WriterId is blank: leave it null to use the pipeline name, or give a stable id such as the worker's name.");
        }

        ValidateKeyLengths(Owner);
        ArgumentNullException.ThrowIfNull(Retry, $"{Owner}.Retry");
        Retry.Validate($"{Owner}.Retry");
        ArgumentNullException.ThrowIfNull(TimeProvider, $"{Owner}.TimeProvider");
    }

    /// <summary>Checks that the longest keys the sink makes apart from partition folders fit the store (1,024 bytes on S3).</summary>
    private void ValidateKeyLengths(string owner)
    {
        const string Name = "20240501T100000Z-0123456789abcdef0123456789abcdef"; // the shape of every object name
        string[] samples =
        [
            $"{TableLocationPrefix}{FileNamePrefix}{Name}{Format!.FileExtension}",
            $"{EffectiveErrorPrefix}format-conversion-failed/2024/05/01/10/{FileNamePrefix}{Name}.json",
            $"{IntentPrefix}{new string('w', IntentLog.MaximumWriterLength)}/{IntentLog.FileName(0, 0, 0, IntentLog.NewRun())}",
        ];
        foreach (string sample in samples)
        {
            if (!Store!.IsValidKey(sample, out string? reason))
            {
                throw OptionErrors.Invalid($"{owner}.Prefix, TableName, ErrorPrefix or FileNamePrefix make keys the store cannot hold, even without partition folders: {reason}");
            }
        }
    }

    internal static bool IsSqlName(string name)
    {
        if (name.Length == 0 || name[0] is not ((>= 'a' and <= 'z') or '_'))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static void ValidatePrefix(string prefix, string name)
    {
        ArgumentNullException.ThrowIfNull(prefix, name);
        if (prefix.Length == 0)
        {
            return;
        }

        if (prefix[^1] != '/' || prefix[0] == '/' || prefix.Contains("//", StringComparison.Ordinal) || prefix.Contains('\\', StringComparison.Ordinal))
        {
            throw OptionErrors.Invalid($"S3SinkOptions.{name} '{prefix}' must end with '/', must not start with '/', and must not contain '//' or '\\' (for example 'lake/').");
        }
    }
}
