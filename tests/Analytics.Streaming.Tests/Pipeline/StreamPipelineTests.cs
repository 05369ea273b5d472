using System.Runtime.CompilerServices;
using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

public sealed class StreamPipelineTests
{
    private static readonly WindowSpec Minute = Windows.Tumbling(TimeSpan.FromMinutes(1));

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
        => Enumerable.Range(0, count * perMinute).Select(i => new TestEvent(i % 3, i * 60L / perMinute, 1));

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
        var checkpoint = store.Snapshot["0"];
        Assert.True(checkpoint.IsPartitionEnd);
        Assert.Equal(SequenceNumber.FromInt64(50), checkpoint.Position.Sequence);
        Assert.False(sink.IsDisposed);
    }

    [Fact]
    public async Task RunAsync_CancelledMidStream_FlushesClosedWindowsAndCheckpointsOnlyWhatTheyCover()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, sink) = Counting(new() { Name = "p", CheckpointStore = store });
        using var stop = new CancellationTokenSource();
        var source = new EndlessSource([.. Minutes(3)], afterLastBatch: stop);

        await pipeline.RunAsync(source, stop.Token);

        Assert.Equal(6, sink.FlushedItems.Count);
        Assert.All(sink.FlushedItems, r => Assert.True(r.Window.End <= TestEvent.At(120)));
        Assert.Equal(SequenceNumber.FromInt64(20), store.Snapshot["0"].Position.Sequence);
        Assert.False(store.Snapshot["0"].IsPartitionEnd);
    }

    [Fact]
    public async Task RunAsync_ResumedFromCheckpointAfterStop_EndsWithTheSameTableAsOneRun()
    {
        var events = Minutes(6).ToArray();
        var oneRun = Counting(new() { Name = "p" });
        await oneRun.Pipeline.RunAsync(InMemorySource<TestEvent>.FromEvents(events, batchSize: 4), TestContext.Current.CancellationToken);

        var store = new InMemoryCheckpointStore();
        var table = new Dictionary<string, long>();
        using (var stop = new CancellationTokenSource())
        {
            var first = Counting(new() { Name = "p", CheckpointStore = store });
            await first.Pipeline.RunAsync(new EndlessSource(events[..33], afterLastBatch: stop), stop.Token);
            foreach (var r in first.Sink.FlushedItems)
            {
                table[r.Id] = r.Value;
            }
        }

        var resumeAfter = store.Snapshot["0"].Position.Sequence.ToInt64();
        var second = Counting(new() { Name = "p", CheckpointStore = store });
        var replay = events.Select((e, i) => new StreamRecord<TestEvent>(e, SequenceNumber.FromInt64(i + 1))).Where(r => r.Sequence.ToInt64() > resumeAfter).ToArray();
        await second.Pipeline.RunAsync(new InMemorySource<TestEvent>([new RecordBatch<TestEvent>("0", replay, isEndOfPartition: true)]), TestContext.Current.CancellationToken);
        foreach (var r in second.Sink.FlushedItems)
        {
            table[r.Id] = r.Value;
        }

        Assert.Equal(oneRun.Sink.Items.ToDictionary(r => r.Id, r => r.Value), table);
    }

    [Fact]
    public async Task RunAsync_SlowSink_HoldsTheSourceBack()
    {
        var gate = new SemaphoreSlim(0);
        var slow = Sinks.Callback<WindowResult<int, long>>(async (_, ct) => await gate.WaitAsync(ct));
        var (pipeline, _) = Counting(new() { Name = "p", ChannelCapacity = 1 }, slow);
        var source = new CountingSource(Enumerable.Range(0, 1000).Select(i => new TestEvent(1, i * 60L, 1)).ToArray());

        var run = pipeline.RunAsync(source, TestContext.Current.CancellationToken);
        for (int i = 0; i < 100 && source.BatchesRead == 0; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        await Task.Delay(300, TestContext.Current.CancellationToken);

        // One batch in each channel, one in each stage: the source cannot run ahead of the stuck sink.
        Assert.InRange(source.BatchesRead, 1, 10);
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
        Assert.Empty(store.Snapshot);
    }

    [Fact]
    public async Task RunAsync_SourceFails_DeliversWhatWasReadThenRethrows()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, sink) = Counting(new() { Name = "p", CheckpointStore = store });

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => pipeline.RunAsync(new FailingSource([.. Minutes(3)]), TestContext.Current.CancellationToken));

        Assert.Equal("shard gone", error.Message);
        Assert.Equal(6, sink.FlushedItems.Count);
        Assert.Equal(SequenceNumber.FromInt64(20), store.Snapshot["0"].Position.Sequence);
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
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.LateRecords + stats.DeadLetters);
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
            "slide" => Windows.Sliding(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)),
            "size" => Windows.Tumbling(TimeSpan.Zero),
            _ => Minute,
        };
        var builder = StreamPipeline.Create<TestEvent>(options).WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(window)
            .AllowedLateness(setting == "lateness" ? TimeSpan.FromSeconds(-1) : TimeSpan.Zero)
            .Aggregate(a => a.Count()).To(Sinks.Discard<WindowResult<int, long>>());

        var error = Assert.ThrowsAny<ArgumentException>(builder.Build);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    /// <summary>Yields its batches, then signals and waits until cancelled, like a live stream that has gone quiet.</summary>
    private sealed class EndlessSource(TestEvent[] events, CancellationTokenSource? afterLastBatch) : IEventSource<TestEvent>
    {
        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (int i = 0; i < events.Length; i += 5)
            {
                var records = events.Skip(i).Take(5).Select((e, j) => new StreamRecord<TestEvent>(e, SequenceNumber.FromInt64(i + j + 1))).ToArray();
                yield return new RecordBatch<TestEvent>("0", records);
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
        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in InMemorySource<TestEvent>.FromEvents(events, batchSize: 5).ReadBatchesAsync(cancellationToken))
            {
                if (batch.IsEndOfPartition)
                {
                    throw new InvalidDataException("shard gone");
                }

                yield return batch;
            }
        }
    }

    private sealed class CountingSource(TestEvent[] events) : IEventSource<TestEvent>
    {
        private int _read;

        public int BatchesRead => Volatile.Read(ref _read);

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (int i = 0; i < events.Length; i++)
            {
                Interlocked.Increment(ref _read);
                yield return new RecordBatch<TestEvent>("0", new[] { new StreamRecord<TestEvent>(events[i], SequenceNumber.FromInt64(i + 1)) });
                await Task.Yield();
            }
        }
    }
}
