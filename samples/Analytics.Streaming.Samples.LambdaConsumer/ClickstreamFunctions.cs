using System.Globalization;
using System.Text.Json;
using Analytics.Streaming.Lambda;

namespace Analytics.Streaming.Samples.LambdaConsumer;

/// <summary>
/// The sample's two functions. Each method has the managed runtime's stream signature too (minus its
/// <c>ILambdaContext</c>), so the same class serves a custom runtime (<c>bootstrap</c>) or the <c>dotnet</c> runtime.
/// </summary>
public sealed class ClickstreamFunctions
{
    private readonly KinesisEventHandler<ClickEvent, string, (long Views, long Visitors)> _kinesis;
    private readonly FirehoseTransformationHandler<ClickEvent> _firehose;

    /// <summary>Creates the functions.</summary>
    /// <param name="checkpointFolder">Where each shard's checkpoint is kept (an EFS mount for durability; see the README).</param>
    /// <param name="results">Where results are written as JSON lines (standard output: CloudWatch Logs).</param>
    public ClickstreamFunctions(string checkpointFolder, TextWriter results)
    {
        var decoder = new JsonEventDecoder<ClickEvent>(SampleJsonContext.Default.ClickEvent);
        var store = new FileCheckpointStore(checkpointFolder);
        _kinesis = KinesisEventHandler.Create(
            () => StreamPipeline.Create<ClickEvent>(new() { Name = "page-views", CheckpointStore = store, WindowState = WindowStateMode.Always })
                .WithEventTime(e => e.Timestamp, maxOutOfOrderness: TimeSpan.FromSeconds(5))
                .KeyBy(e => e.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count().And(a.DistinctCount(e => e.UserId)))
                .To(new JsonLinesSink(results))
                .Build(),
            decoder);
        _firehose = FirehoseTransformationHandler.Create(decoder, Transform);
    }

    /// <summary>The Kinesis function: page views and distinct visitors per page and minute, per shard.</summary>
    /// <param name="input">The Kinesis event.</param>
    /// <param name="cancellationToken">Cancels the invocation.</param>
    /// <returns>The partial batch response.</returns>
    public Task<Stream> HandleKinesisAsync(Stream input, CancellationToken cancellationToken) => _kinesis.HandleAsync(input, cancellationToken);

    /// <summary>The Firehose transformation: drops bots, writes JSON lines, partitions by page and day.</summary>
    /// <param name="input">The Firehose event.</param>
    /// <param name="cancellationToken">Cancels the invocation.</param>
    /// <returns>The transformation response.</returns>
    public Task<Stream> HandleFirehoseAsync(Stream input, CancellationToken cancellationToken) => _firehose.HandleAsync(input, cancellationToken);

    private static FirehoseRecordResult Transform(ClickEvent click, FirehoseTransformationEventRecord record)
    {
        if (click.UserAgent.Contains("bot", StringComparison.OrdinalIgnoreCase))
        {
            return FirehoseRecordResult.Dropped("bot traffic");
        }

        var keys = new Dictionary<string, string>
        {
            ["page"] = click.Page.Trim('/').Replace('/', '_') is { Length: > 0 } page ? page : "home",
            ["day"] = click.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        return FirehoseRecordResult.Json(new PageViewLine(click.Timestamp, click.UserId, click.Page, click.LatencyMs), SampleJsonContext.Default.PageViewLine, keys);
    }

    /// <summary>Writes results as JSON lines; a reader keeps, per identity, the line with the most records.</summary>
    private sealed class JsonLinesSink(TextWriter writer) : ISink<WindowResult<string, (long Views, long Visitors)>>
    {
        public async ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, (long Views, long Visitors)>> items, CancellationToken cancellationToken)
        {
            for (int i = 0; i < items.Length; i++)
            {
                var r = items.Span[i];
                var line = new PageViewResult(r.Id, r.Key, r.Window.Start, r.Window.End, r.Partition, r.Value.Views, r.Value.Visitors, r.RecordCount);
                await writer.WriteLineAsync(JsonSerializer.Serialize(line, SampleJsonContext.Default.PageViewResult).AsMemory(), cancellationToken).ConfigureAwait(false);
            }
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken) => await writer.FlushAsync(cancellationToken).ConfigureAwait(false);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
