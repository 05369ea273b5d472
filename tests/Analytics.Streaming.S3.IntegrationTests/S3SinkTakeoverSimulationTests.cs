using System.Text.Json;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>
/// Random schedules of lease owners of one shard writing one table through the sink, against a fenced checkpoint
/// store: takeovers while the old owner keeps running, crashes at every step (during an upload, before a checkpoint,
/// after it was saved but before the sink heard of it, after a refusal), old owners uploading after newer ones completed or stopped. After
/// every old owner is gone, one last owner resumes and finishes: the table must then hold every row exactly once. The
/// same without fencing (token 0): one run at a time, crashing and restarting.
/// </summary>
public sealed class S3SinkTakeoverSimulationTests(S3Fixture s3)
{
    private const int Rows = 300;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task RandomTakeoversAndCrashes_TheLastOwnerFinishes_EveryRowOnceInTheTable(int seed)
    {
        string root = s3.CreateFolder();
        return SimulateAsync(seed, fenced: true, () => new LocalFolderObjectStore(root), () => Task.FromResult(root));
    }

    /// <summary>A few of the same schedules on s3rver, through the S3 protocol.</summary>
    /// <param name="seed">The schedule's seed.</param>
    /// <returns>The test.</returns>
    [Theory]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(21)]
    public async Task RandomTakeoversAndCrashesOnS3rver_TheLastOwnerFinishes_EveryRowOnceInTheTable(int seed)
    {
        string bucket = await s3.CreateBucketAsync();
        await SimulateAsync(seed, fenced: true, () => new S3ObjectStore(s3.Client, bucket), () => s3.DownloadAsync(bucket));
    }

    /// <summary>Without fencing (token 0) there are no takeovers, only crashes and restarts: one run at a time.</summary>
    /// <param name="seed">The schedule's seed.</param>
    /// <returns>The test.</returns>
    [Theory]
    [MemberData(nameof(Seeds))]
    public Task RandomCrashesAndRestartsWithoutFencing_TheLastRunFinishes_EveryRowOnceInTheTable(int seed)
    {
        string root = s3.CreateFolder();
        return SimulateAsync(seed, fenced: false, () => new LocalFolderObjectStore(root), () => Task.FromResult(root));
    }

    [Fact]
    public async Task OldOwnersUploadLandsAfterTheNewOwnersRestore_ItsRefusalUndoesIt_EveryRowOnceInTheTable()
    {
        // The old owner logged its epoch and started an upload; the new owner's restore undid that epoch (the object
        // was not there yet) and deleted its log; then the upload landed. The old owner's refusal must still undo it.
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(Rows);
        var store = new FencedStore();
        var held = new HeldUploads(new LocalFolderObjectStore(root));
        store.Claim(1);
        await using var oldSink = new S3Sink<Click>(S3SinkIntentLogTests.Options(held));
        await oldSink.RestoreAsync("orders/shard-1", 0, 1, Ct);
        var oldFlush = Task.Run(
            async () =>
            {
                await oldSink.WriteAsync(clicks.AsMemory(0, 10), Ct); // one object: its upload is the epoch's last
                await oldSink.FlushAsync(Ct);
            },
            Ct);
        Assert.True(held.Waiting.Wait(TimeSpan.FromMinutes(1), Ct), "the old owner's upload never started");

        var (id, position) = store.Claim(2);
        await using var newSink = new S3Sink<Click>(S3SinkIntentLogTests.Options(new LocalFolderObjectStore(root)));
        await newSink.RestoreAsync("orders/shard-1", id, 2, Ct);
        held.Release.Set();
        await oldFlush;
        Assert.False(store.TrySave(1, 1, 10));
        await oldSink.CheckpointRefusedAsync(1, Ct);

        await newSink.WriteAsync(clicks.AsMemory(position), Ct);
        await newSink.FlushAsync(Ct);
        Assert.True(store.TrySave(2, id + 1, Rows));
        await newSink.CheckpointCompletedAsync(id + 1, Ct);

        var ids = ReadTable(root).Select(c => c.UserId).Order().ToList();
        Assert.Equal(Enumerable.Range(0, Rows).Select(i => (long)i), ids);
    }

    private static async Task SimulateAsync(int seed, bool fenced, Func<IObjectStore> newStore, Func<Task<string>> localCopy)
    {
        var clicks = Clicks.Make(Rows);
        var random = new Random(seed);
        var store = new FencedStore();
        var runs = new List<Run>();
        var trace = new List<string>();
        long fences = 0;

        for (int step = 0; step < 40; step++)
        {
            var alive = runs.Where(r => r.Alive).ToList();
            if (alive.Count == 0 || (fenced && random.Next(5) == 0))
            {
                runs.Add(await Run.StartAsync(newStore(), store, fenced ? ++fences : 0, trace));
                continue;
            }

            var run = alive[random.Next(alive.Count)];
            int count = Math.Min(random.Next(1, 40), Rows - run.Cursor);
            if (random.Next(8) == 0)
            {
                run.Store.DieAfterUploads(random.Next(3)); // the process dies during one of the next uploads
            }

            try
            {
                await run.Sink.WriteAsync(clicks.AsMemory(run.Cursor, count), Ct);
                await run.Sink.FlushAsync(Ct);
            }
            catch (SimulatedDeathException)
            {
                await run.CrashAsync(trace, $"while uploading rows {run.Cursor} to {run.Cursor + count}");
                continue;
            }

            run.Cursor += count;
            trace.Add($"token {run.Fence} wrote to {run.Cursor}");
            switch (random.Next(6))
            {
                case 0:
                    await run.CrashAsync(trace, "before its checkpoint");
                    break;
                case 1:
                    break; // more writes before the next checkpoint
                default:
                    await run.CheckpointAsync(store, crashAfterSave: random.Next(8) == 0, trace);
                    break;
            }
        }

        foreach (var run in runs.Where(r => r.Alive))
        {
            await run.CrashAsync(trace, "at the end");
        }

        var last = await Run.StartAsync(newStore(), store, fenced ? ++fences : 0, trace);
        await last.Sink.WriteAsync(clicks.AsMemory(last.Cursor), Ct);
        await last.Sink.FlushAsync(Ct);
        last.Cursor = Rows;
        await last.CheckpointAsync(store, crashAfterSave: false, trace);
        await last.Sink.DisposeAsync();

        var ids = ReadTable(await localCopy()).Select(c => c.UserId).Order().ToList();
        Assert.True(ids.SequenceEqual(Enumerable.Range(0, Rows).Select(i => (long)i)), $"seed {seed}: {ids.Count} rows, {ids.Count - ids.Distinct().Count()} duplicated, {Rows - ids.Distinct().Count()} missing; {string.Join("; ", trace)}");
    }

    private static List<Click> ReadTable(string root)
    {
        string table = Path.Combine(root, "lake", "processed", "clicks");
        return !Directory.Exists(table) ? []
            : [.. Directory.GetFiles(table, "*", SearchOption.AllDirectories).SelectMany(File.ReadAllLines).Select(l => JsonSerializer.Deserialize(l, TestJson.Default.Click)!)];
    }

    /// <summary>A fenced checkpoint store of one pipeline: a claim raises the fence and loads; a lower token's save is refused.</summary>
    private sealed class FencedStore
    {
        public long Fence { get; private set; }

        public long Id { get; private set; }

        public int Position { get; private set; }

        public (long Id, int Position) Claim(long fence)
        {
            Fence = Math.Max(Fence, fence);
            return (Id, Position);
        }

        public bool TrySave(long fence, long id, int position)
        {
            if (fence < Fence)
            {
                return false;
            }

            if (id > Id)
            {
                (Id, Position) = (id, position);
            }

            return true;
        }
    }

    /// <summary>The store as one process sees it: once the process dies, every call fails.</summary>
    private sealed class DyingStore(IObjectStore inner) : ForwardingStore(inner)
    {
        private int _uploadsLeft = int.MaxValue;

        public void DieAfterUploads(int uploads) => _uploadsLeft = Math.Min(_uploadsLeft, uploads);

        protected override void BeforeCall(StoreCall call, string key)
        {
            if (call is StoreCall.Put or StoreCall.StartMultipartUpload && !key.Contains("/_sink-intents/", StringComparison.Ordinal) && _uploadsLeft != int.MaxValue)
            {
                _uploadsLeft--;
            }

            if (_uploadsLeft < 0)
            {
                throw new SimulatedDeathException();
            }
        }
    }

    private sealed class SimulatedDeathException() : Exception("The process died.");

    /// <summary>Holds the first upload of a table object (not of an intent log) until released.</summary>
    private sealed class HeldUploads(IObjectStore inner) : ForwardingStore(inner)
    {
        private int _held;

        public ManualResetEventSlim Waiting { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        protected override void BeforeCall(StoreCall call, string key)
        {
            if (call is StoreCall.Put or StoreCall.StartMultipartUpload && !key.Contains("/_sink-intents/", StringComparison.Ordinal) && Interlocked.Exchange(ref _held, 1) == 0)
            {
                Waiting.Set();
                Assert.True(Release.Wait(TimeSpan.FromMinutes(1)), "the held upload was never released");
            }
        }
    }

    /// <summary>One owner's run: its sink, the checkpoint it last restored or completed, and how far it has written.</summary>
    private sealed class Run(S3Sink<Click> sink, DyingStore store, long fence, long checkpoint, int cursor)
    {
        public S3Sink<Click> Sink { get; } = sink;

        public DyingStore Store { get; } = store;

        public long Fence { get; } = fence;

        public long Checkpoint { get; private set; } = checkpoint;

        public int Cursor { get; set; } = cursor;

        public bool Alive { get; private set; } = true;

        public static async Task<Run> StartAsync(IObjectStore objects, FencedStore store, long fence, List<string> trace)
        {
            var (id, position) = store.Claim(fence);
            var dying = new DyingStore(objects);
            var sink = new S3Sink<Click>(S3SinkIntentLogTests.Options(dying));
            await sink.RestoreAsync("orders/shard-1", id, fence, Ct);
            trace.Add($"token {fence} restored checkpoint {id} at {position}");
            return new Run(sink, dying, fence, id, position);
        }

        public async Task CheckpointAsync(FencedStore store, bool crashAfterSave, List<string> trace)
        {
            long id = Checkpoint + 1;
            if (!store.TrySave(Fence, id, Cursor))
            {
                trace.Add($"token {Fence} refused checkpoint {id}");
                await Sink.CheckpointRefusedAsync(id, Ct);
                await StopAsync();
                return;
            }

            if (crashAfterSave)
            {
                await CrashAsync(trace, $"after saving checkpoint {id}");
                return;
            }

            await Sink.CheckpointCompletedAsync(id, Ct);
            Checkpoint = id;
            trace.Add($"token {Fence} completed checkpoint {id}");
        }

        public async Task CrashAsync(List<string> trace, string when)
        {
            trace.Add($"token {Fence} crashed {when}");
            await StopAsync();
        }

        private async Task StopAsync()
        {
            Alive = false;
            try
            {
                await Sink.DisposeAsync();
            }
            catch (SimulatedDeathException)
            {
                // A dead process aborts nothing.
            }
        }
    }
}
