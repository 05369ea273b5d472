using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

/// <summary><c>SelectMany</c> in front of the windows: each record becomes zero or more events, counted once across restarts.</summary>
public sealed class SelectManyTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SelectMany_OrdersIntoLines_EveryLineCountsOnceInTheWindowOfItsOrder()
    {
        var orders = Orders(count: 400, seed: 1);
        var sink = new CollectingSink<WindowResult<string, (long Count, long Quantity)>>();
        var pipeline = StreamPipeline.Create<Order>(new() { Name = "lines" })
            .WithEventTime(o => TestEvent.At(o.Seconds), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .Where(o => o.Id % 5 != 0)
            .SelectMany(o => (o.Id % 3) switch
            {
                0 => o.Lines,                       // an array
                1 => o.Lines?.ToList(),             // a list
                _ => o.Lines?.Where(_ => true),     // any other sequence
            })
            .Where(l => l.Quantity > 0)
            .KeyBy(l => l.Product)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count().And(a.Sum(l => (long)l.Quantity)))
            .To(sink)
            .Build();

        await pipeline.RunAsync(InMemorySource<Order>.FromEvents(orders, "p", batchSize: 23), Token);

        var kept = orders.Where(o => o.Id % 5 != 0).ToArray();
        var lines = kept.SelectMany(o => (o.Lines ?? []).Select(l => (Order: o, Line: l))).ToArray();
        var expected = lines
            .Where(x => x.Line.Quantity > 0)
            .GroupBy(x => (x.Line.Product, Start: x.Order.Seconds / 10 * 10))
            .Select(g => $"{g.Key.Product} {TestEvent.At(g.Key.Start):O} {g.Count()} {g.Sum(x => x.Line.Quantity)}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, sink.Items.Select(r => $"{r.Key} {r.Window.Start:O} {r.Value.Count} {r.Value.Quantity}").Order(StringComparer.Ordinal));

        // Counts are of items; a record that yields no item counts as filtered.
        var stats = pipeline.Statistics;
        int noItems = orders.Length - kept.Length + kept.Count(o => o.Lines is null or { Length: 0 });
        Assert.True(noItems > 20, $"Only {noItems} orders yield no line.");
        Assert.Equal(lines.Count(x => x.Line.Quantity > 0), stats.RecordsAccepted);
        Assert.Equal(noItems + lines.Count(x => x.Line.Quantity == 0), stats.RecordsFiltered);
        Assert.Equal(0, stats.DeadLetters);
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.RecordsFiltered);
    }

    [Fact]
    public async Task SelectMany_ItemsWithTheirOwnTime_LateAndInvalidItemsReachTheirOutputsWithTheirRecord()
    {
        var onTime = new Order(1, 100, [new("a", 1, 100), new("b", 1, 101)]);
        var mixed = new Order(2, 105, [new("a", 1, 10), new("b", 1, 11), new("a", 1, 105), new("c", 1, 0)]);
        var results = new CollectingSink<WindowResult<string, long>>();
        var late = new CollectingSink<LateRecord<Order>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<Order>(new() { Name = "own-time" })
            .SelectMany(o => o.Lines)
            .WithEventTime(l => TestEvent.At(l.Seconds))
            .KeyBy(l => l.Product)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count())
            .To(results)
            .LateTo(late)
            .DeadLettersTo(deadLetters)
            .Build();

        await pipeline.RunAsync(
            new InMemorySource<Order>(
            [
                new RecordBatch<Order>("p", new[] { new StreamRecord<Order>(onTime, SequenceNumber.FromInt64(1)) }),
                new RecordBatch<Order>("p", new[] { new StreamRecord<Order>(mixed, SequenceNumber.FromInt64(2)) }, isEndOfPartition: true),
            ]),
            Token);

        Assert.Equal(["a 100 2", "b 100 1"], results.Items.Select(r => $"{r.Key} {r.Window.Start.ToUnixTimeSeconds()} {r.Value}").Order(StringComparer.Ordinal));

        // Two late lines of one order: the order reaches the late output once; the statistics count both lines.
        var lateOrder = Assert.Single(late.Items);
        Assert.Same(mixed, lateOrder.Event);
        Assert.Equal(new StreamPosition("p", SequenceNumber.FromInt64(2)), lateOrder.Position);
        Assert.Equal(2, pipeline.Statistics.LateRecords);

        var deadLetter = Assert.Single(deadLetters.Items);
        Assert.Equal(DeadLetterReason.InvalidEventTime, deadLetter.Reason);
        Assert.Equal(new StreamPosition("p", SequenceNumber.FromInt64(2)), deadLetter.Position);
    }

    [Fact]
    public async Task SelectMany_Twice_ExpandsTheItemsOfTheItems()
    {
        var orders = Orders(count: 200, seed: 2);
        var sink = new CollectingSink<WindowResult<string, long>>();
        await StreamPipeline.Create<Order>(new() { Name = "units" })
            .WithEventTime(o => TestEvent.At(o.Seconds), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .SelectMany(o => o.Lines)
            .SelectMany(l => Enumerable.Repeat(l.Product, l.Quantity))
            .KeyBy(product => product)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count())
            .To(sink)
            .Build()
            .RunAsync(InMemorySource<Order>.FromEvents(orders, "p", batchSize: 17), Token);

        var expected = orders
            .SelectMany(o => (o.Lines ?? []).Select(l => (Start: o.Seconds / 10 * 10, l.Product, l.Quantity)))
            .GroupBy(x => (x.Product, x.Start))
            .Where(g => g.Sum(x => x.Quantity) > 0)
            .Select(g => $"{g.Key.Product} {g.Key.Start} {g.Sum(x => x.Quantity)}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, sink.Items.Select(r => $"{r.Key} {r.Window.Start.ToUnixTimeSeconds()} {r.Value}").Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(WindowStateMode.Always, 1)]
    [InlineData(WindowStateMode.Always, 2)]
    [InlineData(WindowStateMode.Always, 4)]
    [InlineData(WindowStateMode.Never, 2)]
    [InlineData(WindowStateMode.Never, 4)]
    public async Task SelectMany_SinkFailsInTheMiddleOfACheckpointFlush_RestartEndsWithTheTableOfOneRun(WindowStateMode state, int failingFlush)
    {
        var batches = Batches(partitions: 3, batchesPerPartition: 40, seed: failingFlush);
        var expected = new ResultTable<string, long>();
        await Pipeline(expected, store: null, failOnFlush: 0).RunAsync(new InMemorySource<Order>(batches), Token);

        var store = new InMemoryCheckpointStore();
        var actual = new ResultTable<string, long>();
        await Assert.ThrowsAsync<IOException>(() => Pipeline(actual, store, failingFlush).RunAsync(new SlowSource<Order>(batches), Token));
        var restarted = Pipeline(actual, store, failOnFlush: 0);
        await restarted.RunAsync(new InMemorySource<Order>(batches), Token);

        Assert.True(expected.Rows.Count > 50, $"Only {expected.Rows.Count} windows.");
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(failingFlush > 1, restarted.Statistics.RestoredFrom is not null);

        StreamPipeline<Order, string, long> Pipeline(ResultTable<string, long> table, ICheckpointStore? store, int failOnFlush)
            => QuantityPerProduct("lines", TimeSpan.FromMilliseconds(50), state, store, new FailingFlushSink<WindowResult<string, long>>(table.Write, failOnFlush));
    }

    [Theory]
    [InlineData(WindowStateMode.Always)]
    [InlineData(WindowStateMode.Never)]
    public async Task SelectMany_StoppedMidStreamAndResumed_EndsWithTheTableOfOneRun(WindowStateMode state)
    {
        var batches = Batches(partitions: 3, batchesPerPartition: 40, seed: 9);
        var oneRun = new ResultTable<string, long>();
        await Pipeline(oneRun, store: null).RunAsync(new InMemorySource<Order>(batches), Token);

        // The first run is stopped after 50 of the 120 batches (three partitions interleaved); the second resumes.
        var store = new InMemoryCheckpointStore();
        var table = new ResultTable<string, long>();
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(Token))
        {
            await Pipeline(table, store).RunAsync(new StoppingSource<Order>(batches, stopAfter: 50, stop), stop.Token);
        }

        var resumed = Pipeline(table, store);
        await resumed.RunAsync(new InMemorySource<Order>(batches), Token);

        Assert.NotNull(resumed.Statistics.RestoredFrom);
        Assert.True(oneRun.Rows.Count > 50, $"Only {oneRun.Rows.Count} windows.");
        Assert.Equal(oneRun.Rows, table.Rows);

        StreamPipeline<Order, string, long> Pipeline(ResultTable<string, long> rows, ICheckpointStore? store)
            => QuantityPerProduct("lines-stop", TimeSpan.FromMilliseconds(10), state, store, Sinks.Callback<WindowResult<string, long>>((results, _) =>
            {
                foreach (var r in results.Span)
                {
                    rows.Write(r);
                }

                return ValueTask.CompletedTask;
            }));
    }

    [Theory]
    [InlineData(WindowStateMode.Always)]
    [InlineData(WindowStateMode.Never)]
    public void SelectMany_RecordsARestoredCheckpointCovers_CountAsReplayedEvenWithoutItems(WindowStateMode state)
    {
        var pipeline = QuantityPerProduct("replayed", TimeSpan.FromMinutes(1), state, null, new CollectingSink<WindowResult<string, long>>());
        Order[] orders = [new(1, 10, [new("tea", 1, 0), new("cake", 2, 0)]), new(2, 11, null), new(3, 12, []), new(4, 13, [new("tea", 3, 0)])];
        var batch = new RecordBatch<Order>("p", orders.Select((o, i) => new StreamRecord<Order>(o, SequenceNumber.FromInt64(i + 1))).ToArray());
        var first = new PipelineTestDriver<Order, string, long>(pipeline);
        var original = first.Push(batch);
        var checkpoint = PipelineCheckpoint.Parse(first.CreateCheckpoint().ToBytes());

        // The same batch again after the restore, as a source that resumes before it delivers it: all of it is covered.
        var second = new PipelineTestDriver<Order, string, long>(pipeline, new FakeTimeProvider(first.Time.GetUtcNow()), checkpoint);
        var replay = second.Push(batch);

        Assert.Equal((3, 2), (original.Accepted, original.Filtered));
        Assert.Equal(original.Records, replay.Replayed);
        Assert.Equal((0, 0, 0, 0), (replay.Accepted, replay.Filtered, replay.Late, replay.DeadLetters));
    }

    [Fact]
    public void SelectMany_ThenPerEvent_IsRefusedWithTheReason()
    {
        var builder = StreamPipeline.Create<Order>().WithEventTime(o => TestEvent.At(o.Seconds)).SelectMany(o => o.Lines);

        var error = Assert.Throws<InvalidOperationException>(() => builder.PerEvent());

        Assert.Contains("SelectMany", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The quantity per product per 10-second window, over the lines of the orders, checkpointed to <paramref name="store"/>.</summary>
    private static StreamPipeline<Order, string, long> QuantityPerProduct(string name, TimeSpan checkpointInterval, WindowStateMode state, ICheckpointStore? store, ISink<WindowResult<string, long>> sink)
        => StreamPipeline.Create<Order>(new() { Name = name, CheckpointStore = store, CheckpointInterval = checkpointInterval, WindowState = state })
            .WithEventTime(o => TestEvent.At(o.Seconds), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .SelectMany(o => o.Lines)
            .KeyBy(l => l.Product)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Sum(l => (long)l.Quantity))
            .To(sink)
            .Build();

    /// <summary>Orders with 0 to 4 lines (some without lines at all), times growing with small disorder.</summary>
    private static Order[] Orders(int count, int seed)
    {
        var random = new Random(seed);
        string[] products = ["tea", "coffee", "cake", "soup", "bread"];
        return
        [
            .. Enumerable.Range(0, count).Select(i => new Order(
                i,
                1 + (i / 4) + random.Next(3),
                random.Next(8) == 0 ? null : [.. Enumerable.Range(0, random.Next(5)).Select(_ => new Line(products[random.Next(products.Length)], random.Next(4), 0))])),
        ];
    }

    private static RecordBatch<Order>[] Batches(int partitions, int batchesPerPartition, int seed)
        => InterleavedBatches.Of(Orders(partitions * batchesPerPartition * 5, seed), partitions, batchesPerPartition);

    /// <summary>An order: a reference type holding its lines.</summary>
    private sealed record Order(int Id, long Seconds, Line[]? Lines);

    /// <summary>A line of an order, with a time of its own for the tests that read it.</summary>
    private readonly record struct Line(string Product, int Quantity, long Seconds);
}
