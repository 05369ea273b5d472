using System.Text;
using System.Text.Json;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Testing;
using static Analytics.Streaming.Lambda.Tests.TestData;

namespace Analytics.Streaming.Lambda.Tests.Kinesis;

public sealed class KinesisEventHandlerTests
{
    private static readonly JsonEventDecoder<Click> Decoder = new(TestJsonContext.Default.Click);
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HandleAsync_DocumentedFixtureStream_AnswersEmptyFailuresAndDeadLettersThePoisonRecord()
    {
        var (pipeline, _, deadLetters) = Pipeline();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);

        await using var response = await handler.HandleAsync(FixtureStream("kinesis-event.json"), Token);

        Assert.Equal("{\"batchItemFailures\":[]}", await new StreamReader(response).ReadToEndAsync(Token));
        var dead = Assert.Single(deadLetters.FlushedItems);
        Assert.Equal(DeadLetterReason.DecodeFailed, dead.Reason);
        Assert.Equal("shardId-000000000006", dead.Position.PartitionId);
        Assert.Equal("not json", Encoding.UTF8.GetString(dead.Payload.Span));
    }

    [Fact]
    public async Task ProcessAsync_WindowOpenAcrossInvocations_ResultHoldsRecordsOfBoth()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, results, _) = Pipeline(store);
        var handler = KinesisEventHandler.Create(pipeline, Decoder);

        await handler.ProcessAsync(Event(TestShard, 1, Click("/a", 10, 1), Click("/a", 20, 2)), Token);
        Assert.Empty(results.Items);
        var second = await handler.ProcessAsync(Event(TestShard, 3, Click("/a", 30, 4), Click("/b", 70, 8)), Token);

        var result = Assert.Single(results.FlushedItems);
        Assert.Equal(("/a", (3L, 7L), TestShard), (result.Key, result.Value, result.Partition));
        Assert.Equal(3, result.RecordCount);
        Assert.Equal($"clicks|{TestShard}|/a|{T0.ToUnixTimeMilliseconds()}|{T0.AddMinutes(1).ToUnixTimeMilliseconds()}", result.Id);
        Assert.Equal(2, second.CheckpointId);
        Assert.NotNull(await store.LoadAsync("clicks/" + TestShard, Token));
        Assert.Null(await store.LoadAsync("clicks", Token));
    }

    [Fact]
    public async Task ProcessAsync_AggregatorThrowsOnARecord_TheBatchStartsAgainWithTheRecordAsADeadLetter()
    {
        var results = new CollectingSink<WindowResult<string, (long Count, long Sum)>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<Click>(new() { Name = "clicks", CheckpointStore = new InMemoryCheckpointStore(), WindowState = WindowStateMode.Always })
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.Sum(c => c.Value >= 0 ? (long)c.Value : throw new InvalidOperationException("negative value"))))
            .To(results)
            .DeadLettersTo(deadLetters)
            .Build();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);

        // The count of the window already holds the second record when its sum throws: the invocation starts the batch
        // again from the checkpoint, with that record (and the fourth, the next time) as dead letters.
        var batch = Event(TestShard, 1, Click("/a", 10, 1), Click("/a", 11, -1), Click("/a", 12, 2), Click("/a", 13, -5), Click("/b", 70, 4));
        var outcome = await handler.ProcessAsync(batch, Token);

        Assert.Empty(outcome.Response.BatchItemFailures);
        Assert.Equal((3, 2), (outcome.Receipt.Accepted, outcome.Receipt.DeadLetters));
        Assert.Equal(
            [$"{batch.Records[1].Kinesis.SequenceNumber} AggregatorFailed", $"{batch.Records[3].Kinesis.SequenceNumber} AggregatorFailed"],
            deadLetters.FlushedItems.Select(d => $"{d.Position.Sequence} {d.Reason}"));
        Assert.Contains("negative value", deadLetters.FlushedItems[0].Message, StringComparison.Ordinal);
        var result = Assert.Single(results.FlushedItems);
        Assert.Equal(("/a", (2L, 3L)), (result.Key, result.Value));
    }

    [Fact]
    public async Task ProcessAsync_AggregatorOfAStageFedByWindowsThrowsOnAResult_TheBatchStartsAgainWithTheResultAsADeadLetter()
    {
        // Page counts per minute, then their count and sum per two minutes; the sum throws on a page count of 2, after
        // the count of the two minutes took it.
        var results = new CollectingSink<WindowResult<string, (long Pages, long Clicks)>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<Click>(new() { Name = "clicks", CheckpointStore = new InMemoryCheckpointStore(), WindowState = WindowStateMode.Always })
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .KeyBy(_ => "all")
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(2)))
            .Aggregate(a => a.Count().And(a.Sum(r => r.Value == 2 ? throw new InvalidOperationException("two clicks") : r.Value)))
            .To(results)
            .DeadLettersTo(deadLetters)
            .Build();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);

        var outcome = await handler.ProcessAsync(Event(TestShard, 1, Click("/a", 10, 1), Click("/a", 11, 1), Click("/b", 12, 1), Click("/c", 70, 1), Click("/c", 130, 1)), Token);

        Assert.Empty(outcome.Response.BatchItemFailures);
        var deadLetter = Assert.Single(deadLetters.FlushedItems);
        Assert.Equal((DeadLetterReason.AggregatorFailed, DeadLetter.WindowResultsPartition), (deadLetter.Reason, deadLetter.Position.PartitionId));
        Assert.Equal($"clicks|{TestShard}|/a|{T0.ToUnixTimeMilliseconds()}|{T0.AddMinutes(1).ToUnixTimeMilliseconds()}", Encoding.UTF8.GetString(deadLetter.Payload.Span));
        Assert.Contains("two clicks", deadLetter.Message, StringComparison.Ordinal);
        var result = Assert.Single(results.FlushedItems);
        Assert.Equal(("all", (2L, 2L)), (result.Key, result.Value));
    }

    [Fact]
    public async Task ProcessAsync_RetriedAndOverlappingBatches_ReplaysAreRecognisedAndNeverCountedTwice()
    {
        var (pipeline, results, _) = Pipeline();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);
        var first = Event(TestShard, 1, Click("/a", 10), Click("/a", 11), Click("/a", 12));

        await handler.ProcessAsync(first, Token);
        var retried = await handler.ProcessAsync(first, Token);
        var overlapping = await handler.ProcessAsync(Event(TestShard, 2, Click("/a", 11), Click("/a", 12), Click("/a", 13), Click("/a", 80)), Token);

        Assert.Equal((0, 3), (retried.Receipt.Accepted, retried.Receipt.Replayed));
        Assert.Equal(1, retried.CheckpointId);
        Assert.Equal((2, 2), (overlapping.Receipt.Accepted, overlapping.Receipt.Replayed));
        Assert.Equal(4, Assert.Single(results.FlushedItems).Value.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProcessAsync_DecoderThrows_CommitsTheRecordsBeforeAndReportsOnlyTheFirstFailure(bool asCancellation)
    {
        var (pipeline, results, _) = Pipeline();
        var decoder = new FlakyDecoder { FailAsCancellation = asCancellation };
        decoder.Failing.UnionWith([2, 4]);
        var handler = KinesisEventHandler.Create(pipeline, decoder);
        var e = Event(TestShard, 1, Click("/a", 10, 1), Click("/a", 11, 2), Click("/a", 12, 3), Click("/a", 13, 4));

        var failed = await handler.ProcessAsync(e, Token);
        decoder.Failing.Clear();
        var retry = await handler.ProcessAsync(Event(TestShard, 2, Click("/a", 11, 2), Click("/a", 12, 3), Click("/a", 13, 4), Click("/z", 90, 0)), Token);

        Assert.Equal(Sequence(2), Assert.Single(failed.Response.BatchItemFailures).ItemIdentifier);
        Assert.Equal(Sequence(2), failed.FailedSequenceNumber);
        Assert.IsType(asCancellation ? typeof(TaskCanceledException) : typeof(TimeoutException), failed.Failure);
        Assert.Equal(1, failed.Receipt.Accepted);
        Assert.Empty(retry.Response.BatchItemFailures);
        Assert.Equal((4L, 10L), Assert.Single(results.FlushedItems, r => r.Key == "/a").Value);
    }

    [Fact]
    public async Task ProcessAsync_FirstRecordFails_NothingIsSavedAndTheWholeBatchIsReported()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, _, _) = Pipeline(store);
        var decoder = new FlakyDecoder();
        decoder.Failing.Add(1);
        var handler = KinesisEventHandler.Create(pipeline, decoder);

        var outcome = await handler.ProcessAsync(Event(TestShard, 1, Click("/a", 10, 1), Click("/a", 11, 2)), Token);

        Assert.Equal(Sequence(1), Assert.Single(outcome.Response.BatchItemFailures).ItemIdentifier);
        Assert.Null(await store.LoadAsync("clicks/" + TestShard, Token));
    }

    [Fact]
    public async Task ProcessAsync_KplAggregate_UnpacksUserRecordsWithSubSequencesAndDeadLettersABadAggregate()
    {
        var (pipeline, results, deadLetters) = Pipeline();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);
        using var builder = new KplAggregateBuilder();
        Assert.True(builder.TryAdd(Click("/a", 10, 1).ToJson(), "u1"));
        Assert.True(builder.TryAdd(Click("/a", 11, 2).ToJson(), "u2"));
        Assert.True(builder.TryAdd(Click("/b", 12, 5).ToJson(), "u3"));
        byte[] aggregate = builder.ToArray();
        byte[] corrupted = (byte[])aggregate.Clone();
        corrupted[^1] ^= 0xFF;

        var outcome = await handler.ProcessAsync(Event(TestShard, 1, aggregate, corrupted, Click("/a", 70, 0).ToJson()), Token);

        Assert.Equal(5, outcome.UserRecords);
        Assert.Equal((4, 1), (outcome.Receipt.Accepted, outcome.Receipt.DeadLetters));
        Assert.Equal(DeadLetterReason.InvalidRecord, Assert.Single(deadLetters.FlushedItems).Reason);
        Assert.Equal((2L, 3L), Assert.Single(results.FlushedItems, r => r.Key == "/a").Value);
        Assert.Equal((1L, 5L), Assert.Single(results.FlushedItems, r => r.Key == "/b").Value);
    }

    [Fact]
    public async Task ProcessAsync_TwoShards_KeepSeparateCheckpointsAndPartialResults()
    {
        var store = new InMemoryCheckpointStore();
        var (pipeline, results, _) = Pipeline(store);
        var handler = KinesisEventHandler.Create(pipeline, Decoder);

        await handler.ProcessAsync(Event("shardId-000000000001", 1, Click("/a", 10, 1), Click("/a", 70)), Token);
        await handler.ProcessAsync(Event("shardId-000000000002", 1, Click("/a", 20, 2), Click("/a", 75)), Token);

        Assert.Equal(2, results.FlushedItems.Count);
        Assert.Equal(["shardId-000000000001", "shardId-000000000002"], results.FlushedItems.Select(r => r.Partition).Order());
        Assert.Equal(2, results.FlushedItems.Select(r => r.Id).Distinct().Count());
        Assert.Equal(3, results.FlushedItems.Sum(r => r.Value.Sum));
        Assert.NotNull(await store.LoadAsync("clicks/shardId-000000000001", Token));
        Assert.NotNull(await store.LoadAsync("clicks/shardId-000000000002", Token));
    }

    [Fact]
    public async Task CompleteShardAsync_OpenWindows_AreEmittedAndCheckpointed()
    {
        var (pipeline, results, _) = Pipeline();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);
        await handler.ProcessAsync(Event(TestShard, 1, Click("/a", 10, 1), Click("/b", 20, 2)), Token);

        int emitted = await handler.CompleteShardAsync(TestShard, Token);

        Assert.Equal(2, emitted);
        Assert.Equal(2, results.FlushedItems.Count);
        Assert.Equal(0, await handler.CompleteShardAsync("shardId-999999999999", Token));
    }

    [Fact]
    public async Task ProcessAsync_RecordsOfTwoShardsInOneEvent_AreRefused()
    {
        var (pipeline, _, _) = Pipeline();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);
        var e = Event("shardId-000000000001", 1, Click("/a", 10));
        e.Records.Add(Record("shardId-000000000002", 2, Click("/a", 11).ToJson()));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => handler.ProcessAsync(e, Token));

        Assert.Contains("one shard", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task ProcessAsync_RecordWithMalformedEventId_IsRefusedAsAnArgument(int malformed)
    {
        var (pipeline, results, _) = Pipeline();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);
        var e = Event(TestShard, 1, Click("/a", 10), Click("/a", 11));
        e.Records[malformed].EventId = "no-colon-here";

        var error = await Assert.ThrowsAsync<ArgumentException>(() => handler.ProcessAsync(e, Token));

        Assert.Contains($"Record {malformed}", error.Message, StringComparison.Ordinal);
        Assert.Contains("no-colon-here", error.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(error.InnerException);
        Assert.Empty(results.FlushedItems);
    }

    [Fact]
    public async Task ProcessAsync_SinkFails_InvocationFailsAndTheRetryDeliversEverything()
    {
        int failures = 1;
        var delivered = new List<WindowResult<string, long>>();
        var sink = Sinks.Callback<WindowResult<string, long>>((items, _) =>
        {
            if (failures-- > 0)
            {
                throw new IOException("table unavailable");
            }

            delivered.AddRange(items.ToArray());
            return ValueTask.CompletedTask;
        });
        var pipeline = StreamPipeline.Create<Click>(new() { Name = "clicks", CheckpointStore = new InMemoryCheckpointStore(), WindowState = WindowStateMode.Always })
            .WithEventTime(c => c.Time).KeyBy(c => c.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))).Aggregate(a => a.Count()).To(sink).Build();
        var handler = KinesisEventHandler.Create(pipeline, Decoder);
        var e = Event(TestShard, 1, Click("/a", 10), Click("/a", 70));

        await Assert.ThrowsAsync<IOException>(() => handler.ProcessAsync(e, Token));
        var retry = await handler.ProcessAsync(e, Token);

        Assert.Equal(0, retry.Receipt.Replayed);
        Assert.Equal(1, Assert.Single(delivered).Value);
    }

    [Fact]
    public async Task ProcessAsync_SinkRefusesEverythingAfterAFailure_AFactoryHandlerBuildsNewSinksForTheRetry()
    {
        // The library's sinks (S3, DynamoDB, OpenSearch) refuse every call once one failed; a warm instance keeps the
        // handler, so without new sinks every retry of the batch would fail until Lambda recycles the instance.
        var store = new InMemoryCheckpointStore();
        var delivered = new List<WindowResult<string, long>>();
        int built = 0;
        var handler = KinesisEventHandler.Create(
            () =>
            {
                var sink = new BrokenForGoodSink(failFirst: built++ == 0, delivered);
                return StreamPipeline.Create<Click>(new() { Name = "clicks", CheckpointStore = store, WindowState = WindowStateMode.Always })
                    .WithEventTime(c => c.Time).KeyBy(c => c.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))).Aggregate(a => a.Count()).To(sink).Build();
            },
            Decoder);
        var e = Event(TestShard, 1, Click("/a", 10), Click("/a", 70));

        await Assert.ThrowsAsync<IOException>(() => handler.ProcessAsync(e, Token));
        var retry = await handler.ProcessAsync(e, Token);

        Assert.Equal(2, built);
        Assert.Equal(0, retry.Receipt.Replayed);
        Assert.Equal(1, Assert.Single(delivered).Value);
    }

    [Fact]
    public async Task ProcessAsync_FactoryFailsAfterASinkFailure_TheSinkFailureIsReportedAndTheNextFailureTriesAgain()
    {
        var delivered = new List<WindowResult<string, long>>();
        int built = 0;
        var handler = KinesisEventHandler.Create(
            () => ++built == 2
                ? throw new InvalidOperationException("configuration unavailable")
                : StreamPipeline.Create<Click>(new() { Name = "clicks", CheckpointStore = new InMemoryCheckpointStore(), WindowState = WindowStateMode.Always })
                    .WithEventTime(c => c.Time).KeyBy(c => c.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))).Aggregate(a => a.Count())
                    .To(new BrokenForGoodSink(failFirst: built == 1, delivered)).Build(),
            Decoder);
        var e = Event(TestShard, 1, Click("/a", 10), Click("/a", 70));

        await Assert.ThrowsAsync<IOException>(() => handler.ProcessAsync(e, Token));
        await Assert.ThrowsAsync<IOException>(() => handler.ProcessAsync(e, Token));
        var third = await handler.ProcessAsync(e, Token);

        Assert.Equal(3, built);
        Assert.Equal(0, third.Receipt.Replayed);
        Assert.Equal(1, Assert.Single(delivered).Value);
    }

    /// <summary>Fails its first write if told to, and from then on refuses every call, like the library's sinks.</summary>
    private sealed class BrokenForGoodSink(bool failFirst, List<WindowResult<string, long>> delivered) : ISink<WindowResult<string, long>>
    {
        private bool _broken;

        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, long>> items, CancellationToken cancellationToken)
        {
            if (_broken || failFirst)
            {
                _broken = true;
                throw new IOException("table unavailable");
            }

            delivered.AddRange(items.ToArray());
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => _broken ? throw new IOException("refused: an earlier call failed") : ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public void Constructor_WithoutStoreOrWindowState_ExplainsWhatToSet()
    {
        var noStore = StreamPipeline.Create<Click>(new() { Name = "p", WindowState = WindowStateMode.Always })
            .WithEventTime(c => c.Time).KeyBy(c => c.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))).Aggregate(a => a.Count()).To(Sinks.Discard<WindowResult<string, long>>()).Build();
        var noState = StreamPipeline.Create<Click>(new() { Name = "p", WindowState = WindowStateMode.Never, CheckpointStore = new InMemoryCheckpointStore() })
            .WithEventTime(c => c.Time).KeyBy(c => c.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))).Aggregate(a => a.Count()).To(Sinks.Discard<WindowResult<string, long>>()).Build();

        Assert.Contains("CheckpointStore", Assert.Throws<ArgumentException>(() => KinesisEventHandler.Create(noStore, Decoder)).Message, StringComparison.Ordinal);
        Assert.Contains("WindowStateMode.Always", Assert.Throws<ArgumentException>(() => KinesisEventHandler.Create(noState, Decoder)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_Responses_TypeCheckAgainstTypesAwsLambda()
    {
        var (pipeline, _, _) = Pipeline();
        var decoder = new FlakyDecoder();
        decoder.Failing.Add(2);
        var handler = KinesisEventHandler.Create(pipeline, decoder);
        await using var failed = await handler.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(Event(TestShard, 1, Click("/a", 1, 1), Click("/a", 2, 2)).ToJson())), Token);
        string json = await new StreamReader(failed).ReadToEndAsync(Token);

        var (exitCode, output) = await CheckTypesAsync([("KinesisStreamBatchResponse", json, false), ("KinesisStreamEvent", Event(TestShard, 1, Click("/a", 1)).ToJson(), true)]);

        Assert.Equal($"{{\"batchItemFailures\":[{{\"itemIdentifier\":\"{Sequence(2)}\"}}]}}", json);
        Assert.True(exitCode == 0, output);
    }

    public static TheoryData<int[]> FailingRecords => new() { Array.Empty<int>(), new[] { 3 }, new[] { 2, 5 }, new[] { 0, 1, 2, 3, 4, 5 }, new[] { 5 } };

    [Theory]
    [MemberData(nameof(FailingRecords))]
    public async Task ProcessAsync_SameFailingRecordsAsPowertoolsBatch_SameRetryPoint(int[] failing)
    {
        var (pipeline, _, _) = Pipeline();
        var decoder = new FlakyDecoder();
        decoder.Failing.UnionWith(failing);
        var handler = KinesisEventHandler.Create(pipeline, decoder);
        var e = Event(TestShard, 1, Enumerable.Range(0, 6).Select(i => Click("/a", 10 + i, i)).ToArray());

        var ours = (await handler.ProcessAsync(e, Token)).Response.BatchItemFailures.Select(f => f.ItemIdentifier).ToArray();
        string input = $"{{\"event\":{e.ToJson()},\"failing\":[{string.Join(',', failing.Select(i => $"\"{Sequence(1 + i)}\""))}]}}";
        var (exitCode, output, error) = await TestSupport.NodeScript.RunAsync("lambda-powertools-batch.js", [], input, Token);

        Assert.True(exitCode == 0, error);
        using var powertools = JsonDocument.Parse(output);
        if (powertools.RootElement.TryGetProperty("fullBatchFailure", out _))
        {
            // Powertools throws when every record failed (Lambda retries the whole batch); reporting the first record retries the same records.
            Assert.Equal([Sequence(1)], ours);
            return;
        }

        string[] theirs = [.. powertools.RootElement.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()!)];
        Assert.Equal(failing.Select(i => Sequence(1 + i)), theirs);

        // Lambda retries from the lowest sequence number listed: this handler lists only that one (it cannot have processed
        // later records without counting them twice after the retry); Powertools lists every failure. Same retry point.
        Assert.Equal(theirs.Take(1), ours);
    }
}
