using Amazon.S3;
using Analytics.Streaming.Parquet;
using Analytics.Streaming.S3;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// The Parquet data lake, in a local folder by default (or S3 when <c>Lake:Bucket</c> is set), in the analytics
/// zone: <c>events_per_minute</c> (every closed minute window of the per-minute pipeline) and <c>page_views</c> (every
/// event, from a pipeline without windows that checkpoints every <see cref="LakeOptions.FlushInterval"/>). Both are
/// written through their pipeline's checkpoints, so with Kinesis a restart, even after a crash, leaves each row once.
/// The embedded stream lives in memory: at a stop it ends, so the minute then open is written with what it had, and a
/// run started within that minute writes a second row for the rest (events add up; visitors and load times are per
/// row). DuckDB reads the folder as Athena reads the bucket.
/// </summary>
public sealed class DataLake : IAsyncDisposable
{
    private readonly S3Sink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>> _minutes;
    private readonly S3Sink<WindowResult<StreamPosition, ClickEvent>> _events;
    private readonly AmazonS3Client? _s3;
    private readonly string _database;

    /// <summary>Creates the lake's two tables.</summary>
    public DataLake(LakeOptions options, TimeProvider time, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        FlushInterval = options.FlushInterval;
        _database = options.Database;
        (var store, _s3) = LakeStore.Open(options.Folder, options.Bucket, options.Region, options.ServiceUrl, credentials);

        var minuteMap = ParquetRecordMap.For<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>()
            .Timestamp("window_start", r => r.Window.Start)
            .Timestamp("window_end", r => r.Window.End)
            .Int64("events", r => r.Value.Count)
            .Int64("unique_visitors", r => r.Value.Visitors)
            .Double("load_p50_ms", r => r.Value.Latency.P50)
            .Double("load_p99_ms", r => r.Value.Latency.P99)
            .Build();
        _minutes = new S3Sink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>(new()
        {
            Store = store,
            Format = new ParquetObjectFormat<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>(minuteMap),
            Prefix = options.Prefix,
            Zone = DataLakeZone.Analytics,
            TableName = "events_per_minute",
            Layout = KeyLayout<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>>.Hive(TimePartitioning.Day, r => r.Window.Start),
            TimeProvider = time,
        });
        MinuteSink = new ClosedOnly<(long, long, QuantileSummary)>(_minutes);

        var eventMap = ParquetRecordMap.For<WindowResult<StreamPosition, ClickEvent>>()
            .Timestamp("event_time", r => r.Value.Timestamp)
            .String("visitor_id", r => r.Value.UserId, nullable: false)
            .String("page", r => r.Value.Page, nullable: false)
            .String("referrer", r => r.Value.Referrer, nullable: false)
            .String("user_agent", r => r.Value.UserAgent, nullable: false)
            .Double("load_time_ms", r => r.Value.LatencyMs)
            .String("menu_item", r => r.Value.MenuItem)
            .Build();
        _events = new S3Sink<WindowResult<StreamPosition, ClickEvent>>(new()
        {
            Store = store,
            Format = new ParquetObjectFormat<WindowResult<StreamPosition, ClickEvent>>(eventMap),
            Prefix = options.Prefix,
            Zone = DataLakeZone.Analytics,
            TableName = "page_views",
            Layout = KeyLayout<WindowResult<StreamPosition, ClickEvent>>.Hive(TimePartitioning.Hour, r => r.Value.Timestamp),
            TimeProvider = time,
        });
    }

    /// <summary>Gets the sink of closed minute windows (live updates are left out), for the per-minute pipeline.</summary>
    public ISink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>> MinuteSink { get; }

    /// <summary>Gets the sink of the <c>page_views</c> table, for a pipeline without windows (<c>PerEvent()</c>) over every event.</summary>
    public ISink<WindowResult<StreamPosition, ClickEvent>> EventSink => _events;

    /// <summary>Gets how often the <c>page_views</c> pipeline checkpoints, which closes and stores its objects.</summary>
    public TimeSpan FlushInterval { get; }

    /// <summary>Gets where the tables are.</summary>
    public string Location => _minutes.TableLocation.Replace("events_per_minute/", string.Empty, StringComparison.Ordinal);

    /// <summary>The Athena DDL of both tables.</summary>
    public string AthenaDdl() => _minutes.DescribeTable(_database).ToAthenaDdl() + Environment.NewLine + _events.DescribeTable(_database).ToAthenaDdl();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _minutes.DisposeAsync().ConfigureAwait(false);
        await _events.DisposeAsync().ConfigureAwait(false);
        _s3?.Dispose();
    }

    /// <summary>Passes closed windows on (not live updates), and the checkpoint calls the S3 sink needs for effectively-once.</summary>
    private sealed class ClosedOnly<TValue>(S3Sink<WindowResult<GlobalKey, TValue>> inner) : ISink<WindowResult<GlobalKey, TValue>>, ICheckpointListener
    {
        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<GlobalKey, TValue>> items, CancellationToken cancellationToken)
        {
            var closed = items.ToArray().Where(r => r.Reason != EmitReason.Update).ToArray();
            return closed.Length == 0 ? ValueTask.CompletedTask : inner.WriteAsync(closed, cancellationToken);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public ValueTask RestoreAsync(string pipeline, long checkpointId, CancellationToken cancellationToken) => inner.RestoreAsync(pipeline, checkpointId, cancellationToken);

        public ValueTask CheckpointCompletedAsync(long checkpointId, CancellationToken cancellationToken) => inner.CheckpointCompletedAsync(checkpointId, cancellationToken);
    }
}
