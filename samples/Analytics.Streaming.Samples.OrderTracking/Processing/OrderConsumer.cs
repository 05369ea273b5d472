using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>
/// The consumer: reads the order stream once, processes every batch (status table, confirmation e-mails, lake
/// backup; see <see cref="OrderProcessor"/>), and feeds three windowed pipelines (fan-out) for the live page:
/// <c>orders-per-minute</c> (tumbling 1 minute over <c>Placed</c> events: orders and revenue),
/// <c>status-per-minute</c> (tumbling 1 minute keyed by status: events per status) and <c>items-per-minute</c> (each
/// placed order into its lines with <c>SelectMany</c>, the quantity per item per minute). All emit live updates and
/// checkpoint to <see cref="OrderTrackingOptions.CheckpointFolder"/> with Kinesis.
/// </summary>
public sealed partial class OrderConsumer(
    OrderStreams streams,
    OrderProcessor processor,
    IOrderStatusStore store,
    OrderLakeHolder lake,
    LiveState live,
    OrderTrackingOptions options,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    ILogger<OrderConsumer> log) : BackgroundService
{
    private static readonly TimeSpan OutOfOrder = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (the API answers meanwhile; events wait in the stream).
        await Task.Yield();
        FileCheckpointStore? checkpoints = streams.CanResume ? new FileCheckpointStore(Path.GetFullPath(options.CheckpointFolder)) : null;
        try
        {
            await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
            StreamPipelineOptions Options(string name) => new()
            {
                Name = name,
                TimeProvider = time,
                CheckpointStore = checkpoints,
                LoggerFactory = loggerFactory,
                MaxEventTimeAhead = TimeSpan.FromMinutes(10),
            };

            var perMinute = StreamPipeline.Create<OrderEvent>(Options("orders-per-minute"))
                .WithEventTime(e => e.Time, OutOfOrder)
                .Where(e => e.Status == OrderStatus.Placed)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.Count().And(a.Sum(e => (double)e.Amount)))
                .To(Sinks.Callback<WindowResult<GlobalKey, (long, double)>>(live.OnOrdersPerMinuteAsync));

            var statusPerMinute = StreamPipeline.Create<OrderEvent>(Options("status-per-minute"))
                .WithEventTime(e => e.Time, OutOfOrder)
                .KeyBy(e => e.Status.ToString())
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.Count())
                .To(Sinks.Callback<WindowResult<string, long>>(live.OnStatusPerMinuteAsync));

            var itemsPerMinute = StreamPipeline.Create<OrderEvent>(Options("items-per-minute"))
                .WithEventTime(e => e.Time, OutOfOrder)
                .Where(e => e.Status == OrderStatus.Placed)
                .SelectMany(e => e.Items)
                .KeyBy(i => i.Sku)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.Sum(i => (long)i.Quantity))
                .To(Sinks.Callback<WindowResult<string, long>>(live.OnItemsPerMinuteAsync));

            if (lake.Lake is { } backup)
            {
                // The pipelines flush their sinks before every checkpoint: this one stores the lake's buffered events
                // then, so no checkpoint covers an event the lake does not hold yet.
                perMinute = perMinute.To(new LakeFlushSink<WindowResult<GlobalKey, (long, double)>>(backup));
                statusPerMinute = statusPerMinute.To(new LakeFlushSink<WindowResult<string, long>>(backup));
                itemsPerMinute = itemsPerMinute.To(new LakeFlushSink<WindowResult<string, long>>(backup));
            }

            IStreamPipeline<OrderEvent>[] pipelines = [perMinute.Build(), statusPerMinute.Build(), itemsPerMinute.Build()];
            live.Watermark = () =>
            {
                var w = pipelines.Min(p => p.Statistics.Watermark);
                return w.Year < 1971 ? null : w;
            };

            using var stopLake = new CancellationTokenSource();
            var lakeWriter = lake.Lake is null ? Task.CompletedTask : Task.Run(() => lake.Lake.RunAsync(stopLake.Token), CancellationToken.None);
            try
            {
                await StreamPipeline.RunAsync(processor.Wrap(streams.Source, lake.Lake), pipelines, stoppingToken).ConfigureAwait(false);
            }
            finally
            {
                await stopLake.CancelAsync().ConfigureAwait(false);
                await lakeWriter.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ConsumerStopped(log, ex);
            throw;
        }
        finally
        {
            checkpoints?.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 9100, Level = LogLevel.Critical, Message = "The order consumer stopped; statuses, e-mails and analytics no longer update")]
        public static partial void ConsumerStopped(ILogger logger, Exception exception);
    }
}

/// <summary>The lake backup, or <see langword="null"/> when <c>Lake:Enabled</c> is false.</summary>
/// <param name="Lake">The lake.</param>
public sealed record OrderLakeHolder(OrderLake? Lake);

/// <summary>A sink that ignores the results and, on every flush (before each checkpoint), stores the lake's buffered events.</summary>
/// <typeparam name="T">The pipeline's result type.</typeparam>
/// <param name="lake">The lake.</param>
internal sealed class LakeFlushSink<T>(OrderLake lake) : ISink<T>
{
    public ValueTask WriteAsync(ReadOnlyMemory<T> items, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask FlushAsync(CancellationToken cancellationToken) => new(lake.FlushAsync(cancellationToken));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
