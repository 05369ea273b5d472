using Amazon.Runtime;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Parquet;
using Analytics.Streaming.S3;
using Result = Analytics.Streaming.WindowResult<string, (long Count, long Sum)>;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// The crash-test worker: runs one pipeline with a <see cref="FileCheckpointStore"/> in an output folder and exits 0
/// when it is done. The tests start it, kill it at random moments and start it again on the same folder.
/// </summary>
internal static class Program
{
    /// <summary>The checkpoint interval: short, so that kills land between checkpoints and right after them.</summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Runs the worker.</summary>
    /// <param name="args">See <see cref="WorkerArguments.Parse"/>.</param>
    /// <returns>0 when the pipeline finished, 1 on a failure, 2 on a bad command line, 3 on a timeout.</returns>
    public static async Task<int> Main(string[] args)
    {
        WorkerArguments arguments;
        try
        {
            arguments = WorkerArguments.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }

        try
        {
            string output = Path.GetFullPath(arguments.Text("out"));
            Directory.CreateDirectory(output);
            int incarnation = (int)arguments.Number("incarnation", 0);
            var timeout = TimeSpan.FromSeconds(arguments.Number("timeout-s", 120));
            var logStream = new FileStream(Path.Combine(output, CrashFiles.ReadLog), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            await using var log = new StreamWriter(logStream) { AutoFlush = true };
            return arguments.Mode switch
            {
                "deterministic" => await RunDeterministicAsync(arguments, output, log, incarnation, timeout),
                "kinesis" => await RunKinesisAsync(arguments, output, log, incarnation, timeout),
                _ => throw new ArgumentException($"Unknown mode '{arguments.Mode}': use deterministic or kinesis."),
            };
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
#pragma warning disable CA1031 // The test reads the failure from standard error and the exit code.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync(ex.ToString());
            return 1;
        }
    }

    /// <summary>
    /// Mode a: the <see cref="DeterministicStream"/> through tumbling (10 s) or sliding (20 s every 5 s) windows with
    /// 3 s out-of-orderness and 5 s lateness, count and sum per key, emitted on close or on every update.
    /// </summary>
    private static async Task<int> RunDeterministicAsync(WorkerArguments arguments, string output, TextWriter log, int incarnation, TimeSpan timeout)
    {
        var stream = DeterministicStream.Generate((int)arguments.Number("seed", DeterministicStream.DefaultSeed));
        var window = arguments.Text("window", "tumbling") switch
        {
            "tumbling" => WindowSpec.Tumbling(TimeSpan.FromSeconds(10)),
            "sliding" => WindowSpec.Sliding(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5)),
            var other => throw new ArgumentException($"--window {other}: use tumbling or sliding."),
        };
        var emit = arguments.Text("emit", "on-close") switch
        {
            "on-close" => EmitMode.OnClose,
            "on-update" => EmitMode.OnUpdate,
            var other => throw new ArgumentException($"--emit {other}: use on-close or on-update."),
        };
        var state = arguments.Text("state", "auto") switch
        {
            "auto" => WindowStateMode.Auto,
            "always" => WindowStateMode.Always,
            "never" => WindowStateMode.Never,
            var other => throw new ArgumentException($"--state {other}: use auto, always or never."),
        };

        using var store = new FileCheckpointStore(Path.Combine(output, CrashFiles.Checkpoints));
        var pipeline = StreamPipeline.Create<SensorEvent>(new StreamPipelineOptions
        {
            Name = CrashFiles.PipelineName,
            CheckpointStore = store,
            CheckpointInterval = CheckpointInterval,
            WindowState = state,
        })
            .WithEventTime(e => e.Ts, maxOutOfOrderness: TimeSpan.FromSeconds(3), idleTimeout: Timeout.InfiniteTimeSpan)
            .KeyBy(e => e.Key)
            .Window(window)
            .AllowedLateness(TimeSpan.FromSeconds(5))
            .Emit(emit)
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .To(new ResultDirectorySink(Path.Combine(output, CrashFiles.Results)))
            .LateTo(LateSink(output))
            .DeadLettersTo(DeadSink(output))
            .Build();
        var source = new LoggingSource<SensorEvent>(new DeterministicSource(stream, TimeSpan.FromMilliseconds(arguments.Number("pace-ms", 0))), log, incarnation);
        return await PipelineHost.RunAsync(pipeline, store, source, stopWhen: null, timeout);
    }

    /// <summary>
    /// Mode b: JSON events from every shard of a Kinesis stream (kinesalite) through 10 s tumbling windows with 3 s
    /// out-of-orderness, count and sum per key, emitted on close, to the result folder and to the S3 sink writing
    /// Parquet to a local folder (a checkpoint listener: a restart removes the objects of epochs after its checkpoint,
    /// with the pipeline name as the writer id). Stops gracefully once a saved checkpoint's watermark reaches <c>--end-ms</c>. With
    /// <c>--save-delay-ms</c>, each checkpoint save takes that much longer (see <see cref="SlowCheckpointStore"/>).
    /// </summary>
    private static async Task<int> RunKinesisAsync(WorkerArguments arguments, string output, TextWriter log, int incarnation, TimeSpan timeout)
    {
        var end = DateTimeOffset.FromUnixTimeMilliseconds(arguments.Number("end-ms"));
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = new Uri(arguments.Text("endpoint")),
            Credentials = new BasicAWSCredentials("AKIDTEST", "secret"),
            Retry = { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
        var consumer = new KinesisShardConsumer(client, new KinesisConsumerOptions
        {
            StreamName = arguments.Text("stream"),
            MaxRecordsPerCall = (int)arguments.Number("records-per-call", 20),
            IdleTimeBetweenReads = TimeSpan.FromMilliseconds(100),
            ShardDiscoveryInterval = TimeSpan.FromSeconds(1),
            ParentCheckpointPollInterval = TimeSpan.FromMilliseconds(50),
            Retry = { BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });

        await using var lake = new S3Sink<Result>(new S3SinkOptions<Result>
        {
            Store = new LocalFolderObjectStore(Path.Combine(output, CrashFiles.Lake)),
            Format = new ParquetObjectFormat<Result>(LakeMap),
            TableName = "readings",
            Zone = DataLakeZone.Analytics,
            Layout = KeyLayout<Result>.Hive(TimePartitioning.Hour, r => r.Window.Start),
        });
        using var files = new FileCheckpointStore(Path.Combine(output, CrashFiles.Checkpoints));
        var saveDelay = TimeSpan.FromMilliseconds(arguments.Number("save-delay-ms", 0));
        ICheckpointStore store = saveDelay > TimeSpan.Zero ? new SlowCheckpointStore(files, saveDelay) : files;
        var pipeline = StreamPipeline.Create<SensorEvent>(new StreamPipelineOptions
        {
            Name = CrashFiles.PipelineName,
            CheckpointStore = store,
            CheckpointInterval = CheckpointInterval,
        })
            .WithEventTime(e => e.Ts, maxOutOfOrderness: TimeSpan.FromSeconds(3), idleTimeout: Timeout.InfiniteTimeSpan)
            .KeyBy(e => e.Key)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .To(new ResultDirectorySink(Path.Combine(output, CrashFiles.Results)))
            .To(lake)
            .LateTo(LateSink(output))
            .DeadLettersTo(DeadSink(output))
            .Build();
        var source = new LoggingSource<SensorEvent>(consumer.Decode(new JsonEventDecoder<SensorEvent>(CrashJson.Default.SensorEvent)), log, incarnation);
        return await PipelineHost.RunAsync(pipeline, store, source, checkpoint => checkpoint.Watermark >= end, timeout);
    }

    /// <summary>The lake's columns: the identity, the key, the window, count, sum, the record count and the reason.</summary>
    private static ParquetRecordMap<Result> LakeMap { get; } = ParquetRecordMap.For<Result>()
        .String("id", r => r.Id, nullable: false)
        .String("key", r => r.Key, nullable: false)
        .Timestamp("window_start", r => r.Window.Start)
        .Timestamp("window_end", r => r.Window.End)
        .Int64("cnt", r => r.Value.Count)
        .Int64("total", r => r.Value.Sum)
        .Int64("record_count", r => r.RecordCount)
        .String("reason", r => r.Reason.ToString(), nullable: false)
        .Build();

    private static PositionDirectorySink<LateRecord<SensorEvent>, LateFile> LateSink(string output) => new(
        Path.Combine(output, CrashFiles.Late),
        l => l.Position,
        l => new LateFile(l.Position.ToString(), l.Event.Key, l.Event.Ts, l.Event.Value, l.Watermark.ToUnixTimeMilliseconds()),
        CrashJson.Default.LateFile);

    private static PositionDirectorySink<DeadLetter, DeadFile> DeadSink(string output) => new(
        Path.Combine(output, CrashFiles.Dead),
        d => d.Position,
        d => new DeadFile(d.Position.ToString(), d.Reason.ToString(), d.Message, d.Payload.IsEmpty ? null : Convert.ToBase64String(d.Payload.Span)),
        CrashJson.Default.DeadFile);
}
