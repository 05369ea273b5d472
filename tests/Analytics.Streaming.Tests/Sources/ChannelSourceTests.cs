using System.Threading.Channels;
using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Sources;

public sealed class ChannelSourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadBatchesAsync_WrittenThenCompleted_EveryEventInOrderNumberedFromOneThenTheEnd()
    {
        var source = new ChannelSource<int>(capacity: 100, maxBatchSize: 7, partitionId: "p");
        await source.WriteAsync(Enumerable.Range(0, 30), Ct);
        source.Complete();

        var batches = await source.ReadBatchesAsync(new SourceContext(), Ct).ToListAsync(Ct);

        Assert.All(batches, b => Assert.Equal("p", b.PartitionId));
        Assert.All(batches, b => Assert.InRange(b.Records.Length, 0, 7));
        var records = batches.SelectMany(b => b.Records.ToArray()).ToList();
        Assert.Equal(Enumerable.Range(0, 30), records.Select(r => r.Value));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => SequenceNumber.FromInt64(i)), records.Select(r => r.Sequence));
        Assert.True(batches[^1].IsEndOfPartition);
        Assert.Empty(batches[^1].Records.ToArray());
        Assert.Equal(30, source.Written);
        Assert.False(source.CanResume);
        await Assert.ThrowsAsync<ChannelClosedException>(async () => await source.WriteAsync(1, Ct));
    }

    [Fact]
    public async Task WriteAsync_BufferFull_WaitsUntilTheReaderTakesEvents()
    {
        var source = new ChannelSource<int>(capacity: 2, maxBatchSize: 10);
        await source.WriteAsync([1, 2], Ct);

        var third = source.WriteAsync(3, Ct).AsTask();
        Assert.False(third.IsCompleted);

        await using var reader = source.ReadBatchesAsync(new SourceContext(), Ct).GetAsyncEnumerator(Ct);
        Assert.True(await reader.MoveNextAsync());
        var seen = reader.Current.Records.ToArray().Select(r => r.Value).ToList();
        await third.WaitAsync(TimeSpan.FromMinutes(1), Ct);
        source.Complete();
        while (await reader.MoveNextAsync())
        {
            seen.AddRange(reader.Current.Records.ToArray().Select(r => r.Value));
        }

        Assert.Equal([1, 2, 3], seen);
        Assert.Equal(3, source.Written);
    }

    [Fact]
    public async Task ReadBatchesAsync_SecondReader_Throws()
    {
        var source = new ChannelSource<int>();
        source.Complete();
        _ = await source.ReadBatchesAsync(new SourceContext(), Ct).ToListAsync(Ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await source.ReadBatchesAsync(new SourceContext(), Ct).ToListAsync(Ct));
        Assert.Contains("fan-out", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_PipelinesOverAChannelSource_CountWhatWasWrittenAndCloseTheirWindowsOnComplete()
    {
        var sink = new CollectingSink<WindowResult<int, long>>();
        var pipeline = StreamPipeline.Create<TestEvent>(new() { Name = "channel" })
            .WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count()).To(sink).Build();
        var source = new ChannelSource<TestEvent>(capacity: 16, maxBatchSize: 5);

        var run = pipeline.RunAsync(source, Ct);
        for (int i = 0; i < 100; i++)
        {
            await source.WriteAsync(new TestEvent(i % 3, 1 + i, 1), Ct);
        }

        source.Complete();
        await run.WaitAsync(TimeSpan.FromMinutes(2), Ct);

        var finals = sink.FlushedItems.GroupBy(r => r.Id).Select(g => g.MaxBy(r => r.RecordCount)!).ToList();
        Assert.Equal(100, finals.Sum(r => r.Value));
        Assert.Equal(100, pipeline.Statistics.RecordsAccepted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_CancelledWhileTheChannelWaits_OpenWindowsStayOpenInTheFinalCheckpoint(bool fanOut)
    {
        // The channel source ends quietly when cancelled; that is a stop, not the end of the stream.
        var store = new InMemoryCheckpointStore();
        var sink = new CollectingSink<WindowResult<int, long>>();
        var pipeline = StreamPipeline.Create<TestEvent>(new() { Name = "channel", CheckpointStore = store, AllowNonResumableSource = true, WindowState = WindowStateMode.Always })
            .WithEventTime(e => e.Time).KeyBy(e => e.Key).Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count()).To(sink).Build();
        var source = new ChannelSource<TestEvent>(capacity: 16, maxBatchSize: 5);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var run = fanOut ? StreamPipeline.RunAsync(source, [pipeline], stop.Token) : pipeline.RunAsync(source, stop.Token);
        for (int i = 0; i < 25; i++)
        {
            await source.WriteAsync(new TestEvent(1, 10 + i, 1), Ct);
        }

        while (pipeline.Statistics.RecordsIn < 25)
        {
            await Task.Delay(10, Ct);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromMinutes(2), Ct);

        Assert.Equal([10L, 10L], sink.FlushedItems.Select(r => r.Value));
        var checkpoint = (await store.LoadAsync("channel", Ct))!;
        Assert.True(checkpoint.Watermark < TestEvent.At(35), $"watermark {checkpoint.Watermark}");
        Assert.False(checkpoint.FindPartition(source.PartitionId)!.IsFinished);
    }
}
