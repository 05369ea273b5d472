using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Analytics.Streaming.Benchmarks.Kinesis;
using Analytics.Streaming.Benchmarks.Queries.Ysb;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Parquet;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Queries.EndToEnd;

/// <summary>A YSB ad event as its JSON carries it (<c>"event_time"</c> is a string of Unix milliseconds in YSB).</summary>
public sealed class YsbJsonEvent
{
    /// <summary>Gets or sets user_id.</summary>
    [JsonPropertyName("user_id")]
    public Guid UserId { get; set; }

    /// <summary>Gets or sets page_id.</summary>
    [JsonPropertyName("page_id")]
    public Guid PageId { get; set; }

    /// <summary>Gets or sets ad_id.</summary>
    [JsonPropertyName("ad_id")]
    public Guid AdId { get; set; }

    /// <summary>Gets or sets ad_type.</summary>
    [JsonPropertyName("ad_type")]
    public string AdType { get; set; } = string.Empty;

    /// <summary>Gets or sets event_type.</summary>
    [JsonPropertyName("event_type")]
    public string EventType { get; set; } = string.Empty;

    /// <summary>Gets or sets event_time (Unix milliseconds).</summary>
    [JsonPropertyName("event_time")]
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)]
    public long EventTime { get; set; }

    /// <summary>Gets or sets ip_address.</summary>
    [JsonPropertyName("ip_address")]
    public string IpAddress { get; set; } = string.Empty;
}

/// <summary>A window result as written to Parquet.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="WindowStart">The window start.</param>
/// <param name="WindowEnd">The window end.</param>
/// <param name="Views">The views counted.</param>
/// <param name="Shard">The shard the result was computed from.</param>
public sealed record CampaignViews(string CampaignId, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, long Views, string Shard);

/// <summary>Source-generated JSON metadata for <see cref="YsbJsonEvent"/>.</summary>
[JsonSerializable(typeof(YsbJsonEvent))]
public sealed partial class YsbJsonContext : JsonSerializerContext;

/// <summary>
/// End to end on one machine: recorded Kinesis GetRecords response bodies (JSON with base64 data, 1,000 records each,
/// in memory) -> the Kinesis package's response parsing and record unpacking (<c>KinesisJsonCodec.ParseGetRecords</c>,
/// <c>KplDeaggregator</c>, as the shard consumer does) -> the library's <c>Decode(decoder)</c> -> the YSB
/// query (keep views, join ad to campaign, count per campaign per 1-second tumbling window) driven through
/// <c>CreateProcessor()</c> -> the results written with the Parquet writer (SNAPPY) into a discarding stream.
/// 200,000 YSB events (JSON as the YSB generator writes them, 10 s of event time) per operation, figures per event,
/// steady state (each operation the next 10 s).
/// <para>
/// <see cref="Shards"/>: the events are split over that many shards, each read by its own worker (source, processor,
/// Parquet writer) on its own thread, as workers or Lambda functions sharing shards do; results carry their shard.
/// (<see cref="OnePipelinePerCoreBenchmarks"/> runs one pipeline over several shards instead.) <see cref="Decoder"/>:
/// the library's JSON decoder or one written by hand. Baseline: the decoding alone (parse, unpack, JSON decode), to
/// show what the window and the Parquet writer add.
/// </para>
/// </summary>
[BenchmarkCategory("Queries", "EndToEnd")]
public class KinesisToParquetBenchmarks
{
    /// <summary>Events per operation (over all shards).</summary>
    public const int EventsPerOperation = 200_000;

    private const int RecordsPerResponse = 1_000;

    /// <summary>The Parquet columns of a <see cref="CampaignViews"/> row.</summary>
    internal static readonly ParquetRecordMap<CampaignViews> Map = ParquetRecordMap.For<CampaignViews>()
        .String("campaign_id", r => r.CampaignId, nullable: false)
        .Timestamp("window_start", r => r.WindowStart)
        .Timestamp("window_end", r => r.WindowEnd)
        .Int64("views", r => r.Views)
        .String("shard", r => r.Shard, nullable: false)
        .Build();

    private ShardWorker[] _workers = [];

    /// <summary>Shards, each read by its own worker thread.</summary>
    [Params(1, 2)]
    public int Shards { get; set; } = 1;

    /// <summary>
    /// The event decoder: the library's <c>JsonEventDecoder</c> (System.Text.Json, source-generated), or
    /// <see cref="YsbReaderDecoder"/>, written by hand on <c>Utf8JsonReader</c>, to show what the rest of the path costs.
    /// </summary>
    [Params("JsonEventDecoder", "Utf8JsonReader")]
    public string Decoder { get; set; } = "JsonEventDecoder";

    /// <summary>Records the GetRecords bodies and builds one worker per shard.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var data = YsbData.Generate(events: EventsPerOperation);
        var table = data.Table;
        if (Decoder != "JsonEventDecoder")
        {
            CheckDecodersAgree(RecordBodies(data.Pass.Events.Take(RecordsPerResponse).ToArray()));
        }

        int perShard = EventsPerOperation / Shards;
        _workers = new ShardWorker[Shards];
        for (int s = 0; s < Shards; s++)
        {
            string shard = "shardId-" + s.ToString("D12", CultureInfo.InvariantCulture);

            // Each shard holds every Shards-th event, so each covers the whole pass of event time.
            var events = data.Pass.Events.Where((_, i) => i % Shards == s).Take(perShard).ToArray();
            _workers[s] = new ShardWorker(shard, RecordBodies(events), table, CreateDecoder(Decoder));
        }

        long results = 0;
        foreach (var worker in _workers)
        {
            worker.RunPass();
            worker.RunPass();
            results += worker.Results;
        }

        Console.WriteLine($"// {Shards} shard(s): {results} results written after two passes; {_workers[0].Bodies.Sum(b => b.Length) / (double)perShard:F0} bytes of GetRecords body per event.");
    }

    /// <summary>Throws unless the hand-written decoder reads the same events from the bodies as the library's.</summary>
    private static void CheckDecodersAgree(byte[][] bodies)
    {
        var library = CreateDecoder("JsonEventDecoder");
        var byHand = CreateDecoder("Utf8JsonReader");
        int checkedEvents = 0;
        foreach (var batch in new RecordedShard("check", bodies).ReadBatchesAsync(new SourceContext(), CancellationToken.None).ToBlockingEnumerable())
        {
            foreach (var record in batch.Records.Span)
            {
                if (!library.TryDecode(record.Value, out var a, out var error) || !byHand.TryDecode(record.Value, out var b, out error))
                {
                    throw new InvalidOperationException($"Recorded event {checkedEvents} did not decode: {error.Message}");
                }

                if ((a.UserId, a.PageId, a.AdId, a.AdType, a.EventType, a.EventTime, a.IpAddress) != (b.UserId, b.PageId, b.AdId, b.AdType, b.EventType, b.EventTime, b.IpAddress))
                {
                    throw new InvalidOperationException($"The decoders disagree on event {checkedEvents}.");
                }

                checkedEvents++;
            }
        }

        Console.WriteLine($"// The two decoders read the same {checkedEvents} events.");
    }

    /// <summary>The decoder named by <see cref="Decoder"/>.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The decoder.</returns>
    internal static IEventDecoder<YsbJsonEvent> CreateDecoder(string name) => name switch
    {
        "JsonEventDecoder" => new JsonEventDecoder<YsbJsonEvent>(YsbJsonContext.Default.YsbJsonEvent),
        "Utf8JsonReader" => new YsbReaderDecoder(),
        _ => throw new ArgumentException($"Unknown decoder '{name}'.", nameof(name)),
    };

    /// <summary>Finishes the Parquet files.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }
    }

    /// <summary>Baseline: parse the bodies, unpack the records, decode the JSON events; nothing more.</summary>
    /// <returns>The events decoded.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerOperation)]
    public long DecodeOnly() => Run(static worker => worker.DecodePass());

    /// <summary>The whole path: parse, unpack, decode, window, Parquet.</summary>
    /// <returns>The results written so far.</returns>
    [Benchmark(OperationsPerInvoke = EventsPerOperation)]
    public long EndToEnd() => Run(static worker => worker.RunPass());

    private long Run(Func<ShardWorker, long> pass)
    {
        if (_workers.Length == 1)
        {
            return pass(_workers[0]);
        }

        var tasks = new Task<long>[_workers.Length];
        for (int i = 0; i < tasks.Length; i++)
        {
            var worker = _workers[i];
            tasks[i] = Task.Run(() => pass(worker));
        }

        Task.WaitAll(tasks);
        long total = 0;
        foreach (var task in tasks)
        {
            total += task.Result;
        }

        return total;
    }

    /// <summary>Writes the events as GetRecords response bodies of <see cref="RecordsPerResponse"/> records, as Kinesis returns them.</summary>
    internal static byte[][] RecordBodies(AdEvent[] events)
    {
        string[] adTypes = ["banner", "modal", "sponsored-search", "mail", "mobile"];
        string[] eventTypes = ["view", "click", "purchase"];
        var bodies = new List<byte[]>();
        var payload = new ArrayBufferWriter<byte>();
        var body = new ArrayBufferWriter<byte>();
        for (int start = 0; start < events.Length; start += RecordsPerResponse)
        {
            body.Clear();
            using (var writer = new Utf8JsonWriter(body))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("Records");
                for (int i = start; i < Math.Min(events.Length, start + RecordsPerResponse); i++)
                {
                    var e = events[i];
                    payload.Clear();
                    using (var json = new Utf8JsonWriter(payload))
                    {
                        json.WriteStartObject();
                        json.WriteString("user_id", e.UserId);
                        json.WriteString("page_id", e.PageId);
                        json.WriteString("ad_id", e.AdId);
                        json.WriteString("ad_type", adTypes[(int)e.AdType]);
                        json.WriteString("event_type", eventTypes[(int)e.EventType]);
                        json.WriteString("event_time", (Engine.BenchData.StartMs + e.EventTimeMs).ToString(CultureInfo.InvariantCulture));
                        json.WriteString("ip_address", "1.2.3.4");
                        json.WriteEndObject();
                    }

                    writer.WriteStartObject();
                    writer.WriteString("SequenceNumber", "49590338271490256608559692538361571095921575989136588" + (100_000 + i).ToString(CultureInfo.InvariantCulture));
                    writer.WriteNumber("ApproximateArrivalTimestamp", 1_767_225_600.123);
                    writer.WriteBase64String("Data", payload.WrittenSpan);
                    writer.WriteString("PartitionKey", e.UserId.ToString());
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteString("NextShardIterator", "AAAAAAAAAAHsW8zCWf9164uy8Epue6WS3w6wmj4a4USt+CNvMd6uXQ+HL5vAJMznqqC0DLKsIjuoiTi1BpT6nW0LN2M2D56zM5H8anHm30Gbri9ua+qaGgj+3XTyvbhpERfrezgLHbPB/rIcVpykJbaSj5tmcXYRmFnqZBEyHwtZYFmh6hvWVFkIwLuMZLMrpWhG5r5hzkE=");
                writer.WriteNumber("MillisBehindLatest", 0);
                writer.WriteEndObject();
            }

            bodies.Add(body.WrittenSpan.ToArray());
        }

        return [.. bodies];
    }

    /// <summary>One shard's worker: its recorded responses as a source, the decoder, the pipeline's processor, a Parquet writer.</summary>
    private sealed class ShardWorker : IDisposable
    {
        private readonly RecordedShard _raw;
        private readonly IEventSource<YsbJsonEvent> _source;
        private readonly PassClock _clock = new(YsbData.PassMs);
        private readonly WindowProcessor<YsbJsonEvent, Guid, long> _processor;
        private readonly ParquetOutput _output;
        private readonly ParquetWriter<CampaignViews> _writer;

        public ShardWorker(string shard, byte[][] bodies, LookupTable<Guid, Guid> table, IEventDecoder<YsbJsonEvent> decoder)
        {
            Bodies = bodies;
            _raw = new RecordedShard(shard, bodies);
            _source = _raw.Decode(decoder);
            var clock = _clock;
            _processor = StreamPipeline.Create<YsbJsonEvent>(new StreamPipelineOptions { Name = "ysb-e2e" })
                .WithEventTime(e => clock.OffsetMs - Engine.BenchData.StartMs + e.EventTime, TimeSpan.FromMilliseconds(YsbData.OutOfOrdernessMs))
                .Where(e => e.EventType == "view")
                .Enrich(table, e => e.AdId, (e, campaign) => new CampaignView(campaign, e.EventTime))
                .KeyBy(v => v.CampaignId)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
                .Aggregate(a => a.Count())
                .To(Sinks.Discard<WindowResult<Guid, long>>())
                .Build()
                .CreateProcessor();
            _writer = new ParquetWriter<CampaignViews>(Stream.Null, Map, new ParquetWriterOptions { Compression = ParquetCompression.Snappy });
            _output = new ParquetOutput(shard);
        }

        public byte[][] Bodies { get; }

        public long Results { get; private set; }

        public long RunPass()
        {
            var enumerator = _source.ReadBatchesAsync(new SourceContext(), CancellationToken.None).GetAsyncEnumerator();
            try
            {
                while (Sync(enumerator.MoveNextAsync()))
                {
                    _processor.Process(enumerator.Current, _output);
                }
            }
            finally
            {
                Sync(enumerator.DisposeAsync());
            }

            var rows = _output.TakeRows();
            if (rows.Length > 0)
            {
                _writer.Write(rows);
                Results += rows.Length;
                if (_writer.BufferedRows >= 100_000)
                {
                    _writer.FlushRowGroup();
                }
            }

            _output.Clear();
            _clock.Next();
            return Results;
        }

        public long DecodePass()
        {
            long decoded = 0;
            var enumerator = _source.ReadBatchesAsync(new SourceContext(), CancellationToken.None).GetAsyncEnumerator();
            try
            {
                while (Sync(enumerator.MoveNextAsync()))
                {
                    decoded += enumerator.Current.Records.Length;
                }
            }
            finally
            {
                Sync(enumerator.DisposeAsync());
            }

            return decoded;
        }

        public void Dispose()
        {
            _writer.Complete();
            _writer.Dispose();
        }

        private static bool Sync(ValueTask<bool> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

        private static void Sync(ValueTask task)
        {
            if (!task.IsCompletedSuccessfully)
            {
                task.AsTask().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Turns window results into Parquet rows.</summary>
    private sealed class ParquetOutput(string shard) : IWindowOutput<YsbJsonEvent, Guid, long>
    {
        private readonly List<CampaignViews> _rows = [];

        public ReadOnlySpan<CampaignViews> TakeRows() => CollectionsMarshal.AsSpan(_rows);

        public void Clear() => _rows.Clear();

        public void OnResult(in WindowResult<Guid, long> result)
            => _rows.Add(new CampaignViews(result.Key.ToString(), result.Window.Start, result.Window.End, result.Value, shard));

        public void OnLateRecord(in LateRecord<YsbJsonEvent> record) => throw new InvalidOperationException("Unexpected late record.");

        public void OnDeadLetter(DeadLetter deadLetter) => throw new InvalidOperationException(deadLetter.ToString());
    }

    /// <summary>
    /// A shard whose GetRecords responses were recorded: each pass reads them through the Kinesis package's client (signed
    /// requests, answers from memory, parsed as from the network) and unpacks the records (KPL aggregates or plain) into raw records, as the shard consumer does after each call.
    /// </summary>
    internal sealed class RecordedShard(string shard, byte[][] bodies) : IEventSource<RawRecord>
    {
        private readonly List<UserRecord> _users = new(RecordsPerResponse);

        public string Shard => shard;

        public bool CanResume => false;

        public async IAsyncEnumerable<RecordBatch<RawRecord>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            using var client = InMemoryAws.Client(new CannedAwsHandler(bodies));
            var request = new KinesisGetRecordsRequest { ShardIterator = "recorded" };
            for (int page = 0; page < bodies.Length; page++)
            {
                var response = await client.GetRecordsAsync(request, cancellationToken).ConfigureAwait(false);
                var records = new StreamRecord<RawRecord>[response.Records.Count];
                int count = 0;
                foreach (var record in response.Records)
                {
                    _users.Clear();
                    if (!KplDeaggregator.TryDeaggregate(record, _users, out string? error))
                    {
                        throw new InvalidDataException(error);
                    }

                    foreach (var user in _users)
                    {
                        if (count == records.Length)
                        {
                            Array.Resize(ref records, records.Length * 2);
                        }

                        records[count++] = new StreamRecord<RawRecord>(new RawRecord(user.Data, user.PartitionKey, user.ApproximateArrivalTimestamp), user.SequenceNumber, user.SubSequenceNumber);
                    }
                }

                yield return new RecordBatch<RawRecord>(shard, records.AsMemory(0, count));
            }
        }
    }
}
