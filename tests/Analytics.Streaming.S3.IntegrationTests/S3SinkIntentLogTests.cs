using System.Collections.Concurrent;
using System.Text.Json;
using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>The sink as a checkpoint listener, called directly on a local folder: intent logs, restore, completion.</summary>
public sealed class S3SinkIntentLogTests(S3Fixture s3)
{
    private const string IntentFolder = "lake/processed/_sink-intents/clicks/";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The sink's options in these tests: JSON lines, objects of at most 25 records.</summary>
    /// <param name="store">The store.</param>
    /// <returns>The options.</returns>
    internal static S3SinkOptions<Click> Options(IObjectStore store) => new()
    {
        Store = store,
        Format = LineFormats.JsonLines(TestJson.Default.Click),
        TableName = "clicks",
        Prefix = "lake/",
        Zone = DataLakeZone.Processed,
        Layout = KeyLayout<Click>.Hive(TimePartitioning.Hour, c => c.Time),
        MaxRecordsPerObject = 25,
    };

    private static List<string> Files(string root, string under = "") =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => f.StartsWith(under, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    /// <summary>The intent logs, without the claims of fenced runs.</summary>
    private static List<string> Logs(string root) => [.. Files(root, IntentFolder).Where(f => !Path.GetFileName(f).StartsWith("claim-", StringComparison.Ordinal))];

    private static List<Click> ReadTable(string root) =>
        [.. Files(root, "lake/processed/clicks/").SelectMany(f => File.ReadAllLines(Path.Combine(root, f))).Select(l => JsonSerializer.Deserialize(l, TestJson.Default.Click)!)];

    [Fact]
    public async Task RestoreAsync_EpochAfterTheSavedCheckpoint_DeletesItsObjectsAndKeepsCommittedOnes()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(200, hours: 2);
        await using (var crashed = new S3Sink<Click>(Options(new LocalFolderObjectStore(root))))
        {
            await crashed.RestoreAsync("clicks-pipeline", 0, Ct);
            await crashed.WriteAsync(clicks.AsMemory(0, 120), Ct);
            await crashed.FlushAsync(Ct);
            await crashed.CheckpointCompletedAsync(1, Ct);
            Assert.Empty(Files(root, IntentFolder));

            await crashed.WriteAsync(clicks.AsMemory(120, 60), Ct); // rolls two objects by count ...
            await crashed.FlushAsync(Ct);                           // ... and flushes the rest, but checkpoint 2 is never saved
            Assert.Matches($"^{IntentFolder}clicks-pipeline/epoch-000000000002-from-000000000000-fence-000000000000-[0-9a-f]{{16}}\\.json$", Assert.Single(Files(root, IntentFolder)));
            Assert.Equal(180, ReadTable(root).Count);
        }

        await using var restarted = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await restarted.RestoreAsync("clicks-pipeline", 1, Ct);

        Assert.Equal(clicks[..120], ReadTable(root).OrderBy(c => c.UserId));
        Assert.Empty(Files(root, IntentFolder));
        Assert.Equal(3, restarted.Statistics.ObjectsRolledBack);
        await restarted.WriteAsync(clicks.AsMemory(120), Ct); // the replay, and what follows
        await restarted.FlushAsync(Ct);
        await restarted.CheckpointCompletedAsync(2, Ct);
        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Empty(Files(root, IntentFolder));
    }

    [Fact]
    public async Task RestoreAsync_CheckpointSavedButNotAnnounced_KeepsTheObjectsAndDeletesTheLog()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(50);
        await using (var crashed = new S3Sink<Click>(Options(new LocalFolderObjectStore(root))))
        {
            await crashed.RestoreAsync("p", 4, Ct);
            await crashed.WriteAsync(clicks, Ct);
            await crashed.FlushAsync(Ct); // checkpoint 5 saved, then the process died before CheckpointCompletedAsync
        }

        await using var restarted = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await restarted.RestoreAsync("p", 5, Ct);

        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Empty(Files(root, IntentFolder));
        Assert.Equal(0, restarted.Statistics.ObjectsRolledBack);
    }

    [Fact]
    public async Task RestoreAsync_AnotherWritersUncommittedObjects_LeftAlone()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(40);
        var first = Options(new LocalFolderObjectStore(root));
        first.WriterId = "worker-a";
        await using (var a = new S3Sink<Click>(first))
        {
            await a.RestoreAsync("p", 0, Ct);
            await a.WriteAsync(clicks, Ct);
            await a.FlushAsync(Ct);
        }

        var second = Options(new LocalFolderObjectStore(root));
        second.WriterId = "worker-b";
        await using var b = new S3Sink<Click>(second);
        await b.RestoreAsync("p", 0, Ct);

        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Matches($"^{IntentFolder}worker-a/epoch-000000000001-from-000000000000-fence-000000000000-[0-9a-f]{{16}}\\.json$", Assert.Single(Files(root, IntentFolder)));
    }

    [Fact]
    public async Task CheckpointCompletedAsync_AnOwnerThatKeptRunningAfterTheTakeover_ItsLaterEpochIsUndone()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(90);
        await using var old = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await old.RestoreAsync("orders/shard-1", 0, Ct);
        await old.WriteAsync(clicks.AsMemory(0, 30), Ct);
        await old.FlushAsync(Ct);
        await old.CheckpointCompletedAsync(1, Ct);

        // Another worker takes the shard over from checkpoint 1. The old owner has not noticed: it writes the next
        // epoch after the new owner's restore, and its checkpoint 2 is refused (so it never completes).
        await using var owner = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await owner.RestoreAsync("orders/shard-1", 1, Ct);
        await old.WriteAsync(clicks.AsMemory(30, 30), Ct);
        await old.FlushAsync(Ct);
        Assert.Equal(60, ReadTable(root).Count);

        // The new owner writes the same records again (its replay) and completes its checkpoint 2.
        await owner.WriteAsync(clicks.AsMemory(30, 60), Ct);
        await owner.FlushAsync(Ct);
        await owner.CheckpointCompletedAsync(2, Ct);

        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Empty(Files(root, IntentFolder));
        Assert.Equal(2, owner.Statistics.ObjectsRolledBack); // the old owner's 30 records, in objects of at most 25

        // A later owner's logs are never the new owner's to undo: it restored from checkpoint 2, not an older one.
        await using var next = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await next.RestoreAsync("orders/shard-1", 2, Ct);
        await next.WriteAsync(Clicks.Make(10).Select(c => c with { UserId = c.UserId + 1_000_000 }).ToArray(), Ct);
        await next.FlushAsync(Ct);
        await owner.WriteAsync(Array.Empty<Click>(), Ct);
        await owner.FlushAsync(Ct);
        await owner.CheckpointCompletedAsync(3, Ct);
        Assert.Equal(100, ReadTable(root).Count);
        Assert.Single(Files(root, IntentFolder));
    }

    [Fact]
    public async Task CheckpointCompletedAsync_AnEarlierOwnerThatRestoredFromTheSameCheckpoint_ItsEpochIsUndoneByTheHigherFence()
    {
        // Workers starting together: the first takes the shard's lease (token 1) and restores from checkpoint 0; the
        // second steals it (token 2) before the first completed any checkpoint, so both resume from checkpoint 0.
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(60);
        await using var old = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await old.RestoreAsync("orders/shard-1", 0, 1, Ct);
        await using var owner = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await owner.RestoreAsync("orders/shard-1", 0, 2, Ct);
        await WriteOneEpochAsync(old, clicks.AsMemory(0, 30));
        Assert.Matches($"^{IntentFolder}[^/]+/epoch-000000000001-from-000000000000-fence-000000000001-[0-9a-f]{{16}}\\.json$", Assert.Single(Logs(root)));

        // The old owner's checkpoint 1 is refused by the store; the new owner writes the same records and completes it.
        await owner.WriteAsync(clicks, Ct);
        await owner.FlushAsync(Ct);
        Assert.Equal(90, ReadTable(root).Count);
        await owner.CheckpointCompletedAsync(1, Ct);

        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Empty(Logs(root));
        Assert.Equal(2, owner.Statistics.ObjectsRolledBack);

        // A run with a higher token is never this owner's to undo, even from the same restore point.
        await using var next = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await next.RestoreAsync("orders/shard-1", 0, 3, Ct);
        await WriteOneEpochAsync(next, Clicks.Make(10).Select(c => c with { UserId = c.UserId + 1_000_000 }).ToArray());
        await owner.WriteAsync(Array.Empty<Click>(), Ct);
        await owner.FlushAsync(Ct);
        await owner.CheckpointCompletedAsync(2, Ct);
        Assert.Equal(70, ReadTable(root).Count);
        Assert.Single(Logs(root));
    }

    [Fact]
    public async Task RestoreAsync_AnOwnerThatKeptRunningAndCrashedAfterTheNextOwnerStopped_ItsEpochIsUndoneByTheClaim()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(90);
        var old = await TakenOverAfterItsFirstCheckpointAsync(root, clicks);

        // Only then does the old owner, which has not noticed, upload its next epoch (2, as the new owner's checkpoint),
        // and it crashes before the store refuses that checkpoint: nobody is left to undo it.
        await WriteOneEpochAsync(old, clicks.AsMemory(30, 30));
        Assert.Equal(120, ReadTable(root).Count);
        Assert.Matches($"^{IntentFolder}[^/]+/epoch-000000000002-from-000000000000-fence-000000000001-[0-9a-f]{{16}}\\.json$", Assert.Single(Logs(root)));

        // The next owner resumes from checkpoint 2. Epoch 2 is at or before it, but the claim of token 2 from checkpoint 1
        // proves that no run with token 1 committed an epoch after 1.
        await using var next = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await next.RestoreAsync("orders/shard-1", 2, 3, Ct);

        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Equal(2, next.Statistics.ObjectsRolledBack); // 30 records in objects of at most 25
        Assert.Empty(Logs(root));
        await old.DisposeAsync();
    }

    [Fact]
    public async Task CheckpointCompletedAsync_AnOwnerTwoTakeoversBackUploadsItsNextEpoch_UndoneByTheClaimAtTheNextCompletion()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(90);
        var old = await TakenOverAfterItsFirstCheckpointAsync(root, clicks);

        // The third owner runs from checkpoint 2 when the first one uploads its epoch 2 and crashes: the epoch is not
        // after the third owner's restore point, but the second owner's claim proves it uncommitted.
        await using var third = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await third.RestoreAsync("orders/shard-1", 2, 3, Ct);
        await WriteOneEpochAsync(old, clicks.AsMemory(30, 30));
        Assert.Equal(120, ReadTable(root).Count);
        await third.WriteAsync(Array.Empty<Click>(), Ct);
        await third.FlushAsync(Ct);
        await third.CheckpointCompletedAsync(3, Ct);

        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Equal(2, third.Statistics.ObjectsRolledBack);
        Assert.Empty(Logs(root));
        await old.DisposeAsync();
    }

    [Fact]
    public async Task RestoreAsync_AnEarlierOwnersCommittedEpochWhoseLogWasLeft_IsKept()
    {
        // The old owner's checkpoint 1 was saved, and it died before it deleted the log: the epoch is committed, and a
        // later owner's claim (from checkpoint 1, token 2) does not make it stale.
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(50);
        await using (var old = new S3Sink<Click>(Options(new LocalFolderObjectStore(root))))
        {
            await old.RestoreAsync("orders/shard-1", 0, 1, Ct);
            await WriteOneEpochAsync(old, clicks.AsMemory(0, 30));
        }

        await using (var owner = new S3Sink<Click>(Options(new LocalFolderObjectStore(root))))
        {
            await owner.RestoreAsync("orders/shard-1", 1, 2, Ct);
            Assert.Equal(0, owner.Statistics.ObjectsRolledBack);
            await WriteOneEpochAsync(owner, clicks.AsMemory(30));
        }

        await using var next = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await next.RestoreAsync("orders/shard-1", 2, 3, Ct);

        Assert.Equal(clicks, ReadTable(root).OrderBy(c => c.UserId));
        Assert.Equal(0, next.Statistics.ObjectsRolledBack);
        Assert.Empty(Logs(root));
    }

    [Fact]
    public async Task RestoreAsync_ManyFencedRuns_KeepsTheNewestClaims()
    {
        string root = s3.CreateFolder();
        for (int fence = 1; fence <= 20; fence++)
        {
            await using var sink = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
            await sink.RestoreAsync("orders/shard-1", fence - 1, fence, Ct);
        }

        var claims = Files(root, IntentFolder);
        Assert.Equal(16, claims.Count);
        Assert.All(claims, c => Assert.Matches("/claim-fence-0000000000(0[5-9]|1[0-9]|20)-from-[0-9]{12}-[0-9a-f]{16}\\.json$", c));
        Assert.Contains(claims, c => c.Contains("claim-fence-000000000020-from-000000000019-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckpointRefusedAsync_TheStoreRefusedTheEpochsCheckpoint_ItsObjectsAndLogAreUndone()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(90);
        await using var old = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await old.RestoreAsync("orders/shard-1", 0, 1, Ct);
        await WriteOneEpochAsync(old, clicks.AsMemory(0, 30));
        await old.CheckpointCompletedAsync(1, Ct);
        await WriteOneEpochAsync(old, clicks.AsMemory(30, 60));
        Assert.Equal(90, ReadTable(root).Count);

        // Another owner took the pipeline over: the old owner's checkpoint 2 is refused, and it is told so.
        await old.CheckpointRefusedAsync(3, Ct); // not its epoch: nothing happens
        Assert.Equal(90, ReadTable(root).Count);
        await old.CheckpointRefusedAsync(2, Ct);

        Assert.Equal(clicks[..30], ReadTable(root).OrderBy(c => c.UserId));
        Assert.Empty(Logs(root));
        Assert.Equal(3, old.Statistics.ObjectsRolledBack); // 60 records in objects of at most 25
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await old.WriteAsync(clicks, Ct));
    }

    [Fact]
    public async Task CheckpointCompletedAsync_TwoRunsFromTheSameCheckpointWithoutFencing_NeitherUndoesTheOther()
    {
        // Without a fencing token (a store that does not fence) the two runs cannot be ordered: undoing the other's
        // epoch could delete what is, or will be, committed, so both stay (documented).
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(60);
        await using var first = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await first.RestoreAsync("orders/shard-1", 0, Ct);
        await using var second = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await second.RestoreAsync("orders/shard-1", 0, Ct);
        await WriteOneEpochAsync(first, clicks.AsMemory(0, 30));
        await WriteOneEpochAsync(second, clicks.AsMemory(0, 30));

        await second.CheckpointCompletedAsync(1, Ct);

        Assert.Equal(60, ReadTable(root).Count);
        Assert.Equal(0, second.Statistics.ObjectsRolledBack);
        Assert.Single(Files(root, IntentFolder));
    }

    [Fact]
    public async Task RestoreAsync_LogsNamedByEarlierVersions_AreStillRolledBack()
    {
        string root = s3.CreateFolder();
        await using (var crashed = new S3Sink<Click>(Options(new LocalFolderObjectStore(root))))
        {
            await crashed.RestoreAsync("p", 0, Ct);
            await WriteOneEpochAsync(crashed, Clicks.Make(20));
        }

        // The same log under the two names earlier versions gave it: without a fencing token, and without a run.
        string log = Assert.Single(Files(root, IntentFolder));
        string content = File.ReadAllText(Path.Combine(root, log));
        string folder = Path.Combine(root, IntentFolder, "p");
        File.Delete(Path.Combine(root, log));
        File.WriteAllText(Path.Combine(folder, "epoch-000000000001-from-000000000000-0123456789abcdef.json"), content);
        File.WriteAllText(Path.Combine(folder, "epoch-000000000002.json"), content);
        Assert.Equal(20, ReadTable(root).Count);

        await using var restarted = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await restarted.RestoreAsync("p", 0, Ct);

        Assert.Empty(ReadTable(root));
        Assert.Empty(Files(root, IntentFolder));
    }

    /// <summary>
    /// An owner (token 1) writes the first 30 clicks and completes checkpoint 1; another worker takes the shard over
    /// (token 2) from checkpoint 1, writes the rest, completes checkpoint 2 and stops. Returns the first owner, still
    /// running: it has not noticed the takeover.
    /// </summary>
    private static async Task<S3Sink<Click>> TakenOverAfterItsFirstCheckpointAsync(string root, Click[] clicks)
    {
        var old = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await old.RestoreAsync("orders/shard-1", 0, 1, Ct);
        await WriteOneEpochAsync(old, clicks.AsMemory(0, 30));
        await old.CheckpointCompletedAsync(1, Ct);
        await using var owner = new S3Sink<Click>(Options(new LocalFolderObjectStore(root)));
        await owner.RestoreAsync("orders/shard-1", 1, 2, Ct);
        await WriteOneEpochAsync(owner, clicks.AsMemory(30));
        await owner.CheckpointCompletedAsync(2, Ct);
        return old;
    }

    /// <summary>Writes records as one epoch's objects and flushes them (a checkpoint would follow).</summary>
    private static async Task WriteOneEpochAsync(S3Sink<Click> sink, ReadOnlyMemory<Click> records)
    {
        await sink.WriteAsync(records, Ct);
        await sink.FlushAsync(Ct);
    }

    [Fact]
    public async Task WriteAsync_EveryUploadOfAnEpoch_KeyIsInTheIntentLogBeforeTheFirstByte()
    {
        string root = s3.CreateFolder();
        var store = new IntentCheckingStore(new LocalFolderObjectStore(root), IntentFolder + "p/");
        var options = Options(store);
        options.MaxRecordsPerObject = null;
        options.PartSize = S3ObjectStore.MinimumPartSize;
        options.Format = new ParquetObjectFormat<Click>(Clicks.Map, new ParquetWriterOptions { RowGroupSize = 1024 * 1024 }); // 'page' is required: a null goes to the error prefix
        var random = new Random(5);
        var big = Clicks.Make(40_000).Select(c => c with { Referrer = RandomHex(random, 100) }).ToArray();
        big[7] = big[7] with { Page = null };
        await using var sink = new S3Sink<Click>(options);

        await sink.RestoreAsync("p", 0, Ct);
        for (int i = 0; i < big.Length; i += 4000)
        {
            await sink.WriteAsync(big.AsMemory(i, 4000), Ct);
        }

        await sink.FlushAsync(Ct);

        Assert.True(sink.Statistics.MultipartUploads >= 1, "expected a multipart upload");
        Assert.Equal(1, sink.Statistics.ErrorObjectsWritten);
        Assert.True(store.Checked >= 2, $"only {store.Checked} uploads were checked");
        Assert.Empty(store.Violations);
    }

    [Fact]
    public async Task CheckpointCompletedAsync_ObjectsStillOpen_ThrowsFlushFirst()
    {
        await using var sink = new S3Sink<Click>(Options(new LocalFolderObjectStore(s3.CreateFolder())));
        await sink.RestoreAsync("p", 0, Ct);
        await sink.WriteAsync(Clicks.Make(3), Ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.CheckpointCompletedAsync(1, Ct));

        Assert.Contains("flush", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreAsync_AfterWritesWithoutFlush_ThrowsBecauseObjectsAreOpen()
    {
        await using var sink = new S3Sink<Click>(Options(new LocalFolderObjectStore(s3.CreateFolder())));
        await sink.WriteAsync(Clicks.Make(3), Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.RestoreAsync("p", 0, Ct));
    }

    [Theory]
    [InlineData("clicks", "clicks")]
    [InlineData("../up/é b", "..%2Fup%2F%C3%A9%20b")]
    [InlineData("..", "%2E%2E")]
    public async Task RestoreAsync_PipelineName_EscapedIntoOneKeySegment(string pipeline, string segment)
    {
        await using var sink = new S3Sink<Click>(Options(new LocalFolderObjectStore(s3.CreateFolder())));

        await sink.RestoreAsync(pipeline, 0, Ct);

        Assert.Equal($"{IntentFolder}{segment}/", sink.IntentLogPrefix);
    }

    [Fact]
    public async Task RestoreAsync_VeryLongWriterId_CutWithAHashAndStillUsable()
    {
        string root = s3.CreateFolder();
        var options = Options(new LocalFolderObjectStore(root));
        options.WriterId = new string('w', 600);
        await using var sink = new S3Sink<Click>(options);

        await sink.RestoreAsync("p", 0, Ct);
        await sink.WriteAsync(Clicks.Make(5), Ct);
        await sink.FlushAsync(Ct);

        string segment = sink.IntentLogPrefix![IntentFolder.Length..^1];
        Assert.Equal(128, segment.Length);
        Assert.Matches("^w{95}~[0-9a-f]{32}$", segment);
        Assert.Single(Files(root, IntentFolder));
    }

    /// <summary>Before every upload of a table or error object, checks that the current intent log lists its key.</summary>
    private sealed class IntentCheckingStore(IObjectStore inner, string logPrefix) : ForwardingStore(inner)
    {
        private int _checked;

        public ConcurrentBag<string> Violations { get; } = [];

        public int Checked => Volatile.Read(ref _checked);

        public override async Task PutObjectAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
        {
            if (!key.StartsWith(logPrefix, StringComparison.Ordinal))
            {
                await CheckAsync(key, cancellationToken);
            }

            await base.PutObjectAsync(key, content, contentType, cancellationToken);
        }

        public override async Task<IMultipartUpload> StartMultipartUploadAsync(string key, string contentType, CancellationToken cancellationToken)
        {
            await CheckAsync(key, cancellationToken);
            return await base.StartMultipartUploadAsync(key, contentType, cancellationToken);
        }

        private async Task CheckAsync(string key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _checked);
            var logged = new List<string>();
            foreach (string log in await ListKeysAsync(logPrefix, cancellationToken))
            {
                using var json = JsonDocument.Parse((await GetObjectAsync(log, cancellationToken))!);
                logged.AddRange(json.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));
            }

            if (!logged.Contains(key))
            {
                Violations.Add(key);
            }
        }
    }

    private static string RandomHex(Random random, int bytes)
    {
        var buffer = new byte[bytes];
        random.NextBytes(buffer);
        return Convert.ToHexString(buffer);
    }
}
