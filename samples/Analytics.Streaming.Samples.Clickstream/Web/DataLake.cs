using System.Threading.Channels;
using Amazon.S3;
using Analytics.Streaming.Parquet;
using Analytics.Streaming.S3;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// The Parquet data lake, in a local folder by default (or S3 when <c>Lake:Bucket</c> is set), in the analytics
/// zone: <c>events_per_minute</c> (every closed minute window of the per-minute pipeline, written through the
/// pipeline's checkpoints, so a restart leaves one row per minute) and <c>page_views</c> (every event read from the
/// stream, flushed every <see cref="LakeOptions.FlushInterval"/>). DuckDB reads the folder as Athena reads the bucket.
/// </summary>
public sealed class DataLake : IAsyncDisposable
{
    private readonly S3Sink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>> _minutes;
    private readonly S3Sink<ClickEvent> _events;
    private readonly AmazonS3Client? _s3;
    private readonly Channel<ClickEvent[]> _pending = Channel.CreateBounded<ClickEvent[]>(new BoundedChannelOptions(256) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TimeSpan _flushInterval;
    private readonly string _database;
    private readonly TimeProvider _time;

    /// <summary>Creates the lake's two tables.</summary>
    public DataLake(LakeOptions options, TimeProvider time, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _flushInterval = options.FlushInterval;
        _database = options.Database;
        _time = time;
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

        var eventMap = ParquetRecordMap.For<ClickEvent>()
            .Timestamp("event_time", e => e.Timestamp)
            .String("visitor_id", e => e.UserId, nullable: false)
            .String("page", e => e.Page, nullable: false)
            .String("referrer", e => e.Referrer, nullable: false)
            .String("user_agent", e => e.UserAgent, nullable: false)
            .Double("load_time_ms", e => e.LatencyMs)
            .String("menu_item", e => e.MenuItem)
            .Build();
        _events = new S3Sink<ClickEvent>(new()
        {
            Store = store,
            Format = new ParquetObjectFormat<ClickEvent>(eventMap),
            Prefix = options.Prefix,
            Zone = DataLakeZone.Analytics,
            TableName = "page_views",
            Layout = KeyLayout<ClickEvent>.Hive(TimePartitioning.Hour, e => e.Timestamp),
            TimeProvider = time,
        });
    }

    /// <summary>Gets the sink of closed minute windows (live updates are left out), for the per-minute pipeline.</summary>
    public ISink<WindowResult<GlobalKey, (long Count, long Visitors, QuantileSummary Latency)>> MinuteSink { get; }

    /// <summary>Gets where the tables are.</summary>
    public string Location => _minutes.TableLocation.Replace("events_per_minute/", string.Empty, StringComparison.Ordinal);

    /// <summary>The Athena DDL of both tables.</summary>
    public string AthenaDdl() => _minutes.DescribeTable(_database).ToAthenaDdl() + Environment.NewLine + _events.DescribeTable(_database).ToAthenaDdl();

    /// <summary>Queues events for the <c>page_views</c> table (waits when the writer is behind).</summary>
    public ValueTask AddAsync(ReadOnlySpan<StreamRecord<ClickEvent>> records, CancellationToken cancellationToken)
    {
        if (records.IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        var copy = new ClickEvent[records.Length];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = records[i].Value;
        }

        return _pending.Writer.TryWrite(copy) ? ValueTask.CompletedTask : _pending.Writer.WriteAsync(copy, cancellationToken);
    }

    /// <summary>Writes queued events and flushes them every flush interval, until cancelled (then flushes what is left).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        long lastFlush = _time.GetTimestamp();
        bool dirty = false;
        try
        {
            while (true)
            {
                using var waitTimer = new CancellationTokenSource(_flushInterval, _time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, waitTimer.Token);
                try
                {
                    while (await _pending.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    {
                        while (_pending.Reader.TryRead(out var events))
                        {
                            // Never cancelled midway: an S3Sink whose write or flush is cancelled drops its open
                            // objects (its pipeline contract is a replay from a checkpoint, and these raw events are
                            // not replayed). The stop token ends the waits between them instead.
                            await _events.WriteAsync(events, CancellationToken.None).ConfigureAwait(false);
                            dirty = true;
                        }

                        if (_time.GetElapsedTime(lastFlush) >= _flushInterval)
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }

                if (dirty)
                {
                    await _events.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                    dirty = false;
                }

                lastFlush = _time.GetTimestamp();
                if (_pending.Reader.Completion.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            while (_pending.Reader.TryRead(out var events))
            {
                await _events.WriteAsync(events, CancellationToken.None).ConfigureAwait(false);
                dirty = true;
            }

            if (dirty)
            {
                using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(20), _time);
                await _events.FlushAsync(shutdown.Token).ConfigureAwait(false);
            }
        }
    }

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
