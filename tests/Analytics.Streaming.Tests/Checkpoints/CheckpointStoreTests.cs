using System.Buffers.Binary;

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
    public async Task SaveAsync_OlderCheckpoint_NeverReplacesANewerOne(string kind)
    {
        var store = Create(kind);
        await store.SaveAsync(Checkpoint(extraBatches: 2), TestContext.Current.CancellationToken);

        await store.SaveAsync(Checkpoint(), TestContext.Current.CancellationToken);

        Assert.Equal(3, (await store.LoadAsync("p", TestContext.Current.CancellationToken))!.Id);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Claim_ByANewOwner_RefusesTheOldOwnersSaves_AndTheNewOwnerGoesOn(string kind)
    {
        var store = (IFencedCheckpointStore)Create(kind);
        var ct = TestContext.Current.CancellationToken;
        Assert.Null(await store.ClaimAsync("p", 5, ct));
        Assert.Null(await store.LoadAsync("p", ct)); // a claim alone is no checkpoint
        await store.SaveAsync(Checkpoint(), 5, ct);
        await store.SaveAsync(Checkpoint(extraBatches: 2), 5, ct);

        // The lease is taken (token 9): the new owner loads checkpoint 3 and claims it in the same step.
        Assert.Equal(3, (await store.ClaimAsync("p", 9, ct))!.Id);

        // The old owner has not noticed: its next checkpoint is refused, and nothing of it is stored.
        var refused = await Assert.ThrowsAsync<CheckpointFencedException>(async () => await store.SaveAsync(Checkpoint(extraBatches: 3), 5, ct));
        Assert.Equal(("p", 5L, 9L), (refused.PipelineName, refused.Fence, refused.StoredFence));
        Assert.Equal(3, (await store.LoadAsync("p", ct))!.Id);
        await Assert.ThrowsAsync<CheckpointFencedException>(async () => await store.ClaimAsync("p", 5, ct));
        await Assert.ThrowsAsync<CheckpointFencedException>(async () => await store.SaveAsync(Checkpoint(extraBatches: 9), ct)); // a writer without a token

        // The new owner continues the numbering; a repeated save is still ignored as not newer, and it may claim again.
        var fourth = Checkpoint("p", extraBatches: 3);
        await store.SaveAsync(fourth, 9, ct);
        await store.SaveAsync(Checkpoint(extraBatches: 1), 9, ct);
        Assert.Equal(fourth.ToBytes(), (await store.ClaimAsync("p", 9, ct))!.ToBytes());
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SaveAsync_WithAHigherToken_ReplacesEvenANewerId_AndFencesTheOldWriter(string kind)
    {
        var store = (IFencedCheckpointStore)Create(kind);
        var ct = TestContext.Current.CancellationToken;
        await store.SaveAsync(Checkpoint(extraBatches: 4), ct); // checkpoint 5, before any token was used

        await store.SaveAsync(Checkpoint(extraBatches: 1), 2, ct); // checkpoint 2 of a writer with token 2

        Assert.Equal(2, (await store.LoadAsync("p", ct))!.Id);
        await Assert.ThrowsAsync<CheckpointFencedException>(async () => await store.SaveAsync(Checkpoint(extraBatches: 6), 1, ct));
        Assert.Equal(2, (await store.LoadAsync("p", ct))!.Id);
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
}
