using System.Collections.Concurrent;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerPipelineTests(KinesaliteServer kinesalite)
{
    [Fact]
    public async Task RunAsync_PipelineOverConsumerAcrossASplit_CountsEveryRecordAndCheckpointsParentEnd()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-pipeline", 1);
        await scenario.WriteAsync(keys: 5, perKey: 20);
        await kinesalite.Admin.SplitShardInHalfAsync(scenario.Stream, "shardId-000000000000", ct);
        await scenario.WriteAsync(keys: 5, perKey: 20, firstIndex: 20);
        var store = new InMemoryCheckpointStore();
        var sink = new ResultsByIdSink();
        var pipeline = StreamPipeline.Create<RawRecord>(new StreamPipelineOptions
        {
            Name = "kinesis-consumer-test",
            CheckpointStore = store,
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
            TickInterval = TimeSpan.FromMilliseconds(100),
        })
            .WithProcessingTime()
            .KeyBy(r => r.PartitionKey)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMilliseconds(500)))
            .Aggregate(a => a.Count())
            .To(sink)
            .Build();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromSeconds(40));

        // The pipeline, not the test, saves checkpoints: the children start only after it saved the parent's end.
        var run = pipeline.RunAsync(scenario.Consumer(), stop.Token);
        while (!stop.IsCancellationRequested && !(sink.Total == 200 && pipeline.Statistics.LastCheckpoint?.Partitions.Count == 3))
        {
            await Task.Delay(100, ct);
        }

        await stop.CancelAsync();
        await run;

        Assert.Equal(200, sink.Total);
        Assert.All(Enumerable.Range(0, 5), k => Assert.Equal(40, sink.CountOf(ConsumerScenario.Key(k))));
        var checkpoint = (await store.LoadAsync("kinesis-consumer-test", ct))!;
        Assert.True(checkpoint.FindPartition("shardId-000000000000")!.IsFinished);
        Assert.NotNull(checkpoint.FindPartition("shardId-000000000001"));
        Assert.NotNull(checkpoint.FindPartition("shardId-000000000002"));
        Assert.Equal(0, pipeline.Statistics.DeadLetters);
    }

    /// <summary>Keeps the latest result per identity, as an idempotent sink does.</summary>
    private sealed class ResultsByIdSink : ISink<WindowResult<string, long>>
    {
        private readonly ConcurrentDictionary<string, WindowResult<string, long>> _results = new(StringComparer.Ordinal);

        public long Total => _results.Values.Sum(r => r.Value);

        public long CountOf(string key) => _results.Values.Where(r => r.Key == key).Sum(r => r.Value);

        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, long>> items, CancellationToken cancellationToken)
        {
            foreach (var item in items.Span)
            {
                _results[item.Id] = item;
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
