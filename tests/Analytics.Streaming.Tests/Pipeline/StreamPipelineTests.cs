using System.Runtime.CompilerServices;
using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

public sealed class StreamPipelineTests
{
    private static readonly WindowSpec Minute = WindowSpec.Tumbling(TimeSpan.FromMinutes(1));

    private static (StreamPipeline<TestEvent, int, long> Pipeline, CollectingSink<WindowResult<int, long>> Sink) Counting(StreamPipelineOptions options, ISink<WindowResult<int, long>>? extraSink = null)
    {
        var sink = new CollectingSink<WindowResult<int, long>>();
        var builder = StreamPipeline.Create<TestEvent>(options)
            .WithEventTime(e => e.Time)
            .KeyBy(e => e.Key)
            .Window(Minute)
            .Aggregate(a => a.Count())
            .To(sink);
        if (extraSink is not null)
        {
            builder.To(extraSink);
        }

        return (builder.Build(), sink);
    }

    private static IEnumerable<TestEvent> Minutes(int count, int perMinute = 10)
        => Enumerable.Range(0, count * perMinute).Select(i => new TestEvent(i % 3, 1 + (i * 60L / perMinute), 1));

    [Fact]
    public async Task RunAsync_FiniteSource_DeliversEveryWindowAndCheckpointsTheEnd()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, sink) = Counting(new() { Name = "p", CheckpointStore = store });

        await pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(5), batchSize: 7), TestContext.Current.CancellationToken);

        Assert.Equal(15, sink.FlushedItems.Count);
        Assert.Equal(50, sink.FlushedItems.Sum(r => r.Value));
        Assert.Equal(50, pipeline.Statistics.RecordsIn);
        Assert.Equal(50, pipeline.Statistics.RecordsAccepted);
        var checkpoint = (await store.LoadAsync("p", TestContext.Current.CancellationToken))!;
        var partition = Assert.Single(checkpoint.Partitions);
        Assert.True(partition.IsFinished);
        Assert.Equal(SequenceNumber.FromInt64(50), partition.ResumeAfter!.Value.Sequence);
        Assert.Equal(DateTimeOffset.MaxValue, checkpoint.Watermark);
        Assert.Equal(checkpoint.Id, pipeline.Statistics.LastCheckpoint!.Id);
        Assert.False(sink.IsDisposed);
    }

    [Fact]
    public async Task RunAsync_CancelledMidStream_FlushesClosedWindowsAndCheckpointsTheOpenOnes()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, sink) = Counting(new() { Name = "p", CheckpointStore = store });
        using var stop = new CancellationTokenSource();
        var source = new EndlessSource([.. Minutes(3)], afterLastBatch: stop);

        await pipeline.RunAsync(source, stop.Token);

        Assert.Equal(6, sink.FlushedItems.Count);
        Assert.All(sink.FlushedItems, r => Assert.True(r.Window.End <= TestEvent.At(120)));
        var checkpoint = (await store.LoadAsync("p", TestContext.Current.CancellationToken))!;
        Assert.Equal(SequenceNumber.FromInt64(30), checkpoint.FindPartition("0")!.ResumeAfter!.Value.Sequence);
        Assert.False(checkpoint.FindPartition("0")!.IsFinished);
        Assert.True(checkpoint.HasWindowState);
    }

    [Fact]
    public async Task RunAsync_OnePipelinePerPartition_TagsResultsAndKeepsSeparateCheckpoints()
    {
        var store = new InMemoryCheckpointStore();
        var shard0 = Counting(new() { Name = "p", CheckpointStore = store, Partition = "shard-0" });
        var shard1 = Counting(new() { Name = "p", CheckpointStore = store, Partition = "shard-1" });

        await shard0.Pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2), batchSize: 5), TestContext.Current.CancellationToken);
        await shard1.Pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(3), batchSize: 5), TestContext.Current.CancellationToken);

        Assert.Equal("p/shard-0", shard0.Pipeline.CheckpointName);
        Assert.All(shard0.Sink.FlushedItems, r => Assert.Equal("shard-0", r.Partition));
        Assert.All(shard1.Sink.FlushedItems, r => Assert.Equal("shard-1", r.Partition));
        Assert.Empty(shard0.Sink.FlushedItems.Select(r => r.Id).Intersect(shard1.Sink.FlushedItems.Select(r => r.Id)));
        Assert.Null(await store.LoadAsync("p", TestContext.Current.CancellationToken));
        var first = (await store.LoadAsync("p/shard-0", TestContext.Current.CancellationToken))!;
        var second = (await store.LoadAsync("p/shard-1", TestContext.Current.CancellationToken))!;
        Assert.Equal(SequenceNumber.FromInt64(20), Assert.Single(first.Partitions).ResumeAfter!.Value.Sequence);
        Assert.Equal(SequenceNumber.FromInt64(30), Assert.Single(second.Partitions).ResumeAfter!.Value.Sequence);
    }

    [Theory]
    [InlineData(WindowStateMode.Always)]
    [InlineData(WindowStateMode.Never)]
    public async Task RunAsync_ResumedFromCheckpointAfterStop_EndsWithTheSameTableAsOneRun(WindowStateMode state)
    {
        var events = Minutes(6).ToArray();
        var oneRun = Counting(new() { Name = "p" });
        await oneRun.Pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(events, batchSize: 4), TestContext.Current.CancellationToken);

        var store = new InMemoryCheckpointStore();
        var table = new Dictionary<string, long>();
        using (var stop = new CancellationTokenSource())
        {
            var first = Counting(new() { Name = "p", CheckpointStore = store, WindowState = state });
            await first.Pipeline.RunAsync(new EndlessSource(events[..33], afterLastBatch: stop), stop.Token);
            foreach (var r in first.Sink.FlushedItems)
            {
                table[r.Id] = r.Value;
            }
        }

        var second = Counting(new() { Name = "p", CheckpointStore = store, WindowState = state });
        await second.Pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(events, batchSize: 4), TestContext.Current.CancellationToken);
        foreach (var r in second.Sink.FlushedItems)
        {
            Assert.False(table.TryGetValue(r.Id, out long before) && before > r.Value, $"{r.Id} went from {before} back to {r.Value}");
            table[r.Id] = r.Value;
        }

        Assert.Equal(oneRun.Sink.Items.ToDictionary(r => r.Id, r => r.Value), table);
        var stats = second.Pipeline.Statistics;
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.RecordsReplayed);
        Assert.Equal(events.Length - 33, stats.RecordsAccepted);
    }

    [Fact]
    public async Task RunAsync_SlowSink_HoldsTheSourceBack()
    {
        var gate = new SemaphoreSlim(0);
        var slow = Sinks.Callback<WindowResult<int, long>>(async (_, ct) => await gate.WaitAsync(ct));
        var (pipeline, _) = Counting(new() { Name = "p", ChannelCapacity = 1 }, slow);
        var source = new CountingSource(Enumerable.Range(0, 1000).Select(i => new TestEvent(1, i * 60L, 1)).ToArray());

        var run = pipeline.RunAsync(source, TestContext.Current.CancellationToken);

        // Wait until the source stops reading (no new batch for 300 ms): it must stop far before its end. What the stages
        // may hold bounds it: a batch in the source channel, and results of up to 64 batches in each of the chunk being
        // filled, the sink channel and the stuck sink stage (the processing stage drains up to 64 batches per chunk).
        int seen = -1;
        for (int i = 0; i < 200 && (source.BatchesRead == 0 || source.BatchesRead != seen); i++)
        {
            seen = source.BatchesRead;
            await Task.Delay(300, TestContext.Current.CancellationToken);
        }

        Assert.InRange(source.BatchesRead, 1, (3 * 64) + 2);
        gate.Release(10_000);
        await run;
        Assert.Equal(1000, source.BatchesRead);
    }

    [Fact]
    public async Task RunAsync_SinkFails_StopsWithItsErrorAndDoesNotCheckpoint()
    {
        var store = new InMemoryCheckpointStore();
        var failing = Sinks.Callback<WindowResult<int, long>>((_, _) => throw new IOException("disk full"));
        var (pipeline, _) = Counting(new() { Name = "p", CheckpointStore = store }, failing);

        var error = await Assert.ThrowsAsync<IOException>(() => pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(3)), TestContext.Current.CancellationToken));

        Assert.Equal("disk full", error.Message);
        Assert.Null(await store.LoadAsync("p", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task RunAsync_SourceFails_DeliversWhatWasReadThenRethrows()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, sink) = Counting(new() { Name = "p", CheckpointStore = store });

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => pipeline.RunAsync(new FailingSource([.. Minutes(3)]), TestContext.Current.CancellationToken));

        Assert.Equal("shard gone", error.Message);
        Assert.Equal(6, sink.FlushedItems.Count);
        var checkpoint = (await store.LoadAsync("p", TestContext.Current.CancellationToken))!;
        Assert.Equal(SequenceNumber.FromInt64(30), checkpoint.FindPartition("0")!.ResumeAfter!.Value.Sequence);
        Assert.True(checkpoint.HasWindowState);
    }

    [Fact]
    public async Task RunAsync_LateAndDeadLetterSinks_ReceiveEverythingAndCountersAddUp()
    {
        var late = new CollectingSink<LateRecord<TestEvent>>();
        var dead = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<TestEvent>()
            .WithEventTime(e => e.Seconds < 0 ? default : e.Time)
            .KeyBy(e => e.Key)
            .Window(Minute)
            .Aggregate(a => a.Count())
            .To(Sinks.Discard<WindowResult<int, long>>())
            .LateTo(late)
            .DeadLettersTo(dead)
            .Build();
        TestEvent[] events = [new(1, 10, 1), new(1, 200, 1), new(1, 20, 1), new(1, -1, 1), new(1, 210, 1)];

        await pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(events, batchSize: 2), TestContext.Current.CancellationToken);

        Assert.Equal(20, Assert.Single(late.FlushedItems).Event.Seconds);
        Assert.Equal(DeadLetterReason.InvalidEventTime, Assert.Single(dead.FlushedItems).Reason);
        var stats = pipeline.Statistics;
        Assert.Equal(5, stats.RecordsIn);
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.LateRecords + stats.DeadLetters + stats.RecordsReplayed);
    }

    [Fact]
    public void Sinks_DrivenByAHost_AreTheConfiguredOnesInOrder()
    {
        var store = new InMemoryCheckpointStore();
        var second = new CollectingSink<WindowResult<int, long>>();
        var (pipeline, first) = Counting(new() { Name = "p", CheckpointStore = store }, second);

        Assert.Equal([first, second], pipeline.Sinks);
        Assert.Null(pipeline.LateSink);
        Assert.Null(pipeline.DeadLetterSink);
        Assert.Same(store, pipeline.CheckpointStore);
    }

    [Fact]
    public async Task RunAsync_WhileRunning_RefusesASecondRun()
    {
        using var stop = new CancellationTokenSource();
        var (pipeline, _) = Counting(new() { Name = "p" });
        var run = pipeline.RunAsync(new EndlessSource([], afterLastBatch: null), stop.Token);

        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RunAsync(new EndlessSource([], null), TestContext.Current.CancellationToken));

        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public void Build_WithoutTime_SaysToChooseOne()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StreamPipeline.Create<TestEvent>().KeyBy(e => e.Key).Window(Minute).Aggregate(a => a.Count()).To(Sinks.Discard<WindowResult<int, long>>()).Build());
        Assert.Contains("WithEventTime", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithoutSink_SaysToAddOne()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StreamPipeline.Create<TestEvent>().WithProcessingTime().Window(Minute).Aggregate(a => a.Count()).Build());
        Assert.Contains("To(sink)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("slide")]
    [InlineData("lateness")]
    [InlineData("size")]
    [InlineData("capacity")]
    [InlineData("name")]
    public void Build_InvalidSetting_FailsWhenBuiltNotWhenRun(string setting)
    {
        var options = new StreamPipelineOptions { ChannelCapacity = setting == "capacity" ? 0 : 16, Name = setting == "name" ? " " : "p" };
        var window = setting switch
        {
            "slide" => WindowSpec.Sliding(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)),
            "size" => WindowSpec.Tumbling(TimeSpan.Zero),
            _ => Minute,
        };
        var builder = StreamPipeline.Create<TestEvent>(options).WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(window)
            .AllowedLateness(setting == "lateness" ? TimeSpan.FromSeconds(-1) : TimeSpan.Zero)
            .Aggregate(a => a.Count()).To(Sinks.Discard<WindowResult<int, long>>());

        var error = Assert.ThrowsAny<ArgumentException>(builder.Build);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task RunAsync_SinkFailsInTheMiddleOfACheckpointFlush_RestartEndsWithTheUninterruptedTable(int failingFlush)
    {
        // Three partitions, each with its own backlog, out of order within 5 s; checkpoints every 50 ms of the real clock.
        var random = new Random(failingFlush);
        var batches = new List<RecordBatch<TestEvent>>();
        for (int b = 0; b < 40; b++)
        {
            for (int p = 0; p < 3; p++)
            {
                var records = Enumerable.Range(0, 5).Select(i => new StreamRecord<TestEvent>(
                    new TestEvent(random.Next(4), 1 + (b * 3) + random.Next(0, 5), 1), SequenceNumber.FromInt64((b * 5) + i + 1))).ToArray();
                batches.Add(new RecordBatch<TestEvent>($"p{p}", records, isEndOfPartition: b == 39));
            }
        }

        var expected = new VersionedTable();
        await Pipeline(expected, store: null, failOnFlush: 0).RunAsync(new InMemorySource<TestEvent>(batches), TestContext.Current.CancellationToken);

        var store = new InMemoryCheckpointStore();
        var actual = new VersionedTable();
        await Assert.ThrowsAsync<IOException>(() => Pipeline(actual, store, failingFlush).RunAsync(new SlowSource<TestEvent>(batches), TestContext.Current.CancellationToken));
        var restarted = Pipeline(actual, store, failOnFlush: 0);
        await restarted.RunAsync(new InMemorySource<TestEvent>(batches), TestContext.Current.CancellationToken);

        Assert.Equal(expected.Rows, actual.Rows);
        var stats = restarted.Statistics;
        Assert.Equal(failingFlush > 1, stats.RestoredFrom is not null);
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.LateRecords + stats.DeadLetters + stats.RecordsReplayed);

        static StreamPipeline<TestEvent, int, long> Pipeline(VersionedTable table, ICheckpointStore? store, int failOnFlush)
            => StreamPipeline.Create<TestEvent>(new() { Name = "p", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(50) })
                .WithEventTime(e => e.Time, maxOutOfOrderness: TimeSpan.FromSeconds(5))
                .KeyBy(e => e.Key)
                .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(10)))
                .AllowedLateness(TimeSpan.FromSeconds(10))
                .Emit(EmitMode.OnUpdate)
                .Aggregate(a => a.Count())
                .To(new FailingFlushSink<WindowResult<int, long>>(table.Write, failOnFlush))
                .Build();
    }

    [Fact]
    public async Task RunAsync_StoreWithASourceThatCannotResume_IsRefusedUnlessAllowed()
    {
        var (pipeline, _) = Counting(new() { Name = "p", CheckpointStore = new InMemoryCheckpointStore() });
        var source = new CountingSource([new TestEvent(1, 1, 1)], canResume: false);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RunAsync(source, TestContext.Current.CancellationToken));
        Assert.Contains("AllowNonResumableSource", error.Message, StringComparison.Ordinal);

        var (allowed, sink) = Counting(new() { Name = "p", CheckpointStore = new InMemoryCheckpointStore(), AllowNonResumableSource = true });
        await allowed.RunAsync(source, TestContext.Current.CancellationToken);
        Assert.Single(sink.FlushedItems);
    }

    [Fact]
    public async Task RunAsync_FinalFlushSlowerThanShutdownTimeout_ThrowsTimeoutNotCancellation()
    {
        var stuck = new StuckFlushSink();
        var (pipeline, _) = Counting(new() { Name = "p", ShutdownTimeout = TimeSpan.FromMilliseconds(200) }, stuck);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(1)), TestContext.Current.CancellationToken));

        Assert.Contains("ShutdownTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ListeningSink_IsRestoredThenToldOfEachSavedCheckpoint()
    {
        var store = new InMemoryCheckpointStore();
        var listener = new ListeningSink();
        var (pipeline, _) = Counting(new() { Name = "p", CheckpointStore = store, CheckpointInterval = TimeSpan.FromHours(1) }, listener);
        await pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2)), TestContext.Current.CancellationToken);

        var (again, _) = Counting(new() { Name = "p", CheckpointStore = store, CheckpointInterval = TimeSpan.FromHours(1) }, listener);
        await again.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2)), TestContext.Current.CancellationToken);

        Assert.Equal(["restore p 0 fence 0", "flush", "completed 1", "restore p 1 fence 0", "flush"], listener.Calls);
        Assert.Equal(0, again.Statistics.RecordsIn);
        Assert.Equal(0, again.Statistics.ResultsOut);
    }

    [Fact]
    public async Task RunAsync_StoreThatClaimsWithAFence_ListenersAreRestoredWithItsToken()
    {
        var inner = new InMemoryCheckpointStore();
        var listener = new ListeningSink();
        var (first, _) = Counting(new() { Name = "p", CheckpointStore = new ClaimingStore(inner, 3), CheckpointInterval = TimeSpan.FromHours(1) }, listener);
        await first.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2)), TestContext.Current.CancellationToken);

        // The next owner claims with a higher token; its listeners learn it, with the checkpoint it resumes from.
        var (next, _) = Counting(new() { Name = "p", CheckpointStore = new ClaimingStore(inner, 8), CheckpointInterval = TimeSpan.FromHours(1) }, listener);
        await next.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2)), TestContext.Current.CancellationToken);

        Assert.Equal(["restore p 0 fence 3", "flush", "completed 1", "restore p 1 fence 8", "flush"], listener.Calls);
    }

    [Fact]
    public async Task RunAsync_StoreRefusesTheCheckpointAsTakenOver_ListenersUndoItAndTheRefusalStopsThePipeline()
    {
        var listener = new ListeningSink();
        var store = new RefusingStore(new CheckpointFencedException("p", 1, 2));
        var (pipeline, _) = Counting(new() { Name = "p", CheckpointStore = store, CheckpointInterval = TimeSpan.FromHours(1) }, listener);

        await Assert.ThrowsAsync<CheckpointFencedException>(() => pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2)), TestContext.Current.CancellationToken));

        Assert.Equal(["restore p 0 fence 0", "flush", "refused 1"], listener.Calls);
    }

    [Fact]
    public async Task RunAsync_StoreFailsWithAFencingCause_ListenersUndoItAndTheStoresExceptionIsKept()
    {
        // A lease worker's store reports a lost lease as its own exception, with the refusal as its cause.
        var listener = new ListeningSink();
        var lost = new InvalidOperationException("lease lost", new CheckpointFencedException("no longer the owner"));
        var (pipeline, _) = Counting(new() { Name = "p", CheckpointStore = new RefusingStore(lost), CheckpointInterval = TimeSpan.FromHours(1) }, listener);

        Assert.Same(lost, await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2)), TestContext.Current.CancellationToken)));
        Assert.Equal(["restore p 0 fence 0", "flush", "refused 1"], listener.Calls);
    }

    [Fact]
    public async Task RunAsync_StoreFailsOtherwise_ListenersAreNotToldOfARefusal()
    {
        // A save that failed for another reason (a timeout, a network error) may still have been stored: nothing is undone.
        var listener = new ListeningSink();
        var (pipeline, _) = Counting(new() { Name = "p", CheckpointStore = new RefusingStore(new IOException("timed out")), CheckpointInterval = TimeSpan.FromHours(1) }, listener);

        await Assert.ThrowsAsync<IOException>(() => pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(Minutes(2)), TestContext.Current.CancellationToken));
        Assert.Equal(["restore p 0 fence 0", "flush"], listener.Calls);
    }

    /// <summary>A store whose saves fail with a given exception.</summary>
    private sealed class RefusingStore(Exception failure) : ICheckpointStore
    {
        public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken) => ValueTask.FromResult<PipelineCheckpoint?>(null);

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.FromException(failure);
    }

    /// <summary>A store of one pipeline that claims its checkpoint with a fixed token on load, as a lease worker's store does with its lease's.</summary>
    private sealed class ClaimingStore(InMemoryCheckpointStore inner, long fence) : ICheckpointStore
    {
        public long ClaimedFence { get; private set; }

        public async ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
        {
            var checkpoint = await inner.ClaimAsync(pipelineName, fence, cancellationToken);
            ClaimedFence = fence;
            return checkpoint;
        }

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => inner.SaveAsync(checkpoint, fence, cancellationToken);
    }

    /// <summary>Yields its batches (after the context's resume position), then signals and waits until cancelled, like a live stream that has gone quiet.</summary>
    private sealed class EndlessSource(TestEvent[] events, CancellationTokenSource? afterLastBatch) : IEventSource<TestEvent>
    {
        public bool CanResume => true;

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            long resumeAfter = context.GetResumePosition("0")?.Sequence.ToInt64() ?? 0;
            for (int i = 0; i < events.Length; i += 5)
            {
                var records = events.Skip(i).Take(5).Select((e, j) => new StreamRecord<TestEvent>(e, SequenceNumber.FromInt64(i + j + 1)))
                    .Where(r => r.Sequence.ToInt64() > resumeAfter).ToArray();
                if (records.Length > 0)
                {
                    yield return new RecordBatch<TestEvent>("0", records);
                }
            }

            await Task.Delay(200, cancellationToken);
            if (afterLastBatch is not null)
            {
                await afterLastBatch.CancelAsync();
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private sealed class FailingSource(TestEvent[] events) : IEventSource<TestEvent>
    {
        public bool CanResume => true;

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in InMemorySource<TestEvent>.FromEvents(events, batchSize: 5).ReadBatchesAsync(context, cancellationToken))
            {
                if (batch.IsEndOfPartition)
                {
                    throw new InvalidDataException("shard gone");
                }

                yield return batch;
            }
        }
    }

    private sealed class CountingSource(TestEvent[] events, bool canResume = true) : IEventSource<TestEvent>
    {
        private int _read;

        public bool CanResume => canResume;

        public int BatchesRead => Volatile.Read(ref _read);

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (int i = 0; i < events.Length; i++)
            {
                Interlocked.Increment(ref _read);
                yield return new RecordBatch<TestEvent>("0", new[] { new StreamRecord<TestEvent>(events[i], SequenceNumber.FromInt64(i + 1)) });
                await Task.Yield();
            }
        }
    }

    /// <summary>Rows by result identity, as a sink that writes by identity and version holds them; shared across restarts.</summary>
    private sealed class VersionedTable
    {
        private readonly Dictionary<string, (long Value, long Version)> _rows = [];

        public SortedDictionary<string, long> Rows => new(_rows.ToDictionary(p => p.Key, p => p.Value.Value), StringComparer.Ordinal);

        public void Write(WindowResult<int, long> result)
        {
            lock (_rows)
            {
                if (!_rows.TryGetValue(result.Id, out var stored) || stored.Version <= result.RecordCount)
                {
                    _rows[result.Id] = (result.Value, result.RecordCount);
                }
            }
        }
    }

    private sealed class StuckFlushSink : ISink<WindowResult<int, long>>
    {
        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<int, long>> items, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask FlushAsync(CancellationToken cancellationToken) => await Task.Delay(Timeout.Infinite, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ListeningSink : ISink<WindowResult<int, long>>, ICheckpointListener
    {
        public List<string> Calls { get; } = [];

        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<int, long>> items, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            Calls.Add("flush");
            return ValueTask.CompletedTask;
        }

        public ValueTask RestoreAsync(string pipelineName, long checkpointId, CancellationToken cancellationToken)
            => throw new InvalidOperationException("The pipeline restores its listeners with the fencing token.");

        public ValueTask RestoreAsync(string pipelineName, long checkpointId, long fence, CancellationToken cancellationToken)
        {
            Calls.Add($"restore {pipelineName} {checkpointId} fence {fence}");
            return ValueTask.CompletedTask;
        }

        public ValueTask CheckpointCompletedAsync(long checkpointId, CancellationToken cancellationToken)
        {
            Calls.Add($"completed {checkpointId}");
            return ValueTask.CompletedTask;
        }

        public ValueTask CheckpointRefusedAsync(long checkpointId, CancellationToken cancellationToken)
        {
            Calls.Add($"refused {checkpointId}");
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
