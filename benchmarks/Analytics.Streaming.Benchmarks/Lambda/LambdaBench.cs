using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Analytics.Streaming.Lambda;

namespace Analytics.Streaming.Benchmarks.Lambda;

/// <summary>A page view as the benchmarks' Kinesis records carry it (JSON).</summary>
public sealed class PageView
{
    public string Page { get; set; } = string.Empty;

    public string User { get; set; } = string.Empty;

    public long Time { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PageView))]
public sealed partial class LambdaBenchJsonContext : JsonSerializerContext;

/// <summary>Events, pipelines and stores shared by the Lambda benchmarks.</summary>
public static class LambdaBench
{
    public const string Shard = "shardId-000000000001";

    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Page views <c>[first, first + count)</c>: 200 pages, 5,000 users, 20 per second.</summary>
    public static PageView[] Views(int first, int count)
    {
        var random = new Random(first);
        var views = new PageView[count];
        for (int i = 0; i < count; i++)
        {
            views[i] = new PageView { Page = "/p" + random.Next(200), User = "u" + random.Next(5000), Time = T0.AddMilliseconds((first + i) * 50L).ToUnixTimeMilliseconds() };
        }

        return views;
    }

    public static string Sequence(int i) => "4959033827149025660855969253836157109592157598" + i.ToString("D10", CultureInfo.InvariantCulture);

    /// <summary>The documented Kinesis event JSON of page views with sequence numbers from <paramref name="first"/>.</summary>
    public static byte[] EventJson(PageView[] views, int first)
    {
        var e = new KinesisStreamEvent { Records = new List<KinesisStreamRecord>(views.Length) };
        for (int i = 0; i < views.Length; i++)
        {
            e.Records.Add(new KinesisStreamRecord
            {
                Kinesis = new KinesisStreamRecordPayload
                {
                    KinesisSchemaVersion = "1.0",
                    PartitionKey = views[i].User,
                    SequenceNumber = Sequence(first + i),
                    Data = JsonSerializer.SerializeToUtf8Bytes(views[i], LambdaBenchJsonContext.Default.PageView),
                    ApproximateArrivalTimestamp = DateTimeOffset.FromUnixTimeMilliseconds(views[i].Time),
                },
                EventSource = "aws:kinesis",
                EventVersion = "1.0",
                EventId = Shard + ":" + Sequence(first + i),
                EventName = "aws:kinesis:record",
                InvokeIdentityArn = "arn:aws:iam::123456789012:role/lambda-role",
                AwsRegion = "us-east-1",
                EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/page-views",
            });
        }

        return JsonSerializer.SerializeToUtf8Bytes(e, LambdaJsonContext.Default.KinesisStreamEvent);
    }

    /// <summary>Page views per page and minute with distinct users: the aggregate of the Lambda benchmarks.</summary>
    public static StreamPipeline<PageView, string, (long Views, long Users)> Pipeline(ICheckpointStore store)
        => StreamPipeline.Create<PageView>(new() { Name = "page-views", CheckpointStore = store, WindowState = WindowStateMode.Always })
            .WithEventTime(v => v.Time)
            .KeyBy(v => v.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.DistinctCount(v => v.User)))
            .To(Sinks.Discard<WindowResult<string, (long, long)>>())
            .Build();

    /// <summary>
    /// A store that always hands out the same checkpoint (the state after an earlier invocation) and writes each save
    /// to its binary form without keeping it, so every measured invocation restores, processes and saves as the
    /// second invocation of a shard does.
    /// </summary>
    public sealed class FixedCheckpointStore(PipelineCheckpoint? checkpoint) : ICheckpointStore
    {
        public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
            => ValueTask.FromResult(checkpoint is null ? null : PipelineCheckpoint.Parse(checkpoint.ToBytes()));

        public ValueTask SaveAsync(PipelineCheckpoint saved, CancellationToken cancellationToken)
        {
            _ = saved.ToBytes();
            return ValueTask.CompletedTask;
        }
    }
}
