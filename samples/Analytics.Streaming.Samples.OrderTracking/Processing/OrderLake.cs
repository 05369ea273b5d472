using System.Text.Json;
using Amazon.S3;
using Analytics.Streaming.Parquet;
using Analytics.Streaming.S3;
using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>
/// The backup of every order event in the lake's raw zone, table <c>order_events</c>: Parquet, partitioned Hive-style by
/// the event's day (<c>year=/month=/day=</c>), in a local folder by default or S3 when <c>Lake:Bucket</c> is set. Events
/// are buffered and written out every <see cref="LakeOptions.FlushInterval"/> and at shutdown.
/// </summary>
public sealed class OrderLake : IAsyncDisposable
{
    private readonly S3Sink<OrderEvent> _sink;
    private readonly AmazonS3Client? _s3;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeSpan _flushInterval;
    private readonly TimeProvider _time;
    private bool _dirty;

    /// <summary>Creates the table's sink.</summary>
    /// <param name="options">Folder or bucket.</param>
    /// <param name="time">The clock.</param>
    /// <param name="credentials">AWS credentials for S3; <see langword="null"/> uses AWSSDK.Core's default chain.</param>
    public OrderLake(LakeOptions options, TimeProvider time, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _flushInterval = options.FlushInterval;
        _time = time;
        (var store, _s3) = LakeStore.Open(options.Folder, options.Bucket, options.Region, options.ServiceUrl, credentials);

        var map = ParquetRecordMap.For<OrderEvent>()
            .String("order_id", e => e.OrderId, nullable: false)
            .Int64("version", e => e.Version)
            .String("status", e => e.Status.ToString(), nullable: false)
            .Timestamp("event_time", e => e.Time)
            .String("customer_id", e => e.CustomerId, nullable: false)
            .String("email", e => e.Email, nullable: false)
            .Decimal("amount", 18, 2, e => e.Amount)
            .Int32("item_count", e => e.Items.Count)
            .String("items_json", e => JsonSerializer.Serialize(e.Items, OrderJson.Default.IReadOnlyListOrderItem), nullable: false)
            .Build();
        _sink = new S3Sink<OrderEvent>(new()
        {
            Store = store,
            Format = new ParquetObjectFormat<OrderEvent>(map),
            Prefix = options.Prefix,
            Zone = DataLakeZone.Raw,
            TableName = "order_events",
            Layout = KeyLayout<OrderEvent>.Hive(TimePartitioning.Day, e => e.Time),
            TimeProvider = time,
        });
    }

    /// <summary>Gets where the table is.</summary>
    public string Location => _sink.TableLocation;

    /// <summary>The table's Athena DDL.</summary>
    /// <returns>The DDL.</returns>
    public string AthenaDdl() => _sink.DescribeTable("orders").ToAthenaDdl();

    /// <summary>Buffers events (written out at the next flush).</summary>
    /// <param name="events">The events.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when buffered.</returns>
    public async ValueTask AddAsync(OrderEvent[] events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Length == 0)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Not cancellable once the gate is held: see FlushAsync.
            await _sink.WriteAsync(events, CancellationToken.None).ConfigureAwait(false);
            _dirty = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Flushes every flush interval until cancelled, then once more.</summary>
    /// <param name="cancellationToken">Stops the loop.</param>
    /// <returns>A task that completes after the final flush.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_flushInterval, _time, cancellationToken).ConfigureAwait(false);
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(20), _time);
            await FlushAsync(shutdown.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Writes out what is buffered.</summary>
    /// <param name="cancellationToken">Cancels the flush.</param>
    /// <returns>A task that completes when stored.</returns>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_dirty)
            {
                // An S3Sink whose write or flush is cancelled midway drops its open objects and refuses further
                // writes (its pipeline contract: the pipeline replays from its last checkpoint). This backup's events
                // are not replayed when the service stops, so a flush that has started runs to its end; the store's
                // own timeouts and bounded retries still bound it. The caller's token only cancels waiting for the gate.
                await _sink.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                _dirty = false;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _sink.DisposeAsync().ConfigureAwait(false);
        _s3?.Dispose();
        _gate.Dispose();
    }
}
