using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

public sealed class FanOutTests
{
    private static RecordBatch<TestEvent>[] Batches(int perPartition = 60)
    {
        var random = new Random(4);
        var batches = new List<RecordBatch<TestEvent>>();
        for (int b = 0; b < perPartition / 6; b++)
        {
            foreach (string partition in new[] { "a", "b" })
            {
                var records = Enumerable.Range(0, 6).Select(i => new StreamRecord<TestEvent>(
                    new TestEvent(random.Next(3), 1 + (b * 9) + i, random.Next(1, 9)), SequenceNumber.FromInt64((b * 6) + i + 1))).ToArray();
                batches.Add(new RecordBatch<TestEvent>(partition, records, isEndOfPartition: b == (perPartition / 6) - 1));
            }
        }

        return [.. batches];
    }

    private static (StreamPipeline<TestEvent, int, long> Pipeline, CollectingSink<WindowResult<int, long>> Sink) Counts(string name, ICheckpointStore? store = null, CollectingSink<WindowResult<int, long>>? sink = null, TimeProvider? time = null)
    {
        sink ??= new CollectingSink<WindowResult<int, long>>();
        return (StreamPipeline.Create<TestEvent>(new() { Name = name, CheckpointStore = store, TimeProvider = time ?? TimeProvider.System, CheckpointInterval = TimeSpan.FromMilliseconds(250) })
            .WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(20)))
            .Aggregate(a => a.Count()).To(sink).Build(), sink);
    }

    private static (StreamPipeline<TestEvent, GlobalKey, double> Pipeline, CollectingSink<WindowResult<GlobalKey, double>> Sink) Sums(string name, ICheckpointStore? store = null, CollectingSink<WindowResult<GlobalKey, double>>? sink = null, TimeProvider? time = null)
    {
        sink ??= new CollectingSink<WindowResult<GlobalKey, double>>();
        return (StreamPipeline.Create<TestEvent>(new() { Name = name, CheckpointStore = store, TimeProvider = time ?? TimeProvider.System, CheckpointInterval = TimeSpan.FromMilliseconds(250) })
            .WithEventTime(e => e.Time).Window(WindowSpec.Sliding(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Sum(e => (double)e.Value)).To(sink).Build(), sink);
    }

    private static Dictionary<string, string> Table<TKey, TResult>(CollectingSink<WindowResult<TKey, TResult>> sink)
        => sink.FlushedItems.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.MaxBy(r => r.RecordCount).Value!.ToString()!);

    [Fact]
    public async Task RunAsync_SeveralPipelinesOverOneSource_EachEndsAsIfRunAlone()
    {
        var batches = Batches();
        var counts = Counts("counts");
        var sums = Sums("sums");
        var source = new CountingSource(batches);

        await StreamPipeline.RunAsync(source, [counts.Pipeline, sums.Pipeline], TestContext.Current.CancellationToken);

        var countsAlone = Counts("counts");
        var sumsAlone = Sums("sums");
        await countsAlone.Pipeline.RunAsync(new InMemorySource<TestEvent>(batches), TestContext.Current.CancellationToken);
        await sumsAlone.Pipeline.RunAsync(new InMemorySource<TestEvent>(batches), TestContext.Current.CancellationToken);
        Assert.Equal(Table(countsAlone.Sink), Table(counts.Sink));
        Assert.Equal(Table(sumsAlone.Sink), Table(sums.Sink));
        Assert.Equal(1, source.Reads);
        Assert.Equal(batches.Sum(b => b.Records.Length), counts.Pipeline.Statistics.RecordsAccepted);
    }

    [Fact]
    public async Task RunAsync_OnePipelineAheadOfTheOther_SourceResumesAtTheEarliestAndEachSkipsItsOwnReplays()
    {
        var batches = Batches();
        var store = new InMemoryCheckpointStore();
        var ahead = Counts("counts", store);
        using (var stop = new CancellationTokenSource())
        {
            // Stopped (not ended) after 12 batches: its open windows stay in its checkpoint.
            await ahead.Pipeline.RunAsync(new StopAfter(batches[..12], stop), stop.Token);
        }

        var table = Table(ahead.Sink);

        var counts = Counts("counts", store);
        var sums = Sums("sums", store);
        await StreamPipeline.RunAsync(new InMemorySource<TestEvent>(batches), [counts.Pipeline, sums.Pipeline], TestContext.Current.CancellationToken);

        foreach (var (id, value) in Table(counts.Sink))
        {
            table[id] = value;
        }

        var countsAlone = Counts("counts");
        await countsAlone.Pipeline.RunAsync(new InMemorySource<TestEvent>(batches), TestContext.Current.CancellationToken);
        Assert.Equal(Table(countsAlone.Sink), table);
        Assert.Equal(12 * 6, counts.Pipeline.Statistics.RecordsReplayed);
        Assert.Equal(0, sums.Pipeline.Statistics.RecordsReplayed);
        Assert.Equal(batches.Sum(b => b.Records.Length), sums.Pipeline.Statistics.RecordsAccepted);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    public async Task RunAsync_FanOutCrashesTwiceAndRestarts_EachPipelineEndsWithTheUninterruptedTableAndNeverRewritesAWindow(int firstCrash, int secondCrash)
    {
        // Two partitions, two pipelines, a checkpoint whenever 250 ms have passed (the source moves the clock 250 ms per
        // batch, so the batches it reads ahead of the pipelines stay well within the partitions' idle timeout). A run
        // crashes when the checkpoint store fails on its first or second save (every run saves at least two: each
        // pipeline's last), mid-run or at the end depending on how the stages interleave: the results since the failing
        // pipeline's last saved checkpoint are already in its sink, the other pipeline stops with a checkpoint of its
        // own, and the next run replays from the earlier of the two.
        var batches = Batches(120);
        var saved = new InMemoryCheckpointStore();
        var time = new FakeTimeProvider();
        var countsSink = new CollectingSink<WindowResult<int, long>>();
        var sumsSink = new CollectingSink<WindowResult<GlobalKey, double>>();
        int crashes = 0;
        foreach (int crashAt in new[] { firstCrash, secondCrash, int.MaxValue })
        {
            var store = new FailingAt(saved, crashAt);
            var counts = Counts("counts", store, countsSink, time);
            var sums = Sums("sums", store, sumsSink, time);
            try
            {
                await StreamPipeline.RunAsync(new Ticking(batches, time), [counts.Pipeline, sums.Pipeline], TestContext.Current.CancellationToken);
            }
            catch (IOException e) when (e.Message == "crash")
            {
                crashes++;
            }
        }

        Assert.Equal(2, crashes);
        var countsAlone = Counts("counts");
        var sumsAlone = Sums("sums");
        await countsAlone.Pipeline.RunAsync(new InMemorySource<TestEvent>(batches), TestContext.Current.CancellationToken);
        await sumsAlone.Pipeline.RunAsync(new InMemorySource<TestEvent>(batches), TestContext.Current.CancellationToken);
        Assert.Equal(Table(countsAlone.Sink), Table(countsSink));
        Assert.Equal(Table(sumsAlone.Sink), Table(sumsSink));

        // Every window written across the three runs, replays included, was written with its final value.
        var finalCounts = countsAlone.Sink.FlushedItems.ToDictionary(r => r.Id, r => r.Value);
        Assert.All(countsSink.FlushedItems, r => Assert.Equal(finalCounts[r.Id], r.Value));
        var finalSums = sumsAlone.Sink.FlushedItems.ToDictionary(r => r.Id, r => r.Value);
        Assert.All(sumsSink.FlushedItems, r => Assert.Equal(finalSums[r.Id], r.Value));
    }

    [Fact]
    public async Task RunAsync_OnePipelineFails_TheOthersStopAndTheFailureIsRethrown()
    {
        var failing = StreamPipeline.Create<TestEvent>(new() { Name = "failing" })
            .WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(5)))
            .Aggregate(a => a.Count()).To(Sinks.Callback<WindowResult<int, long>>((_, _) => throw new IOException("sink down"))).Build();
        var counts = Counts("counts");

        var error = await Assert.ThrowsAsync<IOException>(() => StreamPipeline.RunAsync(new InMemorySource<TestEvent>(Batches(600)), [counts.Pipeline, failing], TestContext.Current.CancellationToken));

        Assert.Equal("sink down", error.Message);
    }

    [Fact]
    public async Task RunAsync_TwoPipelinesWithOneName_IsRefused()
        => await Assert.ThrowsAsync<ArgumentException>(() => StreamPipeline.RunAsync(new InMemorySource<TestEvent>([]), [Counts("x").Pipeline, Counts("x").Pipeline], TestContext.Current.CancellationToken));

    private sealed class StopAfter(IReadOnlyList<RecordBatch<TestEvent>> batches, CancellationTokenSource stop) : IEventSource<TestEvent>
    {
        public bool CanResume => true;

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var batch in batches)
            {
                yield return batch;
            }

            await stop.CancelAsync();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    /// <summary>Saves checkpoints in another store until the save numbered <c>failingSave</c>, which fails: the run stops as a crash would stop it.</summary>
    private sealed class FailingAt(ICheckpointStore saved, int failingSave) : ICheckpointStore
    {
        private int _saves;

        public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken) => saved.LoadAsync(pipelineName, cancellationToken);

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken)
            => Interlocked.Increment(ref _saves) == failingSave ? throw new IOException("crash") : saved.SaveAsync(checkpoint, cancellationToken);
    }

    /// <summary>Delivers the batches from the resume positions and moves the clock 250 ms after each.</summary>
    private sealed class Ticking(IReadOnlyList<RecordBatch<TestEvent>> batches, FakeTimeProvider time) : IEventSource<TestEvent>
    {
        public bool CanResume => true;

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in new InMemorySource<TestEvent>(batches).ReadBatchesAsync(context, cancellationToken))
            {
                yield return batch;
                time.Advance(TimeSpan.FromMilliseconds(250));
            }
        }
    }

    private sealed class CountingSource(IReadOnlyList<RecordBatch<TestEvent>> batches) : IEventSource<TestEvent>
    {
        public int Reads { get; private set; }

        public bool CanResume => true;

        public IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, CancellationToken cancellationToken)
        {
            Reads++;
            return new InMemorySource<TestEvent>(batches).ReadBatchesAsync(context, cancellationToken);
        }
    }
}
