using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Lambda.Tests;

/// <summary>A page view: the event of the Lambda tests.</summary>
public sealed class Click
{
    public string User { get; set; } = string.Empty;

    public string Page { get; set; } = string.Empty;

    /// <summary>Event time, Unix milliseconds.</summary>
    public long Time { get; set; }

    public int Value { get; set; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, TestJsonContext.Default.Click);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Click))]
public sealed partial class TestJsonContext : JsonSerializerContext;

/// <summary>A decoder that throws (a transient failure) for the clicks whose value <see cref="Failing"/> holds.</summary>
public sealed class FlakyDecoder : IEventDecoder<Click>
{
    private readonly JsonEventDecoder<Click> _inner = new(TestJsonContext.Default.Click);

    public HashSet<int> Failing { get; } = [];

    /// <summary>Gets or sets a value indicating whether failures throw as an HttpClient timeout does (<see cref="TaskCanceledException"/>).</summary>
    public bool FailAsCancellation { get; set; }

    public bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out Click value, out DecodeError error)
    {
        if (!_inner.TryDecode(record, out value, out error))
        {
            return false;
        }

        return !Failing.Contains(value.Value) ? true
            : FailAsCancellation ? throw new TaskCanceledException($"lookup for click {value.Value} was canceled after its timeout", new TimeoutException())
            : throw new TimeoutException($"lookup for click {value.Value} timed out");
    }
}

public static class TestData
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public const string TestShard = "shardId-000000000006";

    public static string Sequence(int i) => "4959033827149025660855969253836157109592157598913658" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);

    public static Click Click(string page, int seconds, int value = 1, string user = "u1") => new() { Page = page, User = user, Time = T0.AddSeconds(seconds).ToUnixTimeMilliseconds(), Value = value };

    public static KinesisStreamRecord Record(string shard, int sequence, byte[] data, string partitionKey = "pk")
        => new()
        {
            Kinesis = new KinesisStreamRecordPayload
            {
                KinesisSchemaVersion = "1.0",
                PartitionKey = partitionKey,
                SequenceNumber = Sequence(sequence),
                Data = data,
                ApproximateArrivalTimestamp = T0.AddSeconds(sequence),
            },
            EventSource = "aws:kinesis",
            EventVersion = "1.0",
            EventId = shard + ":" + Sequence(sequence),
            EventName = "aws:kinesis:record",
            InvokeIdentityArn = "arn:aws:iam::123456789012:role/lambda-role",
            AwsRegion = "us-east-1",
            EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        };

    /// <summary>An event of clicks with sequence numbers <paramref name="firstSequence"/>, +1, ...</summary>
    public static KinesisStreamEvent Event(string shard, int firstSequence, params Click[] clicks)
    {
        var e = new KinesisStreamEvent();
        for (int i = 0; i < clicks.Length; i++)
        {
            e.Records.Add(Record(shard, firstSequence + i, clicks[i].ToJson(), clicks[i].User));
        }

        return e;
    }

    public static KinesisStreamEvent Event(string shard, int firstSequence, params byte[][] payloads)
    {
        var e = new KinesisStreamEvent();
        for (int i = 0; i < payloads.Length; i++)
        {
            e.Records.Add(Record(shard, firstSequence + i, payloads[i]));
        }

        return e;
    }

    public static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    public static Stream FixtureStream(string name) => new MemoryStream(Encoding.UTF8.GetBytes(Fixture(name)));

    /// <summary>Count and sum of values per page in 1-minute tumbling windows, state saved, in-memory store, collecting sinks.</summary>
    public static (StreamPipeline<Click, string, (long Count, long Sum)> Pipeline, CollectingSink<WindowResult<string, (long Count, long Sum)>> Results, CollectingSink<DeadLetter> DeadLetters) Pipeline(
        ICheckpointStore? store = null, string name = "clicks")
    {
        var results = new CollectingSink<WindowResult<string, (long Count, long Sum)>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<Click>(new() { Name = name, CheckpointStore = store ?? new InMemoryCheckpointStore(), WindowState = WindowStateMode.Always })
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.Sum(c => (long)c.Value)))
            .To(results)
            .DeadLettersTo(deadLetters)
            .Build();
        return (pipeline, results, deadLetters);
    }

    /// <summary>Runs the @types/aws-lambda checker over documents (type name, JSON text, loose).</summary>
    public static async Task<(int ExitCode, string Output)> CheckTypesAsync(IEnumerable<(string Type, string Json, bool Loose)> documents)
    {
        string folder = Directory.CreateTempSubdirectory("lambda-types-").FullName;
        try
        {
            var arguments = new List<string>();
            int i = 0;
            foreach (var (type, json, loose) in documents)
            {
                string path = Path.Combine(folder, $"doc{i++}.json");
                await File.WriteAllTextAsync(path, json);
                arguments.Add($"{type}={path}{(loose ? ":loose" : string.Empty)}");
            }

            var (exitCode, output, error) = await TestSupport.NodeScript.RunAsync("lambda-types-check.js", arguments, null, TestContext.Current.CancellationToken);
            return (exitCode, output + error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static string ToJson(this KinesisStreamBatchResponse response) => JsonSerializer.Serialize(response, LambdaJsonContext.Default.KinesisStreamBatchResponse);

    public static string ToJson(this KinesisStreamEvent kinesisEvent) => JsonSerializer.Serialize(kinesisEvent, LambdaJsonContext.Default.KinesisStreamEvent);
}
