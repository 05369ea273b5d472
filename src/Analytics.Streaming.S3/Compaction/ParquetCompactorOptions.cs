using Analytics.Streaming.Parquet;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.S3;

/// <summary>
/// Settings of a <see cref="ParquetCompactor"/>. The table is addressed like the sink's:
/// <c>{Prefix}{zone}/{TableName}/</c>; the compactor's manifests live under
/// <c>{Prefix}{zone}/_compaction-manifests/{TableName}/</c>, outside the table folder.
/// </summary>
public sealed class ParquetCompactorOptions
{
    /// <summary>Gets or sets where the table's objects are (<see cref="S3ObjectStore"/> or <see cref="LocalFolderObjectStore"/>). Required.</summary>
    public IObjectStore? Store { get; set; }

    /// <summary>Gets or sets the key prefix of the lake, such as <c>lake/</c>; empty by default. Must end with <c>/</c> when set.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>Gets or sets the zone folder of the table; <see cref="DataLakeZone.None"/> by default.</summary>
    public DataLakeZone Zone { get; set; } = DataLakeZone.None;

    /// <summary>Gets or sets the table name (lower-case letters, digits and underscores), as given to the sink. Required.</summary>
    public string TableName { get; set; } = string.Empty;

    /// <summary>Gets or sets the size below which an object counts as small and may be merged; 32 MiB by default.</summary>
    public long SmallObjectBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the largest total size of the small objects merged into one object; 128 MiB by default. A
    /// partition with more small bytes than this gets several merged objects. Must be at least <see cref="SmallObjectBytes"/>.
    /// </summary>
    public long TargetObjectBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Gets or sets the fewest small objects of one partition (and one schema) worth merging; 2 by default.</summary>
    public int MinObjectsToMerge { get; set; } = 2;

    /// <summary>Gets or sets the start of the merged objects' names, <c>compacted-</c> by default (followed by a UTC time, a random id and <c>.parquet</c>).</summary>
    public string FileNamePrefix { get; set; } = "compacted-";

    /// <summary>
    /// Gets or sets the options of the writer of merged objects; <see langword="null"/> (the default) for
    /// <see cref="ParquetWriterOptions"/>' defaults: SNAPPY, 64 MiB row groups. Memory is about one row group plus one
    /// part (<see cref="PartSize"/>) plus the small objects of one merge.
    /// </summary>
    public ParquetWriterOptions? WriterOptions { get; set; }

    /// <summary>
    /// Gets the columns each merged object is sorted by, ascending, nulls first (strings and bytes ordinal); empty
    /// (the default) keeps the rows in the order read. Sorting by the columns queries filter on (a machine or customer
    /// id, then the time) makes the values of neighbouring rows alike, so the merged object compresses better and its
    /// row-group statistics let engines skip more; the price is memory: the rows of one merge (up to
    /// <see cref="TargetObjectBytes"/> of small objects) are held decoded until all are read. Objects whose schema lacks
    /// a listed column are left alone (event 3105 says which column).
    /// </summary>
    public IList<string> SortBy { get; } = [];

    /// <summary>Gets or sets the part size of merged objects larger than it, uploaded as multipart uploads; 8 MiB by default, at least 5 MiB.</summary>
    public int PartSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Gets or sets the retry policy of every store request (the policy every package of the library shares): throttling,
    /// 5xx, timeouts and dropped connections are retried with exponential backoff and full jitter.
    /// </summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets where log messages go (event ids 3100-3199); <see langword="null"/> (the default) for none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the clock for object names and retry delays; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal string TableLocationPrefix => $"{Prefix}{S3SinkOptions<object>.ZoneFolder(Zone)}{TableName}/";

    internal string IntentPrefix => $"{Prefix}{S3SinkOptions<object>.ZoneFolder(Zone)}_sink-intents/{TableName}/";

    /// <summary>Gets the folder of the manifests; <c>_compaction-manifests</c> has a hyphen, so no table folder can have its name.</summary>
    internal string ManifestPrefix => $"{Prefix}{S3SinkOptions<object>.ZoneFolder(Zone)}_compaction-manifests/{TableName}/";

    /// <summary>Checks the options; the compactor calls it when it is created.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and what to change.</exception>
    public void Validate()
    {
        const string Owner = "ParquetCompactorOptions";
        if (Store is null)
        {
            throw OptionErrors.Invalid($"{Owner}.Store is required: use new S3ObjectStore(s3Client, bucket) or new LocalFolderObjectStore(folder).");
        }

        if (string.IsNullOrEmpty(TableName) || TableName.Length > 255 || !S3SinkOptions<object>.IsSqlName(TableName))
        {
            throw OptionErrors.Invalid($"{Owner}.TableName '{TableName}' must be 1-255 lower-case letters, digits and underscores, starting with a letter or underscore (Athena and Glue rules).");
        }

        ArgumentNullException.ThrowIfNull(Prefix, $"{Owner}.Prefix");
        if (Prefix.Length > 0 && (Prefix[^1] != '/' || Prefix[0] == '/' || Prefix.Contains("//", StringComparison.Ordinal) || Prefix.Contains('\\', StringComparison.Ordinal)))
        {
            throw OptionErrors.Invalid($"{Owner}.Prefix '{Prefix}' must end with '/', must not start with '/', and must not contain '//' or '\\' (for example 'lake/').");
        }

        if (!Enum.IsDefined(Zone))
        {
            throw OptionErrors.Invalid($"{Owner}.Zone {(int)Zone} is not a DataLakeZone.");
        }

        if (SmallObjectBytes < 1)
        {
            throw OptionErrors.Invalid($"{Owner}.SmallObjectBytes is {SmallObjectBytes}: use a positive size such as 32 MiB.");
        }

        if (TargetObjectBytes < SmallObjectBytes)
        {
            throw OptionErrors.Invalid($"{Owner}.TargetObjectBytes ({TargetObjectBytes}) is below SmallObjectBytes ({SmallObjectBytes}): a merged object must be able to hold at least one small object more.");
        }

        if (SortBy.Any(string.IsNullOrEmpty) || SortBy.Distinct(StringComparer.Ordinal).Count() != SortBy.Count)
        {
            throw OptionErrors.Invalid($"{Owner}.SortBy must list distinct, non-empty column names; got [{string.Join(", ", SortBy)}].");
        }

        if (MinObjectsToMerge < 2)
        {
            throw OptionErrors.Invalid($"{Owner}.MinObjectsToMerge is {MinObjectsToMerge}: use 2 or more (merging one object into one only rewrites it).");
        }

        if (string.IsNullOrEmpty(FileNamePrefix) || FileNamePrefix[0] is '.' or '_' || FileNamePrefix.Contains('/', StringComparison.Ordinal))
        {
            throw OptionErrors.Invalid($"{Owner}.FileNamePrefix '{FileNamePrefix}' must be non-empty, contain no '/', and not start with '.' or '_' (query engines skip such files).");
        }

        if (PartSize < S3ObjectStore.MinimumPartSize)
        {
            throw OptionErrors.Invalid($"{Owner}.PartSize is {PartSize} bytes: S3 needs at least {S3ObjectStore.MinimumPartSize} (5 MiB).");
        }

        WriterOptions?.Validate();
        ArgumentNullException.ThrowIfNull(Retry, $"{Owner}.Retry");
        Retry.Validate($"{Owner}.Retry");
        ArgumentNullException.ThrowIfNull(TimeProvider, $"{Owner}.TimeProvider");
    }
}
