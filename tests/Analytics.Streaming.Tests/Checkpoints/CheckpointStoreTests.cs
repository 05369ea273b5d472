using System.Buffers.Binary;
using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Stores => ["memory", "file"];

    private ICheckpointStore Create(string kind) => kind == "file" ? new FileCheckpointStore(Path.Combine(_folder, "sub")) : new InMemoryCheckpointStore();

    /// <summary>A real checkpoint with window state and two partitions, one with a 56-digit Kinesis sequence number.</summary>
    private static PipelineCheckpoint Checkpoint(string name = "p", int extraBatches = 0)
    {
        var driver = TestPipelines.CountAndSum(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)), options: new() { Name = name, WindowState = WindowStateMode.Always }).Driver();
        driver.Push(new RecordBatch<TestEvent>("shardId-000000000001", new[] { new StreamRecord<TestEvent>(new TestEvent(1, 10, 5), SequenceNumber.Parse("49590338271490256608559692538361571095921575989136588898"), 3) }));
        driver.Push("b", new TestEvent(2, 20, 7), new TestEvent(3, 70, 1));
        for (int i = 0; i < extraBatches; i++)
        {
            driver.CreateCheckpoint();
        }

        return driver.CreateCheckpoint();
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveAsync_ThenLoadAsync_ReturnsTheSameCheckpoint(string kind)
    {
        var store = Create(kind);
        var checkpoint = Checkpoint();

        await store.SaveAsync(checkpoint, TestContext.Current.CancellationToken);
        var loaded = await store.LoadAsync("p", TestContext.Current.CancellationToken);

        Assert.NotNull(loaded);
        Assert.Equal(checkpoint.ToBytes(), loaded.ToBytes());
        Assert.Equal(checkpoint.Partitions, loaded.Partitions);
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", loaded.FindPartition("shardId-000000000001")!.ResumeAfter!.Value.Sequence.ToString());
        Assert.Equal(3, loaded.FindPartition("shardId-000000000001")!.ResumeAfter!.Value.SubSequence);
        Assert.True(loaded.HasWindowState);
        Assert.Null(await store.LoadAsync("other", TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Contract_OrderAndFencing_Hold(string kind)
    {
        var store = Create(kind);

        await CheckpointStoreContract.VerifyAsync(store, cancellationToken: TestContext.Current.CancellationToken);
        await CheckpointStoreContract.VerifyAsync(store, windowStateKeys: 300, cancellationToken: TestContext.Current.CancellationToken); // the same store again
    }

    [Theory]
    [InlineData("ignores ids", "older never replaces newer")]
    [InlineData("ignores fences", "claim fences the old owner")]
    [InlineData("claims without loading", "claim fences the old owner")]
    [InlineData("orders by id before token", "higher token replaces a newer id")]
    public async Task Contract_ABrokenStore_FailsWithTheCheckItBroke(string flaw, string check)
    {
        var store = new FlawedStore(flaw);

        var broken = await Assert.ThrowsAsync<CheckpointStoreContractException>(() => CheckpointStoreContract.VerifyAsync(store, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains($"check '{check}'", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileStore_TwoStoresOnOneFolder_ShareTheFence()
    {
        var ct = TestContext.Current.CancellationToken;
        using var oldOwner = new FileCheckpointStore(_folder);
        using var newOwner = new FileCheckpointStore(_folder);
        await oldOwner.ClaimAsync("p", 1, ct);
        await oldOwner.SaveAsync(Checkpoint(), 1, ct);

        Assert.Equal(1, (await newOwner.ClaimAsync("p", 2, ct))!.Id);

        await Assert.ThrowsAsync<CheckpointFencedException>(async () => await oldOwner.SaveAsync(Checkpoint(extraBatches: 1), 1, ct));
        await newOwner.SaveAsync(Checkpoint(extraBatches: 1), 2, ct);
        Assert.Equal(2, (await oldOwner.LoadAsync("p", ct))!.Id);
    }

    [Fact]
    public async Task FileStore_SeveralPipelinesAndOddNames_EachHasItsOwnFile()
    {
        using var store = new FileCheckpointStore(_folder);
        await store.SaveAsync(Checkpoint("page views/minute"), TestContext.Current.CancellationToken);
        await store.SaveAsync(Checkpoint("../escape"), TestContext.Current.CancellationToken);

        using var reopened = new FileCheckpointStore(_folder);
        Assert.Equal("page views/minute", (await reopened.LoadAsync("page views/minute", TestContext.Current.CancellationToken))!.PipelineName);
        Assert.Equal("../escape", (await reopened.LoadAsync("../escape", TestContext.Current.CancellationToken))!.PipelineName);
        Assert.All(Directory.GetFiles(_folder), f => Assert.Equal(_folder, Path.GetDirectoryName(f)));
    }

    [Fact]
    public async Task FileStore_DamagedFile_FailsWithThePathInsteadOfStartingOver()
    {
        using var store = new FileCheckpointStore(_folder);
        await store.SaveAsync(Checkpoint(), TestContext.Current.CancellationToken);
        string path = store.GetPath("p");
        byte[] bytes = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.LoadAsync("p", TestContext.Current.CancellationToken));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileStore_WriteCutShort_LeavesThePreviousCheckpointReadable()
    {
        using var store = new FileCheckpointStore(_folder);
        var first = Checkpoint();
        await store.SaveAsync(first, TestContext.Current.CancellationToken);

        // A crash while writing the next checkpoint leaves only a partial temporary file beside the real one.
        byte[] next = Checkpoint(extraBatches: 1).ToBytes();
        await File.WriteAllBytesAsync(store.GetPath("p") + ".tmp", next.AsSpan(0, next.Length / 2).ToArray(), TestContext.Current.CancellationToken);

        Assert.Equal(first.Id, (await store.LoadAsync("p", TestContext.Current.CancellationToken))!.Id);
        await store.SaveAsync(Checkpoint(extraBatches: 1), TestContext.Current.CancellationToken);
        Assert.Equal(2, (await store.LoadAsync("p", TestContext.Current.CancellationToken))!.Id);
    }

    [Fact]
    public void Parse_EveryTruncation_IsRejected()
    {
        byte[] bytes = Checkpoint().ToBytes();

        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => PipelineCheckpoint.Parse(bytes.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Parse_NewerFormatVersion_SaysWhichVersionsItReads()
    {
        byte[] bytes = Checkpoint().ToBytes();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 9);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc(bytes.AsSpan(0, bytes.Length - 4)));

        var error = Assert.Throws<InvalidDataException>(() => PipelineCheckpoint.Parse(bytes));

        Assert.Contains("format version 9", error.Message, StringComparison.Ordinal);
    }

    /// <summary>CRC-32C computed bit by bit (the Castagnoli polynomial), independently of the library's.</summary>
    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
            }
        }

        return ~crc;
    }

    /// <summary>An in-memory store with one flaw of the kind a store written by hand might have.</summary>
    private sealed class FlawedStore(string flaw) : IFencedCheckpointStore
    {
        private readonly Dictionary<string, (PipelineCheckpoint Checkpoint, long Fence)> _stored = [];
        private readonly Dictionary<string, long> _fences = [];

        public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
            => ValueTask.FromResult(_stored.TryGetValue(pipelineName, out var s) ? s.Checkpoint : null);

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken) => SaveAsync(checkpoint, 0, cancellationToken);

        public ValueTask<PipelineCheckpoint?> ClaimAsync(string pipelineName, long fence, CancellationToken cancellationToken)
        {
            Fence(pipelineName, fence);
            _fences[pipelineName] = fence;
            return flaw == "claims without loading" ? ValueTask.FromResult<PipelineCheckpoint?>(null) : LoadAsync(pipelineName, cancellationToken);
        }

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, long fence, CancellationToken cancellationToken)
        {
            string name = checkpoint.PipelineName;
            Fence(name, fence);
            bool replace = !_stored.TryGetValue(name, out var stored)
                || flaw == "ignores ids"
                || (flaw == "orders by id before token" ? checkpoint.Id > stored.Checkpoint.Id : fence > stored.Fence || (fence == stored.Fence && checkpoint.Id > stored.Checkpoint.Id));
            if (replace)
            {
                _stored[name] = (checkpoint, fence);
                _fences[name] = Math.Max(fence, _fences.GetValueOrDefault(name));
            }

            return ValueTask.CompletedTask;
        }

        private void Fence(string name, long fence)
        {
            if (flaw != "ignores fences" && _fences.TryGetValue(name, out long stored) && fence < stored)
            {
                throw new CheckpointFencedException(name, fence, stored);
            }
        }
    }
}
