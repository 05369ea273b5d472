using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Analytics.Streaming.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

/// <summary>
/// A pipeline that holds its reading back for longer than the idle timeout (a sink that stops, a selector that takes
/// long) does not make its partitions idle: the batches read meanwhile wait in its channels, and when it goes on, they
/// are processed late on the clock, although their partitions were not idle. Each of the first four tests holds a
/// pipeline back, queues records of partition <c>a</c> ahead of one record of <c>b</c>, moves the clock past the idle
/// timeout and lets the pipeline go on. Had the wait counted as idleness, <c>b</c> would have stopped holding the
/// watermark and its record would have been late. The last one mixes such waits at random over three partitions.
/// </summary>
public sealed class HeldBackReadingTests
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RunAsync_SinkStalledLongerThanTheIdleTimeout_TheRecordsQueuedMeanwhileAreNotLate()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var source = new FedSource();
        var gate = new GatedSink();
        var stalled = Counts("stalled", time, gate, channelCapacity: 1);

        var run = stalled.RunAsync(source, ct);
        var context = await source.Context.Task.WaitAsync(ct);
        long open = await StallAsync(source, context, stalled, gate, ct);
        QueueAheadAndBehind(source, open);
        await AdvanceWhileHeldBackAsync(time, source, context, ct);
        gate.Open();
        source.End();
        await run;

        Assert.Equal(0, stalled.Statistics.LateRecords);
        Assert.Equal(2, gate.Count(2, TestEvent.At(open).UtcTicks));
    }

    [Fact]
    public async Task RunAsync_FanOutMemberStalledLongerThanTheIdleTimeout_ItsSiblingIsNotMadeIdleByTheWait()
    {
        // The sibling has a sink that keeps up. While the stalled pipeline's channels are full, the shared source is
        // not read, so the sibling gets no batches: its clock ticks find nothing from either partition for two idle
        // timeouts, and a's queued records reach it before b's.
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var source = new FedSource();
        var gate = new GatedSink();
        var stalled = Counts("stalled", time, gate, channelCapacity: 1);
        var sink = new CollectingSink<WindowResult<int, long>>();
        var sibling = Counts("sibling", time, sink);

        var run = StreamPipeline.RunAsync(source, [sibling, stalled], ct);
        var context = await source.Context.Task.WaitAsync(ct);
        long open = await StallAsync(source, context, stalled, gate, ct);
        long before = sibling.Statistics.RecordsIn;
        QueueAheadAndBehind(source, open);

        // The stalled member's channels take 18 batches; the reader stops at the next, long before b's record.
        await Until(() => sibling.Statistics.RecordsIn >= before + 16, ct);
        await AdvanceWhileHeldBackAsync(time, source, context, ct);
        gate.Open();
        source.End();
        await run;

        Assert.Equal(0, sibling.Statistics.LateRecords);
        Assert.Equal(0, stalled.Statistics.LateRecords);
        long window = TestEvent.At(open).UtcTicks;
        Assert.Single(sink.FlushedItems, r => r.Key == 2 && r.Window.StartTicks == window && r.Value == 2);
        Assert.Equal(2, gate.Count(2, window));
    }

    [Fact]
    public async Task RunAsync_SelectorTakingLongerThanTheIdleTimeout_TheBatchesReadMeanwhileAreNotLate()
    {
        // A slow selector (a remote call, a pause) holds a's batch for two idle timeouts while a's next batch and b's record
        // wait behind it in the input channel: b's record was read long before its batch is processed, and b did not go
        // idle meanwhile.
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var source = new FedSource();
        var slow = new SlowSelector();
        var sink = new CollectingSink<WindowResult<int, long>>();
        var pipeline = Counts("slow", time, sink, slow: slow);

        var run = pipeline.RunAsync(source, ct);
        source.Feed("a", 1, 1);
        source.Feed("b", 2, 2);
        await Until(() => pipeline.Statistics.RecordsIn >= 2, ct);
        source.Feed("a", 1, 25, SlowSelector.Value);
        await slow.Entered.Task.WaitAsync(ct);
        source.Feed("a", 1, 26);
        source.Feed("b", 2, 5);
        await Until(() => source.Handed == 5, ct);
        time.Advance(IdleTimeout * 2);
        slow.Release();
        source.End();
        await run;

        Assert.Equal(0, pipeline.Statistics.LateRecords);
        Assert.Single(sink.FlushedItems, r => r.Key == 2 && r.Window.StartTicks == TestEvent.At(0).UtcTicks && r.Value == 2);
    }

    [Fact]
    public async Task RunAsync_FanOutMemberWithASlowSelector_ItsSiblingIsNotMadeIdleByTheWait()
    {
        // The slow member's channels fill while its selector holds a's batch, and then the shared source is not read: the
        // sibling gets no batches, and its clock ticks find nothing from either partition for two idle timeouts.
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var source = new FedSource();
        var slow = new SlowSelector();
        var slowSink = new CollectingSink<WindowResult<int, long>>();
        var sink = new CollectingSink<WindowResult<int, long>>();
        string name = $"held-{Guid.NewGuid():N}";
        using var heldBack = new MetricCollector<double>(null, StreamingTelemetry.Name, "analytics.streaming.reading.held_back");
        var held = Counts(name, time, slowSink, slow: slow);
        var sibling = Counts("sibling", time, sink);

        var run = StreamPipeline.RunAsync(source, [sibling, held], ct);
        var context = await source.Context.Task.WaitAsync(ct);
        source.Feed("a", 1, 1);
        source.Feed("b", 2, 2);
        await Until(() => held.Statistics.RecordsIn >= 2 && sibling.Statistics.RecordsIn >= 2, ct);
        source.Feed("a", 1, 25, SlowSelector.Value);
        await slow.Entered.Task.WaitAsync(ct);
        for (int i = 0; i < 60; i++)
        {
            source.Feed("a", 1, 26 + i);
        }

        source.Feed("b", 2, 5);

        // The slow member's channels (its input channel and the fan-out's channel to it) take 32 batches, and the
        // pipeline's reader and the fan-out hold one each: the sibling gets those 34 and then nothing. The slow member's
        // reader waits for room by then.
        await Until(() => sibling.Statistics.RecordsIn >= 3 + 34 && context.IsStalled, ct);
        await AdvanceWhileHeldBackAsync(time, source, context, ct);
        slow.Release();
        source.End();
        await run;

        Assert.Equal(0, sibling.Statistics.LateRecords);
        Assert.Equal(0, held.Statistics.LateRecords);
        long window = TestEvent.At(0).UtcTicks;
        Assert.Single(sink.FlushedItems, r => r.Key == 2 && r.Window.StartTicks == window && r.Value == 2);
        Assert.Single(slowSink.FlushedItems, r => r.Key == 2 && r.Window.StartTicks == window && r.Value == 2);
        double heldBackSeconds = heldBack.GetMeasurementSnapshot().Where(m => Equals(m.Tags.GetValueOrDefault("pipeline"), name)).Sum(m => m.Value);
        Assert.InRange(heldBackSeconds, 2 * IdleTimeout.TotalSeconds, double.MaxValue);
    }

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 12)];

    /// <summary>
    /// Three partitions, each fed a record at least every 20 s of the clock (the idle timeout is 30 s), each in event-time
    /// order within the allowed disorder (their event times drift apart, by more than a window): none is ever idle, so no
    /// record may be late and every window must count all of its records, whatever holds the pipeline back meanwhile:
    /// selectors that hold a record for up to three minutes, a sink that takes nothing for as long, in any order and
    /// overlapping. The pipeline's channel holds about a minute of reading. The clock moves a second at a time, each while
    /// the reader has taken every record fed or waits for room.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RunAsync_PartitionsNeverIdleWhileThePipelineIsHeldBack_NoRecordIsLate(int seed)
    {
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(seed);
        var time = new FakeTimeProvider();
        string[] partitions = ["a", "b", "c"];
        var source = new FedSource(partitions);
        var slow = new SlowSelector();
        slow.Release();
        var sink = new GatedSink(open: true);
        var pipeline = StreamPipeline.Create<TestEvent>(new() { Name = "held", TimeProvider = time, ChannelCapacity = 32, TickInterval = TimeSpan.FromSeconds(5) })
            .WithEventTime(e => e.Time, TimeSpan.FromSeconds(2), IdleTimeout).Where(slow.Pass).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(2)))
            .Aggregate(a => a.Count()).To(sink).Build();

        var run = pipeline.RunAsync(source, ct);
        var context = await source.Context.Task.WaitAsync(ct);
        long[] newest = [1_000, 1_000, 1_000];
        var expected = new Dictionary<(int Key, long Start), long>();
        int[] order = [0, 1, 2];
        int slowUntil = -1, sinkUntil = -1;
        for (int step = 0; step < 200; step++)
        {
            if (step % order.Length == 0)
            {
                random.Shuffle(order);
            }

            int p = order[step % order.Length];
            newest[p] += random.Next(0, 4);
            long seconds = newest[p] - random.Next(0, 3);
            bool hold = slowUntil < step && random.Next(15) == 0;
            if (hold)
            {
                slow.Hold();
                slowUntil = step + random.Next(10, 45);
            }

            source.Feed(partitions[p], p + 1, seconds, hold ? SlowSelector.Value : 1);
            long start = TestEvent.At(seconds - (seconds % 2)).UtcTicks;
            expected[(p + 1, start)] = expected.GetValueOrDefault((p + 1, start)) + 1;
            if (step == slowUntil)
            {
                slow.Release();
            }

            if (sinkUntil < step && random.Next(15) == 0)
            {
                sink.Close();
                sinkUntil = step + random.Next(10, 45);
            }
            else if (step == sinkUntil)
            {
                sink.Open();
            }

            for (int second = random.Next(0, 5); second > 0; second--)
            {
                await Until(() => source.Handed == source.Fed || context.IsStalled, ct);
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        slow.Release();
        sink.Open();
        source.End();
        await run;

        Assert.Equal(0, pipeline.Statistics.LateRecords);
        Assert.Equal(expected.OrderBy(e => e.Key), sink.Items.Select(r => KeyValuePair.Create((r.Key, r.Window.StartTicks), r.Value)).OrderBy(e => e.Key));
    }

    private static StreamPipeline<TestEvent, int, long> Counts(string name, TimeProvider time, ISink<WindowResult<int, long>> sink, int channelCapacity = 16, SlowSelector? slow = null)
        => StreamPipeline.Create<TestEvent>(new() { Name = name, TimeProvider = time, ChannelCapacity = channelCapacity })
            .WithEventTime(e => e.Time, idleTimeout: IdleTimeout).Where(e => slow?.Pass(e) ?? true).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count()).To(sink).Build();

    /// <summary>
    /// Feeds pairs of records (key 1 on partition <c>a</c>, key 2 on <c>b</c>), one 10-s window apart, until the pipeline's
    /// reader waits for room while the sink holds results: each pair closes the window of the one before, and the gated
    /// sink takes none of them. No pair is fed after the first result until the sink holds it. A reader a batch ahead of
    /// the processing also waits for room, for a moment, and that may be the wait seen here: the pipeline then goes on
    /// without results to hold it back, and the test checks less than it means to (no record is late either way).
    /// Feeding a pair more to tell the two apart would not do: its record of <c>b</c> would be read after the clock moved.
    /// </summary>
    /// <returns>The start (seconds after <see cref="TestEvent.Epoch"/>) of the window the last pair opened, which is still open.</returns>
    private static async Task<long> StallAsync(FedSource source, SourceContext context, StreamPipeline<TestEvent, int, long> pipeline, GatedSink gate, CancellationToken ct)
    {
        for (int pair = 1; pair <= 20; pair++)
        {
            source.Feed("a", 1, (pair * 10) + 1);
            source.Feed("b", 2, (pair * 10) + 2);
            await Until(() => (context.IsStalled && gate.IsHolding) || (pipeline.Statistics.RecordsIn >= 2 * pair && (pair < 2 || gate.IsHolding)), ct);
            if (context.IsStalled && gate.IsHolding)
            {
                return pair * 10;
            }
        }

        throw new InvalidOperationException("The pipeline never waited for its sink.");
    }

    /// <summary>
    /// Moves the clock two idle timeouts, a second at a time, each while the pipeline's reader waits for room or has read
    /// every batch fed: a batch the reader takes after a step is then read after a wait, whose time does not count. A wait
    /// seen may be a passing one (the reader a batch ahead of the processing) and end before its step: that step's second
    /// counts, far less than the idle timeout.
    /// </summary>
    private static async Task AdvanceWhileHeldBackAsync(FakeTimeProvider time, FedSource source, SourceContext context, CancellationToken ct)
    {
        for (int second = 0; second < 2 * IdleTimeout.TotalSeconds; second++)
        {
            await Until(() => context.IsStalled || source.Handed == source.Fed, ct);
            time.Advance(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Queues 40 records of <c>a</c> in later windows, then one of <c>b</c> in the open window: on time as long as <c>b</c> holds the watermark.</summary>
    private static void QueueAheadAndBehind(FedSource source, long open)
    {
        for (int i = 0; i < 40; i++)
        {
            source.Feed("a", 1, open + 20 + i);
        }

        source.Feed("b", 2, open + 5);
    }

    private static async Task Until(Func<bool> condition, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "The pipeline did not get there.");
            await Task.Delay(1, ct);
        }
    }

    /// <summary>One record per batch, fed by the test; the partitions' sequence numbers count up. Announces the partitions it is given.</summary>
    private sealed class FedSource(params string[] partitions) : IEventSource<TestEvent>
    {
        private readonly Channel<RecordBatch<TestEvent>> _batches = Channel.CreateUnbounded<RecordBatch<TestEvent>>();
        private readonly Dictionary<string, long> _sequences = [];

        public TaskCompletionSource<SourceContext> Context { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool CanResume => false;

        private int _handed;

        /// <summary>Gets the number of batches the reader took and came back from (it has put them where they go next).</summary>
        public int Handed => Volatile.Read(ref _handed);

        /// <summary>Gets the number of batches fed.</summary>
        public int Fed { get; private set; }

        public void Feed(string partition, int key, long seconds, int value = 1)
        {
            long sequence = _sequences[partition] = _sequences.GetValueOrDefault(partition) + 1;
            Fed++;
            _batches.Writer.TryWrite(new RecordBatch<TestEvent>(partition, new[] { new StreamRecord<TestEvent>(new TestEvent(key, seconds, value), SequenceNumber.FromInt64(sequence)) }));
        }

        public void End() => _batches.Writer.TryComplete();

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            context.AnnouncePartitions(partitions);
            Context.TrySetResult(context);
            await foreach (var batch in _batches.Reader.ReadAllAsync(cancellationToken))
            {
                yield return batch;
                Interlocked.Increment(ref _handed);
            }
        }
    }

    /// <summary>A filter that keeps every record and holds those whose value is <see cref="Value"/> until released (it starts holding; <see cref="Hold"/> holds again).</summary>
    private sealed class SlowSelector
    {
        public const int Value = 99;
        private readonly ManualResetEventSlim _released = new();

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Pass(TestEvent e)
        {
            if (e.Value == Value)
            {
                Entered.TrySetResult();
                _released.Wait();
            }

            return true;
        }

        public void Release() => _released.Set();

        public void Hold() => _released.Reset();
    }

    /// <summary>Takes no results while it is closed (a sink whose service is down for a while), and keeps them once open.</summary>
    private sealed class GatedSink(bool open = false) : ISink<WindowResult<int, long>>
    {
        private readonly CollectingSink<WindowResult<int, long>> _results = new();
        private volatile TaskCompletionSource _open = Gate(open);
        private volatile bool _holding;

        /// <summary>Gets a value indicating whether a write waits for the sink to open.</summary>
        public bool IsHolding => _holding;

        /// <summary>Gets the results kept.</summary>
        public IReadOnlyList<WindowResult<int, long>> Items => _results.Items;

        public void Open() => _open.TrySetResult();

        public void Close() => _open = Gate(open: false);

        public async ValueTask WriteAsync(ReadOnlyMemory<WindowResult<int, long>> items, CancellationToken cancellationToken)
        {
            var gate = _open;
            _holding = !gate.Task.IsCompleted;
            await gate.Task.WaitAsync(cancellationToken);
            await _results.WriteAsync(items, cancellationToken);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => _results.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => _results.DisposeAsync();

        private static TaskCompletionSource Gate(bool open)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (open)
            {
                gate.TrySetResult();
            }

            return gate;
        }

        /// <summary>The last value written for a key's window (0 when none).</summary>
        public long Count(int key, long windowStart)
            => _results.Items.Where(r => r.Key == key && r.Window.StartTicks == windowStart).Select(r => r.Value).LastOrDefault();
    }
}
