namespace Analytics.Streaming.Tests.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Checkpoint At(string partition, string sequence, long sub = 0, bool end = false)
        => new(new StreamPosition(partition, SequenceNumber.Parse(sequence), sub), end);

    public static TheoryData<string> Stores => ["memory", "file"];

    private ICheckpointStore Create(string kind) => kind == "file" ? new FileCheckpointStore(Path.Combine(_folder, "sub", "checkpoints.txt")) : new InMemoryCheckpointStore();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveAsync_ThenGetAsync_ReturnsTheCheckpointPerPartition(string kind)
    {
        var store = Create(kind);

        await store.SaveAsync([At("a", "49590338271490256608559692538361571095921575989136588898", 3), At("b", "7")], TestContext.Current.CancellationToken);

        Assert.Equal(At("a", "49590338271490256608559692538361571095921575989136588898", 3), await store.GetAsync("a", TestContext.Current.CancellationToken));
        Assert.Equal(At("b", "7"), await store.GetAsync("b", TestContext.Current.CancellationToken));
        Assert.Null(await store.GetAsync("c", TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveAsync_OlderPosition_NeverMovesBack(string kind)
    {
        var store = Create(kind);
        await store.SaveAsync([At("a", "10")], TestContext.Current.CancellationToken);

        await store.SaveAsync([At("a", "9")], TestContext.Current.CancellationToken);

        Assert.Equal(At("a", "10"), await store.GetAsync("a", TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveAsync_AfterPartitionEnd_KeepsTheEnd(string kind)
    {
        var store = Create(kind);
        await store.SaveAsync([At("a", "10", end: true)], TestContext.Current.CancellationToken);

        await store.SaveAsync([At("a", "11")], TestContext.Current.CancellationToken);

        Assert.True((await store.GetAsync("a", TestContext.Current.CancellationToken))!.Value.IsPartitionEnd);
    }

    [Fact]
    public async Task FileStore_NewInstance_ReadsWhatAnotherSaved()
    {
        string path = Path.Combine(_folder, "cp.txt");
        using (var first = new FileCheckpointStore(path))
        {
            await first.SaveAsync([At("shardId-000000000001", "42", 2, end: true)], TestContext.Current.CancellationToken);
        }

        using var second = new FileCheckpointStore(path);
        Assert.Equal(At("shardId-000000000001", "42", 2, end: true), await second.GetAsync("shardId-000000000001", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FileStore_CorruptLine_FailsWithFileAndLine()
    {
        string path = Path.Combine(_folder, "bad.txt");
        await File.WriteAllTextAsync(path, "a 1 0\nb x 0\n", TestContext.Current.CancellationToken);
        using var store = new FileCheckpointStore(path);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.GetAsync("a", TestContext.Current.CancellationToken));

        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }
}
