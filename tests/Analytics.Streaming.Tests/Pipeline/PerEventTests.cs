using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

/// <summary>Pipelines without windows (<c>PerEvent()</c>): each kept event is a result with a deterministic identity.</summary>
public sealed class PerEventTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PerEvent_FilterAndMap_EmitsEachKeptEventOnceWithItsPositionAndTime()
    {
        var batches = Batches(partitions: 3, batchesPerPartition: 4, seed: 1);
        var sink = new CollectingSink<WindowResult<StreamPosition, long>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<TestEvent>(new() { Name = "per-event" })
            .WithEventTime(e => e.Time)
            .Where(e => e.Value % 3 != 0)
            .Select(e => e.Value * 10L)
            .PerEvent()
            .To(sink)
            .DeadLettersTo(deadLetters)
            .Build();

        await pipeline.RunAsync(new InMemorySource<TestEvent>(batches), Token);

        var all = batches.SelectMany(b => b.Records.ToArray().Select(r => (Position: new StreamPosition(b.PartitionId, r.Sequence, r.SubSequence), r.Value))).ToArray();
        var kept = all.Where(r => r.Value.Value % 3 != 0 && r.Value.Seconds > 0).ToArray();
        Assert.Equal(kept.Select(r => r.Position).Order(), sink.Items.Select(r => r.Key).Order());
        foreach (var result in sink.Items)
        {
            var source = kept.Single(r => r.Position == result.Key).Value;
            Assert.Equal(source.Value * 10, result.Value);
            Assert.Equal(source.Time, result.Window.Start);
            Assert.Equal(1, result.RecordCount);
        }

        Assert.Equal(sink.Items.Count, sink.Items.Select(r => r.Id).Distinct().Count());
        var invalid = all.Where(r => r.Value.Value % 3 != 0 && r.Value.Seconds == 0).Select(r => r.Position).Order().ToArray();
        Assert.NotEmpty(invalid);
        Assert.Equal(invalid, deadLetters.Items.Select(d => d.Position).Order());
        Assert.All(deadLetters.Items, d => Assert.Equal(DeadLetterReason.InvalidEventTime, d.Reason));
        var stats = pipeline.Statistics;
        Assert.Equal(all.Count(r => r.Value.Value % 3 == 0), stats.RecordsFiltered);
        Assert.Equal(0, stats.LateRecords);
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.DeadLetters + stats.RecordsFiltered);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task PerEvent_SinkFailsInTheMiddleOfACheckpointFlush_RestartHoldsEveryKeptEventOnceById(int failingFlush)
    {
        var batches = Batches(partitions: 3, batchesPerPartition: 40, seed: failingFlush);
        var expected = new ResultTable<StreamPosition, int>();
        await Pipeline(expected, store: null, failOnFlush: 0).RunAsync(new InMemorySource<TestEvent>(batches), Token);

        var store = new InMemoryCheckpointStore();
        var actual = new ResultTable<StreamPosition, int>();
        await Assert.ThrowsAsync<IOException>(() => Pipeline(actual, store, failingFlush).RunAsync(new SlowSource<TestEvent>(batches), Token));
        var restarted = Pipeline(actual, store, failOnFlush: 0);
        await restarted.RunAsync(new InMemorySource<TestEvent>(batches), Token);

        Assert.NotEmpty(expected.Rows);
        Assert.Equal(expected.Rows, actual.Rows);
        var stats = restarted.Statistics;
        Assert.Equal(failingFlush > 1, stats.RestoredFrom is not null);
        if (stats.RestoredFrom is not null)
        {
            // The restart resumed after the checkpoint instead of processing everything again.
            Assert.True(stats.RecordsAccepted < expected.Rows.Count, $"The restart processed {stats.RecordsAccepted} of {expected.Rows.Count} records again.");
        }

        static StreamPipeline<TestEvent, StreamPosition, int> Pipeline(ResultTable<StreamPosition, int> table, ICheckpointStore? store, int failOnFlush)
            => StreamPipeline.Create<TestEvent>(new() { Name = "per-event", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(50) })
                .WithEventTime(e => e.Time, maxOutOfOrderness: TimeSpan.FromSeconds(5))
                .Where(e => e.Value % 3 != 0 && e.Seconds > 0)
                .Select(e => e.Value)
                .PerEvent()
                .To(new FailingFlushSink<WindowResult<StreamPosition, int>>(table.Write, failOnFlush))
                .Build();
    }

    [Fact]
    public async Task PerEvent_WithoutEventTime_StampsProcessingTimeAndResumesAfterARestart()
    {
        var clock = new FakeTimeProvider(TestEvent.At(1_000));
        var store = new InMemoryCheckpointStore();
        var batches = Batches(partitions: 1, batchesPerPartition: 6, seed: 3);
        var first = new CollectingSink<WindowResult<StreamPosition, TestEvent>>();
        await Pipeline(first).RunAsync(new InMemorySource<TestEvent>(batches[..3]), Token);
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = new CollectingSink<WindowResult<StreamPosition, TestEvent>>();
        await Pipeline(second).RunAsync(new InMemorySource<TestEvent>(batches), Token);

        Assert.Equal(15, first.Items.Count);
        Assert.Equal(15, second.Items.Count);
        Assert.All(first.Items, r => Assert.Equal(TestEvent.At(1_000), r.Window.Start));
        Assert.All(second.Items, r => Assert.Equal(TestEvent.At(1_060), r.Window.Start));
        Assert.Empty(first.Items.Select(r => r.Key).Intersect(second.Items.Select(r => r.Key)));

        StreamPipeline<TestEvent, StreamPosition, TestEvent> Pipeline(CollectingSink<WindowResult<StreamPosition, TestEvent>> sink)
            => StreamPipeline.Create<TestEvent>(new() { Name = "stamped", CheckpointStore = store, TimeProvider = clock })
                .PerEvent()
                .To(sink)
                .Build();
    }

    [Fact]
    public void PerEvent_ResultsFeedingWindows_AreRefusedWithTheReason()
    {
        var builder = StreamPipeline.Create<TestEvent>().WithEventTime(e => e.Time).PerEvent();

        var error = Assert.Throws<InvalidOperationException>(() => builder.Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))));

        Assert.Contains("PerEvent()", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Batches of 5 records per partition; every 7th record has time 0 (an invalid event time).</summary>
    private static RecordBatch<TestEvent>[] Batches(int partitions, int batchesPerPartition, int seed)
    {
        var random = new Random(seed);
        var batches = new List<RecordBatch<TestEvent>>();
        int n = 0;
        for (int b = 0; b < batchesPerPartition; b++)
        {
            for (int p = 0; p < partitions; p++)
            {
                var records = Enumerable.Range(0, 5).Select(i => new StreamRecord<TestEvent>(
                    new TestEvent(random.Next(4), ++n % 7 == 0 ? 0 : 1 + (b * 3) + random.Next(0, 5), random.Next(100)), SequenceNumber.FromInt64((b * 5) + i + 1))).ToArray();
                batches.Add(new RecordBatch<TestEvent>($"p{p}", records, isEndOfPartition: b == batchesPerPartition - 1));
            }
        }

        return [.. batches];
    }
}
