using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Analytics.Streaming.Parquet;
using PageViews = Analytics.Streaming.WindowResult<string, long>;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>
/// A pipeline (three partitions, event time, one-minute tumbling counts) writing Parquet to the sink, crashed in the
/// middle of a checkpoint flush and again between checkpoints after objects rolled, then restarted with a new pipeline
/// and sink: DuckDB reads every result identity exactly once, with the value of an uninterrupted run.
/// </summary>
public sealed class S3SinkRecoveryTests(S3Fixture s3)
{
    private const string TableFolder = "lake/analytics/page_views/";
    private const string IntentFolder = "lake/analytics/_sink-intents/page_views/";

    private static readonly ParquetRecordMap<PageViews> Map = ParquetRecordMap.For<PageViews>()
        .String("id", r => r.Id, nullable: false)
        .Timestamp("window_start", r => r.Window.Start)
        .Int64("views", r => r.Value)
        .Build();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_CrashesMidFlushAndBetweenCheckpointsOnLocalFolder_DuckDbReadsEachResultOnceWithUninterruptedValue()
    {
        string root = s3.CreateFolder();
        var checkpoints = new FileCheckpointStore(Path.Combine(s3.CreateFolder(), "checkpoints"));

        await CrashTwiceThenFinishAsync(() => new LocalFolderObjectStore(root), checkpoints, () => Task.FromResult(root));

        Assert.DoesNotContain(Directory.GetFiles(root, "*", SearchOption.AllDirectories), f => Path.GetFileName(f).StartsWith('.'));
    }

    [Fact]
    public async Task RunAsync_CrashesMidFlushAndBetweenCheckpointsOnS3rver_DuckDbReadsEachResultOnceWithUninterruptedValue()
    {
        string bucket = await s3.CreateBucketAsync();

        await CrashTwiceThenFinishAsync(() => new S3ObjectStore(s3.Client, bucket), new InMemoryCheckpointStore(), () => s3.DownloadAsync(bucket));
    }

    [Fact]
    public async Task RunAsync_ResultsWhosePartitionMakesNoValidKey_PipelineCompletesAndErrorPrefixHoldsEachOnce()
    {
        string root = s3.CreateFolder();
        string longPage = new('z', 1100);
        var pages = new[] { "home", "..", longPage };
        var expected = await UninterruptedAsync(pages);
        var options = Options(new LocalFolderObjectStore(root));
        options.Layout = KeyLayout<PageViews>.Plain(TimePartitioning.Hour, r => r.Window.Start).PartitionBy("page", r => r.Key);
        options.ErrorPayload = r => Encoding.UTF8.GetBytes(r.Id);
        await using var sink = new S3Sink<PageViews>(options);

        await Build(new InMemoryCheckpointStore(), sink).RunAsync(new InMemorySource<PageVisit>(Visits.Batches(pages)), Ct);

        var stored = await s3.DuckDb.QueryAsync($"SELECT id, views::VARCHAR AS views FROM read_parquet('{root}/{TableFolder}**/*.parquet', hive_partitioning = false)");
        Assert.Equal(
            expected.Where(e => e.Key.StartsWith("page-views|home|", StringComparison.Ordinal)).ToDictionary(),
            stored.ToDictionary(r => r["id"]!.ToString(), r => r["views"]!.ToString()));
        var errors = Directory.GetFiles(Path.Combine(root, "lake/analytics/errors/page_views"), "*.json", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(errors, e => Assert.Equal("InvalidObjectKey", e.GetProperty("errorCode").GetString()));
        Assert.Equal(
            expected.Keys.Where(k => !k.StartsWith("page-views|home|", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            errors.Select(e => Encoding.UTF8.GetString(e.GetProperty("rawData").GetBytesFromBase64())).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RunAsync_AnAggregatorThrowsOnARecord_TheRunStartsAgainWithTheRecordSetAsideAndDuckDbReadsEachResultOnce()
    {
        // The pipeline starts the run again in the same process, with the same sink, which holds objects of the stopped
        // run that no checkpoint covers: they must neither block the restore nor stay beside the replay's.
        var poison = Visits.Batches()[^4].Records.Span[5].Value; // the first batch the source holds back
        string root = s3.CreateFolder();
        var deadLetters = new List<DeadLetter>();
        using var delivered = new ManualResetEventSlim();
        await using (var sink = new S3Sink<PageViews>(Options(new LocalFolderObjectStore(root))))
        {
            var pipeline = StreamPipeline.Create<PageVisit>(new StreamPipelineOptions
            {
                Name = "page-views",
                CheckpointStore = new InMemoryCheckpointStore(),
                CheckpointInterval = TimeSpan.FromHours(1), // one checkpoint at the start: later results stay uncommitted
            })
                .WithEventTime(v => v.Time)
                .KeyBy(v => v.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Sum(v => v == poison ? throw new FormatException("poison") : 1L))
                .To(sink)
                .To(Sinks.Callback<PageViews>((items, _) =>
                {
                    if (!items.IsEmpty)
                    {
                        delivered.Set();
                    }

                    return ValueTask.CompletedTask;
                }))
                .DeadLettersTo(Sinks.Callback<DeadLetter>((items, _) =>
                {
                    deadLetters.AddRange(items.ToArray());
                    return ValueTask.CompletedTask;
                }))
                .Build();

            await pipeline.RunAsync(new HeldSource(Visits.Batches(), Visits.Batches().Count - 4, delivered), Ct);
            Assert.True(sink.Statistics.ObjectsRolledBack > 0, $"The stopped run's objects were not undone: {sink.Statistics}");
        }

        var expected = await UninterruptedAsync();
        long minute = poison.Time.UtcTicks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute;
        string poisoned = PageViews.FormatId("page-views", poison.Page, new TimeWindow(minute, minute + TimeSpan.TicksPerMinute));
        expected[poisoned] = (long.Parse(expected[poisoned], CultureInfo.InvariantCulture) - 1).ToString(CultureInfo.InvariantCulture);
        var rows = await s3.DuckDb.QueryAsync(
            $"SELECT id, views::VARCHAR AS views, count(*) OVER (PARTITION BY id) AS copies FROM read_parquet('{root}/{TableFolder}**/*.parquet', hive_partitioning = false)");
        Assert.All(rows, r => Assert.Equal("1", r["copies"]!.ToString()));
        Assert.Equal(expected, rows.ToDictionary(r => r["id"]!.ToString(), r => r["views"]!.ToString()));
        Assert.Equal(DeadLetterReason.AggregatorFailed, Assert.Single(deadLetters.DistinctBy(d => d.Position)).Reason);
    }

    private static S3SinkOptions<PageViews> Options(IObjectStore store) => new()
    {
        Store = store,
        Format = new ParquetObjectFormat<PageViews>(Map),
        Prefix = "lake/",
        Zone = DataLakeZone.Analytics,
        TableName = "page_views",
        Layout = KeyLayout<PageViews>.Hive(TimePartitioning.Hour, r => r.Window.Start).PartitionBy("page", r => r.Key),
        MaxRecordsPerObject = 4,
    };

    private static StreamPipeline<PageVisit, string, long> Build(ICheckpointStore checkpoints, ISink<PageViews> sink)
        => StreamPipeline.Create<PageVisit>(new StreamPipelineOptions
        {
            Name = "page-views",
            CheckpointStore = checkpoints,
            CheckpointInterval = TimeSpan.FromTicks(1), // a checkpoint after every processing round
            ChannelCapacity = 1,
        })
            .WithEventTime(v => v.Time)
            .KeyBy(v => v.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .To(sink)
            .Build();

    /// <summary>The results of one run without crashes: identity to value.</summary>
    private static async Task<Dictionary<string, string>> UninterruptedAsync(string[]? pages = null)
    {
        var results = new Dictionary<string, string>();
        var collect = Sinks.Callback<PageViews>((items, _) =>
        {
            foreach (var r in items.Span)
            {
                Assert.True(results.TryAdd(r.Id, r.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{r.Id} emitted twice in one run");
            }

            return ValueTask.CompletedTask;
        });
        await Build(new InMemoryCheckpointStore(), collect).RunAsync(new InMemorySource<PageVisit>(Visits.Batches(pages)), Ct);
        return results;
    }

    private async Task CrashTwiceThenFinishAsync(Func<IObjectStore> newStore, ICheckpointStore checkpoints, Func<Task<string>> localCopy)
    {
        var expected = await UninterruptedAsync();
        Assert.Equal(Visits.Minutes * Visits.DefaultPages.Length, expected.Count);

        // Run 1 crashes in the middle of a checkpoint flush: one object of the flush is stored, the checkpoint is not.
        var store = new CrashingStore(newStore(), TableFolder);
        await using (var sink = new S3Sink<PageViews>(Options(store)))
        {
            var crashing = new CrashingSink(sink, store, CrashPoint.MidFlush);
            await CrashAsync(Build(checkpoints, crashing), crashing);
            Assert.True(store.Crashed, "the store never crashed");
        }

        Assert.NotEmpty(await VisibleUncommittedAsync(newStore()));

        // Run 2 resumes, undoes run 1's uncommitted objects, then crashes after objects rolled by count since its last checkpoint.
        store = new CrashingStore(newStore(), TableFolder);
        await using (var sink = new S3Sink<PageViews>(Options(store)))
        {
            var crashing = new CrashingSink(sink, store, CrashPoint.AfterRollBetweenCheckpoints);
            await CrashAsync(Build(checkpoints, crashing), crashing);
            Assert.True(crashing.Crashed, "the sink never crashed");
            Assert.True(sink.Statistics.ObjectsRolledBack > 0, "run 2 undid nothing");
        }

        Assert.NotEmpty(await VisibleUncommittedAsync(newStore()));

        // Run 3 resumes, undoes run 2's uncommitted objects and runs to the end.
        await using (var sink = new S3Sink<PageViews>(Options(newStore())))
        {
            await Build(checkpoints, sink).RunAsync(new InMemorySource<PageVisit>(Visits.Batches()), Ct);
            Assert.True(sink.Statistics.ObjectsRolledBack > 0, "run 3 undid nothing");
        }

        Assert.Empty(await newStore().ListKeysAsync(IntentFolder, Ct));
        string lake = await localCopy();
        var rows = await s3.DuckDb.QueryAsync(
            $"SELECT id, views::VARCHAR AS views, count(*) OVER (PARTITION BY id) AS copies FROM read_parquet('{lake}/{TableFolder}**/*.parquet', hive_partitioning = false)");
        Assert.All(rows, r => Assert.Equal("1", r["copies"]!.ToString()));
        Assert.Equal(expected, rows.ToDictionary(r => r["id"]!.ToString(), r => r["views"]!.ToString()));
    }

    private static async Task CrashAsync(StreamPipeline<PageVisit, string, long> pipeline, CrashingSink sink)
    {
        try
        {
            await pipeline.RunAsync(new OneBatchPerCheckpointSource(sink), Ct);
        }
        catch (SimulatedCrashException)
        {
            return;
        }

        Assert.Fail("The run did not crash. What the sink saw: " + string.Join("; ", sink.Trace));
    }

    /// <summary>The keys listed in intent logs that a reader can see right now: what a crash left visible before the restart.</summary>
    private static async Task<List<string>> VisibleUncommittedAsync(IObjectStore store)
    {
        var listed = new List<string>();
        foreach (string log in await store.ListKeysAsync(IntentFolder, Ct))
        {
            using var json = JsonDocument.Parse((await store.GetObjectAsync(log, Ct))!);
            listed.AddRange(json.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));
        }

        var visible = (await store.ListKeysAsync(TableFolder, Ct)).ToHashSet(StringComparer.Ordinal);
        return [.. listed.Where(visible.Contains)];
    }

    private enum CrashPoint
    {
        MidFlush,
        AfterRollBetweenCheckpoints,
    }

    /// <summary>
    /// The test input, handed over one batch at a time: the next batch comes only after the checkpoint that covers the
    /// previous one completed, so every run checkpoints at the same batches however the machine schedules the stages.
    /// </summary>
    private sealed class OneBatchPerCheckpointSource(CrashingSink sink) : IEventSource<PageVisit>
    {
        public bool CanResume => true;

        public async IAsyncEnumerable<RecordBatch<PageVisit>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in new InMemorySource<PageVisit>(Visits.Batches()).ReadBatchesAsync(context, cancellationToken))
            {
                int completed = sink.Completed;
                yield return batch;
                await sink.WaitForCheckpointAfterAsync(completed, cancellationToken);
            }
        }
    }

    /// <summary>Passes everything to the S3 sink and crashes the run at the chosen point, after at least one checkpoint of the run completed.</summary>
    private sealed class CrashingSink(S3Sink<PageViews> inner, CrashingStore store, CrashPoint point) : ISink<PageViews>, ICheckpointListener
    {
        private readonly Lock _gate = new();
        private TaskCompletionSource _checkpointed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _completed;
        private long _objectsAtCheckpoint;

        public int Completed
        {
            get
            {
                lock (_gate)
                {
                    return _completed;
                }
            }
        }

        public bool Crashed { get; private set; }

        /// <summary>Gets what the pipeline asked of the sink, for failure messages.</summary>
        public List<string> Trace { get; } = [];

        public async ValueTask WriteAsync(ReadOnlyMemory<PageViews> items, CancellationToken cancellationToken)
        {
            Trace.Add($"write {items.Length} (objects {inner.Statistics.ObjectsWritten})");
            await inner.WriteAsync(items, cancellationToken);
            if (point == CrashPoint.AfterRollBetweenCheckpoints && Completed > 0 && inner.Statistics.ObjectsWritten > _objectsAtCheckpoint)
            {
                Crashed = true;
                throw new SimulatedCrashException();
            }
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            Trace.Add($"flush (open {inner.Statistics.OpenObjects})");
            if (point == CrashPoint.MidFlush && Completed > 0 && inner.Statistics.OpenObjects >= 2)
            {
                store.CrashAfterUploads(1);
            }

            await inner.FlushAsync(cancellationToken);
        }

        public ValueTask RestoreAsync(string pipelineName, long checkpointId, CancellationToken cancellationToken)
        {
            Trace.Add($"restore {checkpointId}");
            return inner.RestoreAsync(pipelineName, checkpointId, cancellationToken);
        }

        public async ValueTask CheckpointCompletedAsync(long checkpointId, CancellationToken cancellationToken)
        {
            Trace.Add($"completed {checkpointId}");
            await inner.CheckpointCompletedAsync(checkpointId, cancellationToken);
            _objectsAtCheckpoint = inner.Statistics.ObjectsWritten;
            TaskCompletionSource done;
            lock (_gate)
            {
                _completed++;
                done = _checkpointed;
                _checkpointed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            done.SetResult();
        }

        /// <summary>Waits until more than <paramref name="completed"/> checkpoints of this run completed.</summary>
        public async Task WaitForCheckpointAfterAsync(int completed, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task next;
                lock (_gate)
                {
                    if (_completed > completed)
                    {
                        return;
                    }

                    next = _checkpointed.Task;
                }

                await next.WaitAsync(cancellationToken);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A page visit for the pipeline tests.</summary>
public sealed record PageVisit(string Page, DateTimeOffset Time);

/// <summary>The input of the pipeline tests: three partitions, each with one visit per page and minute, cut into batches and interleaved.</summary>
public static class Visits
{
    public const int Minutes = 120;

    public static readonly string[] DefaultPages = ["home", "cart", "search", "product"];

    private static readonly DateTimeOffset Start = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    public static List<RecordBatch<PageVisit>> Batches(string[]? pages = null, int partitions = 3, int batchSize = 40)
    {
        pages ??= DefaultPages;
        var perPartition = new List<List<RecordBatch<PageVisit>>>();
        for (int p = 0; p < partitions; p++)
        {
            var records = new List<StreamRecord<PageVisit>>();
            for (int minute = 0; minute < Minutes; minute++)
            {
                for (int i = 0; i < pages.Length; i++)
                {
                    var time = Start.AddMinutes(minute).AddSeconds((p * 10) + i);
                    records.Add(new StreamRecord<PageVisit>(new PageVisit(pages[i], time), SequenceNumber.FromInt64(records.Count + 1)));
                }
            }

            var batches = records.Chunk(batchSize).Select(c => c.ToArray()).ToList();
            perPartition.Add([.. batches.Select((c, i) => new RecordBatch<PageVisit>(p.ToString(System.Globalization.CultureInfo.InvariantCulture), c, isEndOfPartition: i == batches.Count - 1))]);
        }

        var interleaved = new List<RecordBatch<PageVisit>>();
        for (int i = 0; i < perPartition.Max(b => b.Count); i++)
        {
            interleaved.AddRange(perPartition.Where(b => i < b.Count).Select(b => b[i]));
        }

        return interleaved;
    }
}

/// <summary>Thrown where the tests make a process "crash".</summary>
public sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException()
        : base("Simulated crash.")
    {
    }

    public SimulatedCrashException(string message)
        : base(message)
    {
    }

    public SimulatedCrashException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A store that, once armed, lets a number of table-object uploads through and then crashes: that upload and every
/// call after it throw <see cref="SimulatedCrashException"/>, as if the process had died.
/// </summary>
public sealed class CrashingStore(IObjectStore inner, string tablePrefix) : ForwardingStore(inner)
{
    private int _budget;
    private volatile bool _armed;
    private volatile bool _crashed;

    public bool Crashed => _crashed;

    /// <summary>Arms the crash (once): <paramref name="uploads"/> more table objects are stored, the next one crashes.</summary>
    public void CrashAfterUploads(int uploads)
    {
        if (!_armed)
        {
            _budget = uploads;
            _armed = true;
        }
    }

    public override bool IsTransient(Exception exception) => exception is not SimulatedCrashException && base.IsTransient(exception);

    protected override void BeforeCall(StoreCall call, string key)
    {
        if (_crashed)
        {
            throw new SimulatedCrashException();
        }

        if (call == StoreCall.Put && _armed && key.StartsWith(tablePrefix, StringComparison.Ordinal) && Interlocked.Decrement(ref _budget) < 0)
        {
            _crashed = true;
            throw new SimulatedCrashException();
        }
    }
}

/// <summary>Batches in memory; the batch at <c>holdAt</c> is read only once <c>open</c> is set (a run's results delivered).</summary>
internal sealed class HeldSource(List<RecordBatch<PageVisit>> batches, int holdAt, ManualResetEventSlim open) : IEventSource<PageVisit>
{
    private readonly InMemorySource<PageVisit> _inner = new(batches);

    public bool CanResume => _inner.CanResume;

    public async IAsyncEnumerable<RecordBatch<PageVisit>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int index = 0;
        await foreach (var batch in _inner.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
        {
            if (index++ == holdAt)
            {
                await Task.Run(() => open.Wait(cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            yield return batch;
        }
    }
}
