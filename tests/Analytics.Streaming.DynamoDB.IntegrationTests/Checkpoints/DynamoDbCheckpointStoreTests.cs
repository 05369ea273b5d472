using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.Testing;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests;

public sealed record Visit(int Page, DateTimeOffset Time);

/// <summary>
/// The checkpoint contract of <see cref="ICheckpointStore"/> and <see cref="IFencedCheckpointStore"/>
/// (<see cref="CheckpointStoreContract"/>, as for the core's file and in-memory stores), plus what chunking adds: a crash
/// between chunk writes never reads back as a valid snapshot, and a save that is ignored or refused leaves no chunks.
/// </summary>
public sealed class DynamoDbCheckpointStoreTests(DynaliteServer dynalite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A real checkpoint with window state: <paramref name="keys"/> keys in open windows, on two partitions, after <paramref name="extraCheckpoints"/> earlier checkpoints.</summary>
    internal static PipelineCheckpoint Checkpoint(string name = "p", int keys = 3, int extraCheckpoints = 0)
    {
        var pipeline = StreamPipeline.Create<Visit>(new() { Name = name, WindowState = WindowStateMode.Always })
            .WithEventTime(v => v.Time)
            .KeyBy(v => v.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.DistinctCount(v => v.Page)))
            .To(new CollectingSink<WindowResult<int, (long, long)>>())
            .Build();
        var driver = new PipelineTestDriver<Visit, int, (long, long)>(pipeline);
        var t0 = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
        driver.Push("shardId-000000000001", Enumerable.Range(0, keys).Select(k => new Visit(k, t0.AddSeconds(k % 50))).ToArray());
        driver.Push("shardId-000000000002", new Visit(1, t0.AddSeconds(10)));
        for (int i = 0; i < extraCheckpoints; i++)
        {
            driver.CreateCheckpoint();
        }

        return driver.CreateCheckpoint();
    }

    [Theory]
    [InlineData(3, DynamoDbCheckpointStoreOptions.DefaultChunkSize)]
    [InlineData(2000, 1024)]
    public async Task SaveAsync_ThenLoadAsync_ReturnsTheSameCheckpoint(int keys, int chunkSize)
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, chunkSize);
        var checkpoint = Checkpoint(keys: keys);

        await store.SaveAsync(checkpoint, Ct);
        var loaded = await store.LoadAsync("p", Ct);

        Assert.NotNull(loaded);
        Assert.Equal(checkpoint.ToBytes(), loaded.ToBytes());
        Assert.Equal(checkpoint.Partitions, loaded.Partitions);
        Assert.True(loaded.HasWindowState);
        Assert.Null(await store.LoadAsync("other", Ct));
        if (chunkSize == 1024)
        {
            Assert.True(checkpoint.ToBytes().Length > 30 * 1024, "the state must span more than one BatchWriteItem of chunks");
        }
    }

    [Theory]
    [InlineData(DynamoDbCheckpointStoreOptions.DefaultChunkSize)]
    [InlineData(1024)]
    public async Task Contract_OrderAndFencing_Hold(int chunkSize)
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, chunkSize);

        await CheckpointStoreContract.VerifyAsync(store, windowStateKeys: 500, Ct);
    }

    [Theory]
    [InlineData(DynamoDbCheckpointStoreOptions.DefaultChunkSize)]
    [InlineData(1024)]
    public async Task IgnoredAndRefusedSaves_LeaveOnlyTheStoredCheckpointsChunks(int chunkSize)
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, chunkSize);
        var third = Checkpoint(keys: 500, extraCheckpoints: 2);
        await store.SaveAsync(third, 5, Ct);

        // The same id again (its chunks must not replace or delete the stored ones), then an old owner's save after a claim.
        await store.SaveAsync(Checkpoint(keys: 600, extraCheckpoints: 2), 5, Ct);
        Assert.Equal(3, (await store.ClaimAsync("p", 9, Ct))!.Id);
        await Assert.ThrowsAsync<CheckpointFencedException>(async () => await store.SaveAsync(Checkpoint(keys: 600, extraCheckpoints: 3), 5, Ct));

        Assert.Equal(third.ToBytes(), (await store.LoadAsync("p", Ct))!.ToBytes());
        Assert.Equal(ChunksOf(third, chunkSize), await CountChunksAsync(client, store.TableNameForTests, "p"));
    }

    [Fact]
    public async Task SaveAsync_SeveralPipelinesAndOddNames_EachKeepsItsOwn()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, 1024);
        await store.SaveAsync(Checkpoint("page views/minute", keys: 400), Ct);
        await store.SaveAsync(Checkpoint("../escape#head", keys: 5), Ct);

        Assert.Equal("page views/minute", (await store.LoadAsync("page views/minute", Ct))!.PipelineName);
        Assert.Equal("../escape#head", (await store.LoadAsync("../escape#head", Ct))!.PipelineName);
    }

    [Fact]
    public async Task SaveAsync_CrashAfterSomeChunks_LoadReturnsThePreviousCheckpointAndTheNextSaveCleansUp()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, 1024);
        string table = store.TableNameForTests;
        var first = Checkpoint(keys: 2000);
        await store.SaveAsync(first, Ct);

        // The next save dies after two BatchWriteItem calls of chunks (50 chunks stored, the head untouched).
        int batches = 0;
        var handler = new DynamoDbFaultHandler { Decide = (operation, _, _) => operation == "BatchWriteItem" && ++batches > 2 ? Fault.Crash : Fault.None };
        using (var crashing = DynamoDbTestKit.Client(dynalite, handler))
        {
            var dying = new DynamoDbCheckpointStore(crashing, new() { TableName = table, ChunkSize = 1024, Retry = DynamoDbTestKit.FastRetry() });
            await Assert.ThrowsAnyAsync<Exception>(async () => await dying.SaveAsync(Checkpoint(keys: 2500, extraCheckpoints: 1), Ct));
        }

        int firstChunks = (first.ToBytes().Length + 1023) / 1024;
        Assert.Equal(firstChunks + 50, await CountChunksAsync(client, table, "p"));

        var restarted = new DynamoDbCheckpointStore(client, new() { TableName = table, ChunkSize = 1024 });
        var loaded = await restarted.LoadAsync("p", Ct);
        Assert.Equal(first.ToBytes(), loaded!.ToBytes());

        var second = Checkpoint(keys: 2200, extraCheckpoints: 1);
        await restarted.SaveAsync(second, Ct);
        Assert.Equal(second.ToBytes(), (await restarted.LoadAsync("p", Ct))!.ToBytes());
        Assert.Equal((second.ToBytes().Length + 1023) / 1024, await CountChunksAsync(client, table, "p"));
    }

    [Theory]
    [InlineData(1024, 0, false)]
    [InlineData(1024, 3, false)]
    [InlineData(1024, 3, true)]
    [InlineData(350_000, 0, false)]
    [InlineData(350_000, 3, true)]
    public async Task SaveAsync_HeadWrittenButItsAnswerLost_TheRetryKeepsTheSnapshotTheHeadNames(int chunkSize, long fence, bool claimBetween)
    {
        using var plain = DynamoDbTestKit.Client(dynalite);
        string table = DynaliteServer.NewTableName("checkpoints");
        await DynamoDbTestKit.CreateTableAsync(plain, DynamoDbCheckpointStore.CreateTableRequest(table), Ct);
        var handler = new DynamoDbFaultHandler();
        using var client = DynamoDbTestKit.Client(dynalite, handler);
        var store = new DynamoDbCheckpointStore(client, new() { TableName = table, ChunkSize = chunkSize, Retry = DynamoDbTestKit.FastRetry() });
        var newOwner = new DynamoDbCheckpointStore(plain, new() { TableName = table, ChunkSize = chunkSize });
        if (fence > 0)
        {
            await store.ClaimAsync("p", fence, Ct);
        }

        await store.SaveAsync(Checkpoint(keys: 2000), fence, Ct);
        var second = Checkpoint(keys: 2200, extraCheckpoints: 1);
        int heads = 0;
        handler.Decide = (operation, body, _) =>
        {
            if (operation != "PutItem" || body["Item"]!["sk"]!["S"]!.GetValue<string>() != "head")
            {
                return Fault.None;
            }

            if (++heads == 2 && claimBetween)
            {
                // A new owner claims the pipeline between the lost answer and the retry: it finds the written head.
                Assert.Equal(second.ToBytes(), newOwner.ClaimAsync("p", fence + 1, Ct).AsTask().GetAwaiter().GetResult()!.ToBytes());
            }

            return heads == 1 ? Fault.LostAnswer : Fault.None;
        };

        await store.SaveAsync(second, fence, Ct);

        Assert.Equal(1, handler.Injected);
        Assert.True(heads >= 2, "the head write was not tried again");
        Assert.Equal(second.ToBytes(), (await newOwner.LoadAsync("p", Ct))!.ToBytes());
        Assert.Equal(ChunksOf(second, chunkSize), await CountChunksAsync(plain, table, "p"));
        if (claimBetween)
        {
            await Assert.ThrowsAsync<CheckpointFencedException>(async () => await store.SaveAsync(Checkpoint(keys: 2300, extraCheckpoints: 2), fence, Ct));
        }
    }

    [Fact]
    public async Task SaveAsync_ThrottlingServerErrorsAndUnprocessedChunks_AreRetriedUntilTheSnapshotIsWhole()
    {
        using var plain = DynamoDbTestKit.Client(dynalite);
        string table = DynaliteServer.NewTableName("checkpoints");
        await DynamoDbTestKit.CreateTableAsync(plain, DynamoDbCheckpointStore.CreateTableRequest(table), Ct);
        var keptOnce = new HashSet<string>(StringComparer.Ordinal);
        var handler = new DynamoDbFaultHandler
        {
            Decide = (operation, _, call) => (operation, call % 3) switch
            {
                ("PutItem", 0) or ("BatchWriteItem", 1) => Fault.Throttle,
                ("GetItem", 2) or ("Query", 0) => Fault.ServerError,
                _ => Fault.None,
            },
            KeepBack = item => item["sk"]!["S"]!.GetValue<string>() is { } sk && sk.EndsWith('3') && keptOnce.Add(sk),
        };
        using var client = DynamoDbTestKit.Client(dynalite, handler);
        var store = new DynamoDbCheckpointStore(client, new() { TableName = table, ChunkSize = 1024, Retry = DynamoDbTestKit.FastRetry() });
        var checkpoint = Checkpoint(keys: 1500);

        await store.SaveAsync(checkpoint, Ct);
        var loaded = await store.LoadAsync("p", Ct);

        Assert.Equal(checkpoint.ToBytes(), loaded!.ToBytes());
        Assert.True(handler.Injected > 0);
        Assert.True(handler.Unprocessed > 0);
    }

    [Theory]
    [InlineData("", 1024, "TableName")]
    [InlineData("table", 100, "ChunkSize")]
    [InlineData("table", 400_000, "ChunkSize")]
    public void Options_OutOfRange_NameTheSetting(string table, int chunkSize, string setting)
    {
        using var client = DynamoDbTestKit.Client(dynalite);

        var error = Assert.Throws<ArgumentException>(() => new DynamoDbCheckpointStore(client, new() { TableName = table, ChunkSize = chunkSize }));

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveAsync_SmallAfterLarge_DeletesTheLargeSnapshotsChunks()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, 1024);
        await store.SaveAsync(Checkpoint(keys: 1000), Ct);
        Assert.True(await CountChunksAsync(client, store.TableNameForTests, "p") > 1);

        await store.SaveAsync(Checkpoint(keys: 2, extraCheckpoints: 1), Ct);

        Assert.Equal(0, await CountChunksAsync(client, store.TableNameForTests, "p"));
        Assert.Equal(2, (await store.LoadAsync("p", Ct))!.Id);
    }

    [Fact]
    public async Task LoadAsync_DamagedChunk_FailsInsteadOfStartingOver()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, 1024);
        await store.SaveAsync(Checkpoint(keys: 300), Ct);
        var chunk = (await DynamoDbTestKit.ScanAsync(client, store.TableNameForTests, Ct)).First(i => i["sk"].S.StartsWith("chunk#", StringComparison.Ordinal));
        byte[] data = chunk["data"].B.ToArray();
        data[data.Length / 2] ^= 0x40;
        chunk["data"] = new AttributeValue { B = new MemoryStream(data) };
        await client.PutItemAsync(store.TableNameForTests, chunk, Ct);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.LoadAsync("p", Ct));

        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        Assert.Contains(store.TableNameForTests, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadAsync_MissingChunk_FailsAndSaysTheSnapshotIsIncomplete()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, 1024);
        await store.SaveAsync(Checkpoint(keys: 300), Ct);
        var chunk = (await DynamoDbTestKit.ScanAsync(client, store.TableNameForTests, Ct)).Last(i => i["sk"].S.StartsWith("chunk#", StringComparison.Ordinal));
        await client.DeleteItemAsync(store.TableNameForTests, new() { ["pk"] = chunk["pk"], ["sk"] = chunk["sk"] }, Ct);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.LoadAsync("p", Ct));

        Assert.Contains("incomplete", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipeline_RunsWithTheStoreAndTheSink_ResumesFromTheSavedCheckpoint()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var store = await CreateStoreAsync(client, DynamoDbCheckpointStoreOptions.DefaultChunkSize);
        var map = DynamoDbItemMap.ForWindowResults<int, long>().Number("visits", r => r.Value).Build();
        string results = await DynamoDbSinkTests.CreateTableAsync(client, map);
        var t0 = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
        var visits = Enumerable.Range(0, 300).Select(i => new Visit(i % 4, t0.AddSeconds(i))).ToArray();

        async Task RunAsync(Visit[] events)
        {
            await using var sink = new DynamoDbSink<WindowResult<int, long>>(client, new() { TableName = results, Map = map });
            var pipeline = StreamPipeline.Create<Visit>(new() { Name = "visits", CheckpointStore = store })
                .WithEventTime(v => v.Time)
                .KeyBy(v => v.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count())
                .To(sink)
                .Build();
            await pipeline.RunAsync(InMemorySource<Visit>.FromEvents(events, batchSize: 50), Ct);
        }

        await RunAsync(visits);

        var stored = await DynamoDbTestKit.ScanAsync(client, results, Ct);
        Assert.Equal(20, stored.Count); // 4 pages x 5 minutes
        Assert.Equal(300, stored.Sum(i => long.Parse(i["visits"].N, provider: null)));
        Assert.All(stored, i => Assert.Equal(i["visits"].N, i["recordCount"].N));
        Assert.NotNull(await store.LoadAsync("visits", Ct));
    }

    private static int ChunksOf(PipelineCheckpoint checkpoint, int chunkSize)
    {
        int size = checkpoint.ToBytes().Length;
        return size <= chunkSize ? 0 : (size + chunkSize - 1) / chunkSize;
    }

    private static async Task<int> CountChunksAsync(IAmazonDynamoDB client, string table, string pipeline)
        => (await DynamoDbTestKit.ScanAsync(client, table, Ct)).Count(i => i["pk"].S == pipeline && i["sk"].S.StartsWith("chunk#", StringComparison.Ordinal));

    private async Task<StoreUnderTest> CreateStoreAsync(IAmazonDynamoDB client, int chunkSize)
    {
        string table = DynaliteServer.NewTableName("checkpoints");
        await DynamoDbTestKit.CreateTableAsync(client, DynamoDbCheckpointStore.CreateTableRequest(table), Ct);
        return new StoreUnderTest(new DynamoDbCheckpointStore(client, new() { TableName = table, ChunkSize = chunkSize, Retry = DynamoDbTestKit.FastRetry() }), table);
    }

    private sealed class StoreUnderTest(DynamoDbCheckpointStore store, string table) : IFencedCheckpointStore
    {
        public string TableNameForTests => table;

        public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken) => store.LoadAsync(pipelineName, cancellationToken);

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => store.SaveAsync(checkpoint, cancellationToken);

        public ValueTask<PipelineCheckpoint?> ClaimAsync(string pipelineName, long fence, CancellationToken cancellationToken) => store.ClaimAsync(pipelineName, fence, cancellationToken);

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, long fence, CancellationToken cancellationToken) => store.SaveAsync(checkpoint, fence, cancellationToken);
    }
}
