using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

/// <summary>
/// A sink that stops for longer than the idle timeout holds the pipeline back, and the batches read meanwhile wait in
/// its channels: when it recovers, those batches are processed late on the clock, but their partitions were not idle.
/// Each test stalls a pipeline (a sink that waits until released, channels of one chunk), queues records of partition
/// <c>a</c> far ahead of one record of <c>b</c>, moves the clock past the idle timeout and releases the sink. Had the
/// stall counted as idleness, <c>b</c> would have stopped holding the watermark and its record would have been late.
/// </summary>
public sealed class SinkStallTests
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
        time.Advance(IdleTimeout * 2);
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
        time.Advance(IdleTimeout * 2);
        gate.Open();
        source.End();
        await run;

        Assert.Equal(0, sibling.Statistics.LateRecords);
        Assert.Equal(0, stalled.Statistics.LateRecords);
        long window = TestEvent.At(open).UtcTicks;
        Assert.Single(sink.FlushedItems, r => r.Key == 2 && r.Window.StartTicks == window && r.Value == 2);
        Assert.Equal(2, gate.Count(2, window));
    }

    private static StreamPipeline<TestEvent, int, long> Counts(string name, TimeProvider time, ISink<WindowResult<int, long>> sink, int channelCapacity = 16)
        => StreamPipeline.Create<TestEvent>(new() { Name = name, TimeProvider = time, ChannelCapacity = channelCapacity })
            .WithEventTime(e => e.Time, idleTimeout: IdleTimeout).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count()).To(sink).Build();

    /// <summary>
    /// Feeds pairs of records (key 1 on partition <c>a</c>, key 2 on <c>b</c>), one 10-s window apart, until the pipeline
    /// waits for its sink: each pair closes the window of the one before, and the gated sink takes none of them. No pair
    /// is fed after the first result until the sink holds it, so the channel to the sink is never full while the sink
    /// could still take from it: the wait seen is the one that lasts.
    /// </summary>
    /// <returns>The start (seconds after <see cref="TestEvent.Epoch"/>) of the window the last pair opened, which is still open.</returns>
    private static async Task<long> StallAsync(FedSource source, SourceContext context, StreamPipeline<TestEvent, int, long> pipeline, GatedSink gate, CancellationToken ct)
    {
        for (int pair = 1; pair <= 20; pair++)
        {
            source.Feed("a", 1, (pair * 10) + 1);
            source.Feed("b", 2, (pair * 10) + 2);
            await Until(() => context.IsStalled || (pipeline.Statistics.RecordsIn >= 2 * pair && (pair < 2 || gate.IsHolding)), ct);
            if (context.IsStalled)
            {
                Assert.True(gate.IsHolding);
                return pair * 10;
            }
        }

        throw new InvalidOperationException("The pipeline never waited for its sink.");
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

    /// <summary>One record per batch, fed by the test; the partitions' sequence numbers count up.</summary>
    private sealed class FedSource : IEventSource<TestEvent>
    {
        private readonly Channel<RecordBatch<TestEvent>> _batches = Channel.CreateUnbounded<RecordBatch<TestEvent>>();
        private readonly Dictionary<string, long> _sequences = [];

        public TaskCompletionSource<SourceContext> Context { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool CanResume => false;

        public void Feed(string partition, int key, long seconds)
        {
            long sequence = _sequences[partition] = _sequences.GetValueOrDefault(partition) + 1;
            _batches.Writer.TryWrite(new RecordBatch<TestEvent>(partition, new[] { new StreamRecord<TestEvent>(new TestEvent(key, seconds, 1), SequenceNumber.FromInt64(sequence)) }));
        }

        public void End() => _batches.Writer.TryComplete();

        public async IAsyncEnumerable<RecordBatch<TestEvent>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Context.TrySetResult(context);
            await foreach (var batch in _batches.Reader.ReadAllAsync(cancellationToken))
            {
                yield return batch;
            }
        }
    }

    /// <summary>Takes no results until it is opened (a sink whose service is down for a while), then keeps them.</summary>
    private sealed class GatedSink : ISink<WindowResult<int, long>>
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CollectingSink<WindowResult<int, long>> _results = new();
        private volatile bool _holding;

        /// <summary>Gets a value indicating whether a write waits for the sink to open.</summary>
        public bool IsHolding => _holding;

        public void Open() => _open.TrySetResult();

        public async ValueTask WriteAsync(ReadOnlyMemory<WindowResult<int, long>> items, CancellationToken cancellationToken)
        {
            _holding = !_open.Task.IsCompleted;
            await _open.Task.WaitAsync(cancellationToken);
            await _results.WriteAsync(items, cancellationToken);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => _results.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => _results.DisposeAsync();

        /// <summary>The last value written for a key's window (0 when none).</summary>
        public long Count(int key, long windowStart)
            => _results.Items.Where(r => r.Key == key && r.Window.StartTicks == windowStart).Select(r => r.Value).LastOrDefault();
    }
}
