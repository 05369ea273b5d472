using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// Runs the analytics: five pipelines over one read of the stream (fan-out), each with its own windows, feeding the
/// dashboard and the lake; with the lake or Firehose, pipelines without windows deliver every event to them.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>per-second</c>: tumbling 1 s; events, load-time quantiles, unique visitors (HLL); each closed second is scored by a random cut forest.</item>
/// <item><c>per-minute</c>: tumbling 1 min, live updates; events, unique visitors, p50/p99 load time; closed minutes go to the lake, every update to DynamoDB when configured.</item>
/// <item><c>per-hour</c> and <c>per-day</c>: tumbling, live updates; events and unique visitors.</item>
/// <item><c>top-lists</c>: sliding 5 min every 30 s, live updates; top-K pages, menu items, referrers, user agents.</item>
/// <item><c>page-views</c> (with the lake): every event to the lake's raw table, checkpointing every <see cref="LakeOptions.FlushInterval"/>.</item>
/// <item><c>firehose</c> (with <c>Ingest:Firehose:DeliveryStreamName</c>): every event to the Firehose delivery stream.</item>
/// </list>
/// </remarks>
public sealed class AnalyticsService(
    ClickStreams streams,
    DashboardState state,
    DataLake? lake,
    DynamoDbOutput? dynamo,
    ServiceOptions options,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    ILogger<AnalyticsService> log) : BackgroundService
{
    private static readonly TimeSpan OutOfOrder = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        FileCheckpointStore? checkpoints = streams.CanResume ? new FileCheckpointStore(Path.GetFullPath(options.CheckpointFolder)) : null;
        try
        {
            StreamPipelineOptions Options(string name) => new()
            {
                Name = name,
                TimeProvider = time,
                CheckpointStore = checkpoints,
                LoggerFactory = loggerFactory,
                MaxEventTimeAhead = TimeSpan.FromMinutes(10),
            };

            var perSecond = StreamPipeline.Create<ClickEvent>(Options("per-second"))
                .WithEventTime(e => e.Timestamp, OutOfOrder)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
                .Aggregate(a => a.Count().And(a.Quantiles(e => e.LatencyMs)).And(a.DistinctCount(e => e.UserId, precision: 10)))
                .To(Sinks.Callback<WindowResult<GlobalKey, (long, QuantileSummary, long)>>(state.OnSecondsAsync))
                .Build();

            var perMinute = StreamPipeline.Create<ClickEvent>(Options("per-minute"))
                .WithEventTime(e => e.Timestamp, OutOfOrder)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId, precision: 12)).And(a.Quantiles(e => e.LatencyMs)))
                .To(Sinks.Callback<WindowResult<GlobalKey, (long, long, QuantileSummary)>>(state.OnMinutesAsync));
            if (lake is not null)
            {
                perMinute = perMinute.To(lake.MinuteSink);
            }

            if (dynamo is not null)
            {
                perMinute = perMinute.To(await dynamo.StartAsync(stoppingToken).ConfigureAwait(false));
            }

            var perHour = StreamPipeline.Create<ClickEvent>(Options("per-hour"))
                .WithEventTime(e => e.Timestamp, OutOfOrder)
                .Window(WindowSpec.Tumbling(TimeSpan.FromHours(1)))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId)))
                .To(Sinks.Callback<WindowResult<GlobalKey, (long, long)>>(state.OnHoursAsync))
                .Build();

            var perDay = StreamPipeline.Create<ClickEvent>(Options("per-day"))
                .WithEventTime(e => e.Timestamp, OutOfOrder)
                .Window(WindowSpec.Tumbling(TimeSpan.FromDays(1)))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId)))
                .To(Sinks.Callback<WindowResult<GlobalKey, (long, long)>>(state.OnDaysAsync))
                .Build();

            var top = StreamPipeline.Create<ClickEvent>(Options("top-lists"))
                .WithEventTime(e => e.Timestamp, OutOfOrder)
                .Window(WindowSpec.Sliding(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30)))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.TopK(e => e.Page, k: 10)
                    .And(a.TopK(e => e.MenuItem!, k: 10))
                    .And(a.TopK(e => e.Referrer, k: 10))
                    .And(a.TopK(e => e.UserAgent, k: 10)))
                .To(Sinks.Callback<WindowResult<GlobalKey, (TopKResult<string>, TopKResult<string>, TopKResult<string>, TopKResult<string>)>>(state.OnTopAsync))
                .Build();

            List<IStreamPipeline<ClickEvent>> pipelines = [perSecond, perMinute.Build(), perHour, perDay, top];
            if (lake is not null)
            {
                // Every event to the raw table, through checkpoints like the other tables: after a restart each once.
                var pageViews = Options("page-views");
                pageViews.CheckpointInterval = lake.FlushInterval;
                pipelines.Add(StreamPipeline.Create<ClickEvent>(pageViews)
                    .WithEventTime(e => e.Timestamp)
                    .PerEvent()
                    .To(lake.EventSink)
                    .Build());
            }

            if (streams.Firehose is not null)
            {
                // Every event to Firehose, batched and through checkpoints: never in the beacon's request.
                pipelines.Add(StreamPipeline.Create<ClickEvent>(Options("firehose"))
                    .WithEventTime(e => e.Timestamp)
                    .PerEvent()
                    .To(streams.Firehose)
                    .Build());
            }

            state.Mode = streams.Mode;
            state.Lake = lake?.Location;
            state.UsePipelines(() => pipelines.Select(Info).ToList());

            var source = new TappedSource(streams.Source, (batch, _) =>
            {
                state.OnEvents(batch.Records.Span);
                return ValueTask.CompletedTask;
            });

            await StreamPipeline.RunAsync(source, pipelines, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SampleLog.PipelinesStopped(log, ex);
            throw;
        }
        finally
        {
            checkpoints?.Dispose();
            if (dynamo is not null)
            {
                await dynamo.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static PipelineInfo Info(IStreamPipeline<ClickEvent> pipeline)
    {
        var s = pipeline.Statistics;
        var watermark = s.Watermark;
        return new PipelineInfo(pipeline.Name, watermark.Year < 1971 ? null : watermark, s.RecordsIn, s.LateRecords, s.DeadLetters, s.OpenWindows, s.ResultsOut);
    }
}

/// <summary>The service's log messages (samples use event ids 9000 and up).</summary>
internal static partial class SampleLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Critical, Message = "The analytics pipelines stopped; the dashboard no longer updates")]
    public static partial void PipelinesStopped(ILogger logger, Exception exception);
}
