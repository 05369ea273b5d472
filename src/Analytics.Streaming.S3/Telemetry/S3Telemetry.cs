using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Analytics.Streaming.S3;

/// <summary>
/// The telemetry of the S3 package: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/>, both named <see cref="Name"/>. Cheap when nobody listens.
/// </summary>
/// <remarks>
/// <para>
/// Instruments are named <c>analytics.streaming.s3.sink.&lt;measure&gt;</c>, tagged <c>table</c>, with units per the
/// OpenTelemetry conventions: <c>objects</c>, <c>records</c>, <c>bytes</c> (By), <c>error_records</c>,
/// <c>objects_rolled_back</c>, <c>multipart_uploads</c>, <c>retries</c>, and the histogram <c>store.duration</c> (s),
/// the time to close and store one object. The compaction job (<see cref="ParquetCompactor"/>) counts under
/// <c>analytics.streaming.s3.compaction.&lt;measure&gt;</c>: <c>input_objects</c>, <c>output_objects</c>, <c>rows</c>,
/// <c>bytes</c> (By), <c>recovered</c>, <c>skipped_objects</c>, and the histogram <c>duration</c> (s) of a run.
/// </para>
/// <para>The activity source starts <c>S3Sink.Restore</c>, <c>S3Sink.StoreObject</c>, <c>ParquetCompactor.Run</c> and <c>ParquetCompactor.Merge</c> activities.</para>
/// </remarks>
public static class S3Telemetry
{
    /// <summary>The name of the package's meter and activity source: <c>Analytics.Streaming.S3</c>.</summary>
    public const string Name = "Analytics.Streaming.S3";

    private const string Prefix = "analytics.streaming.s3.sink.";
    private const string CompactionPrefix = "analytics.streaming.s3.compaction.";

    private static readonly string? Version = typeof(S3Telemetry).Assembly.GetName().Version?.ToString();

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly ActivitySource Source = new(Name, Version);

    internal static readonly Counter<long> Objects = Meter.CreateCounter<long>(Prefix + "objects", "{object}", "Objects stored.");
    internal static readonly Counter<long> Records = Meter.CreateCounter<long>(Prefix + "records", "{record}", "Records in stored objects.");
    internal static readonly Counter<long> Bytes = Meter.CreateCounter<long>(Prefix + "bytes", "By", "Bytes of stored objects.");
    internal static readonly Counter<long> ErrorRecords = Meter.CreateCounter<long>(Prefix + "error_records", "{record}", "Records sent to the error prefix.");
    internal static readonly Counter<long> ObjectsRolledBack = Meter.CreateCounter<long>(Prefix + "objects_rolled_back", "{object}", "Keys of unsaved checkpoints deleted when a pipeline restarts.");
    internal static readonly Counter<long> MultipartUploads = Meter.CreateCounter<long>(Prefix + "multipart_uploads", "{upload}", "Objects uploaded in parts.");
    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>(Prefix + "retries", "{retry}", "Store requests retried after a transient failure.");
    internal static readonly Counter<long> CompactionInputs = Meter.CreateCounter<long>(CompactionPrefix + "input_objects", "{object}", "Small objects merged (and deleted) by compaction.");
    internal static readonly Counter<long> CompactionOutputs = Meter.CreateCounter<long>(CompactionPrefix + "output_objects", "{object}", "Merged objects written by compaction.");
    internal static readonly Counter<long> CompactionRows = Meter.CreateCounter<long>(CompactionPrefix + "rows", "{row}", "Rows rewritten by compaction.");
    internal static readonly Counter<long> CompactionBytes = Meter.CreateCounter<long>(CompactionPrefix + "bytes", "By", "Bytes of the merged objects written by compaction.");
    internal static readonly Counter<long> CompactionRecovered = Meter.CreateCounter<long>(CompactionPrefix + "recovered", "{manifest}", "Interrupted compactions finished or undone.");
    internal static readonly Counter<long> CompactionSkipped = Meter.CreateCounter<long>(CompactionPrefix + "skipped_objects", "{object}", "Small objects left alone (unreadable, unsupported schema, or uncommitted in a sink's intent log).");
    internal static readonly Histogram<double> CompactionDuration = Meter.CreateHistogram<double>(CompactionPrefix + "duration", "s", "Time of one compaction run over a table.");
    internal static readonly Histogram<double> StoreDuration = Meter.CreateHistogram<double>(Prefix + "store.duration", "s", "Time to close and store an object.");
}
