using Analytics.Streaming.Kinesis;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.DynamoDB.IntegrationTests.Leases;

/// <summary>
/// The lease coordinator against dynalite, on a fake clock: each test drives renewals and scans step by step, so
/// expiry and balancing are decided by the clock the test moves, never by timing.
/// </summary>
public sealed class LeaseCoordinatorTests(DynaliteServer dynalite, KinesaliteServer kinesalite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static TimeSpan TakingInterval => LeaseTestKit.FailoverTime / 5;

    [Fact]
    public async Task SingleWorker_TakesEveryUnownedLease_AtOnce()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "single");
        var keys = await kit.CreateLeasesAsync(4, Ct);
        var worker = kit.Coordinator("w1");

        var taken = await worker.TakeLeasesAsync(Ct);

        Assert.Equal(keys, taken.Select(l => l.LeaseKey).Order(StringComparer.Ordinal));
        Assert.Equal(keys, worker.HeldLeases.Select(l => l.LeaseKey));
        var stored = await kit.Table.ListLeasesAsync(Ct);
        Assert.All(stored, l =>
        {
            Assert.Equal("w1", l.LeaseOwner);
            Assert.Equal(1, l.LeaseCounter);
            Assert.Equal(0, l.OwnerSwitchesSinceCheckpoint); // nobody held it before: not a switch
        });
    }

    [Fact]
    public async Task Renewal_RaisesTheCounter_SoAWatchingWorkerNeverSeesTheLeaseExpire()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "renew");
        await kit.CreateLeasesAsync(2, Ct);
        var holder = kit.Coordinator("holder");
        var watcher = kit.Coordinator("watcher", maxSteal: 0);
        await holder.TakeLeasesAsync(Ct);

        for (int round = 0; round < 30; round++)
        {
            // Three failover times pass: the holder renews every taking interval, the watcher scans every interval.
            Assert.Empty(await watcher.TakeLeasesAsync(Ct));
            kit.Time.Advance(TakingInterval);
            await holder.RenewLeasesAsync(Ct);
        }

        Assert.Equal(2, holder.HeldLeases.Count);
        Assert.Empty(watcher.HeldLeases);
        Assert.All(await kit.Table.ListLeasesAsync(Ct), l => Assert.Equal(31, l.LeaseCounter));
    }

    [Fact]
    public async Task ExpiredLeases_AreTakenOnceTheCounterStayedUnchangedForTheFailoverTime_AndNotBefore()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "expiry");
        await kit.CreateLeasesAsync(4, Ct);
        var dead = kit.Coordinator("dead");
        var survivor = kit.Coordinator("survivor", maxSteal: 0);
        await dead.TakeLeasesAsync(Ct);

        // The survivor first sees the counters now; they never change again (the dead worker stops renewing).
        Assert.Empty(await survivor.TakeLeasesAsync(Ct));
        kit.Time.Advance(LeaseTestKit.FailoverTime - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await survivor.TakeLeasesAsync(Ct));
        Assert.Equal(2, survivor.WorkerCount); // the dead worker's leases still look alive: it still counts

        kit.Time.Advance(TimeSpan.FromMilliseconds(1));
        var taken = await survivor.TakeLeasesAsync(Ct);

        Assert.Equal(4, taken.Count);
        Assert.Equal(1, survivor.WorkerCount);
        Assert.All(await kit.Table.ListLeasesAsync(Ct), l =>
        {
            Assert.Equal("survivor", l.LeaseOwner);
            Assert.Equal(1, l.OwnerSwitchesSinceCheckpoint);
        });

        // The dead worker, had it only paused, no longer treats the leases as held (its renewals stopped for the
        // failover time), and its next renewal finds them taken.
        Assert.Empty(dead.HeldLeases);
        Assert.False(dead.GetShard(LeaseTestKit.ShardId(0)).IsAssigned);
        await dead.RenewLeasesAsync(Ct);
        await kit.AssertSingleOwnersAsync([dead, survivor], Ct);
    }

    [Fact]
    public async Task ExpiredLeases_OnAClockOfNanosecondTimestamps_AreTakenAfterLongSilences()
    {
        // TimeProvider.System counts in nanoseconds on Linux: elapsed times past 15 minutes must not overflow.
        using var kit = new LeaseTestKit(dynalite, kinesalite, "nanoexpiry");
        await kit.CreateLeasesAsync(2, Ct);
        var clock = new NanosecondClock(kit.Time);
        LeaseCoordinator Coordinator(string worker) => new(kit.DynamoDb, kit.Kinesis, new LeaseCoordinatorOptions
        {
            ApplicationName = kit.TableName,
            StreamName = "unused",
            WorkerId = worker,
            FailoverTime = LeaseTestKit.FailoverTime,
            MaxLeasesToStealAtOneTime = 0,
            TimeProvider = clock,
        });
        var dead = Coordinator("dead");
        var survivor = Coordinator("survivor");
        await dead.TakeLeasesAsync(Ct);
        Assert.Empty(await survivor.TakeLeasesAsync(Ct));

        kit.Time.Advance(TimeSpan.FromSeconds(1000));

        Assert.False(dead.Holds(LeaseTestKit.ShardId(0)));
        Assert.Equal(2, (await survivor.TakeLeasesAsync(Ct)).Count);
    }

    [Fact]
    public async Task FailedRenewals_StopTheHolderBeforeAnotherWorkerCanTakeTheLease()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "selfexpiry");
        await kit.CreateLeasesAsync(1, Ct);
        var holder = kit.Coordinator("holder");
        await holder.TakeLeasesAsync(Ct);
        var other = kit.Coordinator("other", maxSteal: 0);
        await other.TakeLeasesAsync(Ct); // observes the counter after the take

        kit.Time.Advance(LeaseTestKit.FailoverTime);

        // At the very moment the other worker may take the lease, the holder already considers it lost.
        Assert.False(holder.Holds(LeaseTestKit.ShardId(0)));
        Assert.Single(await other.TakeLeasesAsync(Ct));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Balancing_ConvergesToAnEvenShare_StealingAtMostOneAtATime(int workerCount)
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, $"balance{workerCount}");
        const int LeaseCount = 11;
        await kit.CreateLeasesAsync(LeaseCount, Ct);
        var workers = Enumerable.Range(1, workerCount).Select(i => kit.Coordinator($"w{i}")).ToList();
        int floor = LeaseCount / workerCount;
        int ceiling = (LeaseCount + workerCount - 1) / workerCount;

        int rounds = 0;
        while (true)
        {
            var before = workers.ToDictionary(w => w.WorkerId, w => w.HeldLeases.Count);
            foreach (var worker in workers)
            {
                await worker.RenewLeasesAsync(Ct);
                var taken = await worker.TakeLeasesAsync(Ct);
                bool stealing = before.Values.Sum() == LeaseCount;
                if (stealing)
                {
                    Assert.True(taken.Count <= 1, $"{worker.WorkerId} stole {taken.Count} leases in one round");
                }
            }

            foreach (var worker in workers)
            {
                await worker.RenewLeasesAsync(Ct); // the workers stolen from learn it here
            }

            await kit.AssertSingleOwnersAsync(workers, Ct);
            var counts = workers.Select(w => w.HeldLeases.Count).ToList();
            if (counts.Sum() == LeaseCount && counts.All(c => c == floor || c == ceiling))
            {
                break;
            }

            Assert.True(++rounds < 40, $"not balanced after 40 rounds: {string.Join(", ", counts)}");
            kit.Time.Advance(TakingInterval);
        }

        // Balanced is stable: more rounds move nothing.
        var settled = workers.ToDictionary(w => w.WorkerId, w => string.Join(",", w.HeldLeases.Select(l => l.LeaseKey)));
        for (int i = 0; i < 5; i++)
        {
            kit.Time.Advance(TakingInterval);
            foreach (var worker in workers)
            {
                await worker.RenewLeasesAsync(Ct);
                Assert.Empty(await worker.TakeLeasesAsync(Ct));
            }
        }

        Assert.Equal(settled, workers.ToDictionary(w => w.WorkerId, w => string.Join(",", w.HeldLeases.Select(l => l.LeaseKey))));
        Assert.All(workers, w => Assert.Equal(workerCount, w.WorkerCount));
    }

    [Fact]
    public async Task Stealing_TakesAtMostMaxLeasesToStealAtOneTime_PerScan()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "steal");
        await kit.CreateLeasesAsync(12, Ct);
        var busy = kit.Coordinator("busy");
        var idle = kit.Coordinator("idle", maxSteal: 2);
        Assert.Equal(12, (await busy.TakeLeasesAsync(Ct)).Count);

        var stolen = await idle.TakeLeasesAsync(Ct);

        Assert.Equal(2, stolen.Count);
        Assert.All(stolen, l => Assert.Equal(1, l.OwnerSwitchesSinceCheckpoint));
        await busy.RenewLeasesAsync(Ct);
        Assert.Equal(10, busy.HeldLeases.Count);
        await kit.AssertSingleOwnersAsync([busy, idle], Ct);
    }

    [Fact]
    public async Task ConcurrentTakes_OfTheSameLease_HaveExactlyOneWinner()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "race");
        await kit.CreateLeasesAsync(1, Ct);
        var observed = (await kit.Table.ListLeasesAsync(Ct)).Single();

        for (int round = 0; round < 10; round++)
        {
            var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(() => kit.Table.TakeLeaseAsync(observed, $"w{i}", Ct), Ct)).ToArray();
            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r is not null)!;
            var stored = (await kit.Table.ListLeasesAsync(Ct)).Single();
            Assert.Equal(winner.LeaseOwner, stored.LeaseOwner);
            Assert.Equal(observed.LeaseCounter + 1, stored.LeaseCounter);
            observed = stored;
        }
    }

    [Fact]
    public async Task ConcurrentScansAndTakes_ByFiveWorkers_NeverLeaveALeaseWithTwoHolders()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "racescan");
        await kit.CreateLeasesAsync(20, Ct);
        // No stealing here (a worker stolen from learns it at its next renewal; the balancing test covers that):
        // every take below is of an unowned or expired lease, and the races are between takers only.
        var first = Enumerable.Range(1, 5).Select(i => kit.Coordinator($"a{i}", maxSteal: 0)).ToList();

        // Every worker sees 20 unowned leases and one worker (itself): each tries to take all 20 at once.
        await Task.WhenAll(first.Select(w => Task.Run(() => w.TakeLeasesAsync(Ct), Ct)));
        await kit.AssertSingleOwnersAsync(first, Ct);
        Assert.Equal(20, first.Sum(w => w.HeldLeases.Count));

        // They all die; a second generation races for the expired leases.
        var second = Enumerable.Range(1, 5).Select(i => kit.Coordinator($"b{i}", maxSteal: 0)).ToList();
        await Task.WhenAll(second.Select(w => w.TakeLeasesAsync(Ct)));
        kit.Time.Advance(LeaseTestKit.FailoverTime);
        for (int round = 0; ; round++)
        {
            // Scans interleave with the others' takes, so one round may leave some expired leases for the next.
            await Task.WhenAll(second.Select(w => Task.Run(() => w.TakeLeasesAsync(Ct), Ct)));
            await kit.AssertSingleOwnersAsync([.. first, .. second], Ct);
            if (second.Sum(w => w.HeldLeases.Count) == 20)
            {
                break;
            }

            Assert.True(round < 10, "the expired leases were not all taken within 10 rounds");
            kit.Time.Advance(TakingInterval);
            await Task.WhenAll(second.Select(w => w.RenewLeasesAsync(Ct)));
        }

        var owners = await kit.OwnersAsync(Ct);
        Assert.All(owners.Values, o => Assert.StartsWith("b", o, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Release_LetsAnotherWorkerTakeTheLeasesWithoutWaitingForTheFailoverTime()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "release");
        await kit.CreateLeasesAsync(3, Ct);
        var leaving = kit.Coordinator("leaving");
        var staying = kit.Coordinator("staying", maxSteal: 0);
        await leaving.TakeLeasesAsync(Ct);
        await leaving.CheckpointAsync(LeaseTestKit.ShardId(1), new LeaseCheckpoint("4950", 2), Ct);
        Assert.Empty(await staying.TakeLeasesAsync(Ct));

        await leaving.ReleaseAllAsync(Ct);

        Assert.Empty(leaving.HeldLeases);
        var released = await kit.Table.ListLeasesAsync(Ct);
        Assert.All(released, l => Assert.Null(l.LeaseOwner));
        Assert.Equal(3, (await staying.TakeLeasesAsync(Ct)).Count); // no clock movement needed
        var resumed = staying.GetShard(LeaseTestKit.ShardId(1));
        Assert.True(resumed.IsAssigned);
        Assert.Equal(new StreamPosition(LeaseTestKit.ShardId(1), SequenceNumber.Parse("4950"), 2), resumed.ResumeAfter);
    }

    [Fact]
    public async Task Checkpoint_IsConditionalOnOwnerAndCounter_AndResetsOwnerSwitches()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "checkpoint");
        await kit.CreateLeasesAsync(1, Ct);
        string key = LeaseTestKit.ShardId(0);
        var first = kit.Coordinator("first");
        await first.TakeLeasesAsync(Ct);
        var second = kit.Coordinator("second", maxSteal: 0);
        await second.TakeLeasesAsync(Ct);
        kit.Time.Advance(LeaseTestKit.FailoverTime);
        Assert.Single(await second.TakeLeasesAsync(Ct));
        Assert.Equal(1, (await kit.Table.GetLeaseAsync(key, Ct))!.OwnerSwitchesSinceCheckpoint);

        var written = await second.CheckpointAsync(key, new LeaseCheckpoint("12345"), Ct);

        Assert.Equal("12345", written.Checkpoint.SequenceNumber);
        Assert.Equal(0, written.OwnerSwitchesSinceCheckpoint);
        await Assert.ThrowsAsync<LeaseLostException>(() => first.CheckpointAsync(key, new LeaseCheckpoint("99999"), Ct));

        // A worker that believes it holds the lease but lost it is refused by the condition, not by its own books.
        var stale = (await kit.Table.GetLeaseAsync(key, Ct))! with { LeaseOwner = "first" };
        Assert.Null(await kit.Table.CheckpointAsync(stale, new LeaseCheckpoint("99999"), Ct));
        Assert.Equal("12345", (await kit.Table.GetLeaseAsync(key, Ct))!.Checkpoint.SequenceNumber);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("dynamodb")]
    public async Task StolenLease_TheOldOwnersCheckpointsAreRefusedByTheStore_BeforeItsRenewalNoticesTheLoss(string storeKind)
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "fence");
        await kit.CreateLeasesAsync(2, Ct);
        IFencedCheckpointStore checkpoints = new InMemoryCheckpointStore();
        if (storeKind == "dynamodb")
        {
            string table = DynaliteServer.NewTableName("fence-checkpoints");
            await DynamoDbTestKit.CreateTableAsync(kit.DynamoDb, DynamoDbCheckpointStore.CreateTableRequest(table), Ct);
            checkpoints = new DynamoDbCheckpointStore(kit.DynamoDb, new() { TableName = table });
        }

        var oldOwner = kit.Coordinator("old");
        var newOwner = kit.Coordinator("new");
        await oldOwner.TakeLeasesAsync(Ct);
        var oldStores = new Dictionary<string, LeaseFencedCheckpointStore>(StringComparer.Ordinal);
        foreach (var lease in oldOwner.HeldLeases)
        {
            var store = oldStores[lease.LeaseKey] = new LeaseFencedCheckpointStore(checkpoints, oldOwner, lease.LeaseKey, NullLogger.Instance);
            Assert.Null(await store.LoadAsync($"orders/{lease.LeaseKey}", Ct));
            await store.SaveAsync(DynamoDbCheckpointStoreTests.Checkpoint($"orders/{lease.LeaseKey}"), Ct);
            await store.SaveAsync(DynamoDbCheckpointStoreTests.Checkpoint($"orders/{lease.LeaseKey}", extraCheckpoints: 1), Ct);
        }

        // The new worker steals one shard; the old one has not renewed since, so by its own books it still holds it.
        string shard = Assert.Single(await newOwner.TakeLeasesAsync(Ct)).LeaseKey;
        string pipeline = $"orders/{shard}";
        Assert.True(oldOwner.Holds(shard));
        var oldStore = oldStores[shard];
        var newStore = new LeaseFencedCheckpointStore(checkpoints, newOwner, shard, NullLogger.Instance);
        Assert.Equal(2, (await newStore.LoadAsync(pipeline, Ct))!.Id);
        Assert.True(newStore.ClaimedFence > oldStore.ClaimedFence && oldStore.ClaimedFence > 0, $"claims {oldStore.ClaimedFence}, then {newStore.ClaimedFence}"); // what the pipeline hands its listeners

        // The old owner's next checkpoint (id 3) is refused by the store, not by its books; the new owner's id 3 is kept.
        var refused = await Assert.ThrowsAsync<LeaseLostException>(async () => await oldStore.SaveAsync(DynamoDbCheckpointStoreTests.Checkpoint(pipeline, keys: 9, extraCheckpoints: 2), Ct));
        Assert.IsType<CheckpointFencedException>(refused.InnerException); // so the pipeline tells its sinks to undo the epoch
        Assert.Equal(2, (await checkpoints.LoadAsync(pipeline, Ct))!.Id);
        var third = DynamoDbCheckpointStoreTests.Checkpoint(pipeline, keys: 4, extraCheckpoints: 2);
        await newStore.SaveAsync(third, Ct);
        Assert.Equal(third.ToBytes(), (await checkpoints.LoadAsync(pipeline, Ct))!.ToBytes());
        Assert.Equal("new", (await kit.Table.GetLeaseAsync(shard, Ct))!.LeaseOwner);

        // Once its renewal notices the loss, the old owner's store refuses by its own books, with the same cause.
        await oldOwner.RenewLeasesAsync(Ct);
        Assert.False(oldOwner.Holds(shard));
        refused = await Assert.ThrowsAsync<LeaseLostException>(async () => await oldStore.SaveAsync(DynamoDbCheckpointStoreTests.Checkpoint(pipeline, keys: 9, extraCheckpoints: 3), Ct));
        Assert.IsType<CheckpointFencedException>(refused.InnerException);
    }

    [Fact]
    public async Task StolenLease_TheOldOwnersPipeline_TellsItsSinksItsCheckpointWasRefusedAndStops()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "refuse");
        await kit.CreateLeasesAsync(2, Ct);
        var checkpoints = new InMemoryCheckpointStore();
        var oldOwner = kit.Coordinator("old");
        var newOwner = kit.Coordinator("new");
        await oldOwner.TakeLeasesAsync(Ct);

        // The old owner runs one pipeline per shard; each reads a batch, then waits for the test before its source ends.
        var sourcesEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new Dictionary<string, (RefusalListener Sink, Task Run)>(StringComparer.Ordinal);
        foreach (var lease in oldOwner.HeldLeases)
        {
            var sink = new RefusalListener();
            var pipeline = StreamPipeline.Create<long>(new StreamPipelineOptions
                {
                    Name = $"orders/{lease.LeaseKey}",
                    CheckpointStore = new LeaseFencedCheckpointStore(checkpoints, oldOwner, lease.LeaseKey, NullLogger.Instance),
                    CheckpointInterval = TimeSpan.FromHours(1),
                })
                .WithEventTime(ms => ms)
                .KeyBy(_ => 1)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
                .Aggregate(a => a.Count())
                .To(sink)
                .Build();
            runs[lease.LeaseKey] = (sink, pipeline.RunAsync(new GatedSource(sourcesEnd.Task), Ct));
        }

        foreach (var (sink, _) in runs.Values)
        {
            await sink.Restored.Task.WaitAsync(TimeSpan.FromMinutes(1), Ct);
        }

        // The new worker steals one shard and claims its checkpoint; then both sources end and both pipelines save.
        string stolen = Assert.Single(await newOwner.TakeLeasesAsync(Ct)).LeaseKey;
        Assert.Null(await new LeaseFencedCheckpointStore(checkpoints, newOwner, stolen, NullLogger.Instance).LoadAsync($"orders/{stolen}", Ct));
        sourcesEnd.SetResult();

        await Assert.ThrowsAsync<LeaseLostException>(() => runs[stolen].Run);
        Assert.Equal(["restore 0", "refused 1"], runs[stolen].Sink.Calls);
        string kept = runs.Keys.Single(k => k != stolen);
        await runs[kept].Run;
        Assert.Equal(["restore 0", "completed 1"], runs[kept].Sink.Calls);
        Assert.Null(await checkpoints.LoadAsync($"orders/{stolen}", Ct));
        Assert.Equal(1, (await checkpoints.LoadAsync($"orders/{kept}", Ct))!.Id);
    }

    /// <summary>One record, then waits until the test lets the source end.</summary>
    private sealed class GatedSource(Task end) : IEventSource<long>
    {
        public bool CanResume => true;

        public async IAsyncEnumerable<RecordBatch<long>> ReadBatchesAsync(SourceContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return new RecordBatch<long>("p0", new[] { new StreamRecord<long>(1_767_225_600_000, SequenceNumber.FromInt64(1)) });
            await end.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A sink that only records what the pipeline tells it as a checkpoint listener.</summary>
    private sealed class RefusalListener : ISink<WindowResult<int, long>>, ICheckpointListener
    {
        public List<string> Calls { get; } = [];

        public TaskCompletionSource Restored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<int, long>> items, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RestoreAsync(string pipelineName, long checkpointId, CancellationToken cancellationToken)
        {
            Calls.Add($"restore {checkpointId}");
            Restored.TrySetResult();
            return ValueTask.CompletedTask;
        }

        public ValueTask CheckpointCompletedAsync(long checkpointId, CancellationToken cancellationToken)
        {
            Calls.Add($"completed {checkpointId}");
            return ValueTask.CompletedTask;
        }

        public ValueTask CheckpointRefusedAsync(long checkpointId, CancellationToken cancellationToken)
        {
            Calls.Add($"refused {checkpointId}");
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task ShardSync_AfterTwoSplitsSinceTheLastSync_StartsEveryDescendantOfALeaseAtTheTrimHorizon()
    {
        // With InitialPosition = Latest, only shards of the first sync start at LATEST: a grandchild created with its
        // parent between two syncs must not skip what was written to it before its parent ended.
        using var kit = new LeaseTestKit(dynalite, kinesalite, "grandchild");
        string stream = KinesaliteServer.NewStreamName("grandchild");
        var admin = kinesalite.Admin;
        await admin.CreateStreamAsync(stream, 1, Ct);
        var worker = new LeaseCoordinator(kit.DynamoDb, kit.Kinesis, new LeaseCoordinatorOptions
        {
            ApplicationName = kit.TableName,
            StreamName = stream,
            WorkerId = "w",
            TimeProvider = kit.Time,
            InitialPosition = KinesisStartingPosition.Latest,
        });
        await worker.InitializeAsync(Ct);
        Assert.Equal(1, await worker.SyncShardsAsync(Ct));
        string parent = Assert.Single(await admin.ListShardsAsync(stream, Ct)).ShardId;

        await admin.SplitShardInHalfAsync(stream, parent, Ct);
        string child = (await admin.ListShardsAsync(stream, Ct)).First(s => s.ParentShardId == parent).ShardId;
        await admin.SplitShardInHalfAsync(stream, child, Ct);
        Assert.Equal(4, await worker.SyncShardsAsync(Ct));

        var leases = (await kit.Table.ListLeasesAsync(Ct)).ToDictionary(l => l.LeaseKey, StringComparer.Ordinal);
        Assert.Equal(LeaseCheckpoint.Latest, leases[parent].Checkpoint);
        Assert.All(leases.Values.Where(l => l.LeaseKey != parent), l => Assert.Equal(LeaseCheckpoint.TrimHorizon, l.Checkpoint));
    }

    [Fact]
    public async Task ChildLeases_AreTakenOnlyAfterEveryParentReachedShardEnd_AcrossSplitAndMerge()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "lineage");
        await kit.Table.CreateTableIfNotExistsAsync(Ct);

        // Split: P -> L, R. Merge: R + Q -> M.
        await kit.Table.CreateLeaseIfNotExistsAsync(new KinesisLease { LeaseKey = "P", ChildShardIds = ["L", "R"] }, Ct);
        await kit.Table.CreateLeaseIfNotExistsAsync(new KinesisLease { LeaseKey = "Q", ChildShardIds = ["M"] }, Ct);
        await kit.Table.CreateLeaseIfNotExistsAsync(new KinesisLease { LeaseKey = "L", ParentShardIds = ["P"] }, Ct);
        await kit.Table.CreateLeaseIfNotExistsAsync(new KinesisLease { LeaseKey = "R", ParentShardIds = ["P"], ChildShardIds = ["M"] }, Ct);
        await kit.Table.CreateLeaseIfNotExistsAsync(new KinesisLease { LeaseKey = "M", ParentShardIds = ["Q", "R"] }, Ct);
        var worker = kit.Coordinator("w");

        Assert.Equal(["P", "Q"], (await worker.TakeLeasesAsync(Ct)).Select(l => l.LeaseKey).Order(StringComparer.Ordinal));
        Assert.False(worker.GetShard("L").IsAssigned);

        await worker.CheckpointAsync("P", LeaseCheckpoint.ShardEnd, Ct);
        Assert.True(worker.GetShard("P").IsFinished);
        Assert.False(worker.Holds("P")); // a finished lease is released: it needs no owner
        Assert.Equal(["L", "R"], (await worker.TakeLeasesAsync(Ct)).Select(l => l.LeaseKey).Order(StringComparer.Ordinal));

        await worker.CheckpointAsync("R", LeaseCheckpoint.ShardEnd, Ct);
        Assert.Empty(await worker.TakeLeasesAsync(Ct)); // M still waits for Q

        await worker.CheckpointAsync("Q", LeaseCheckpoint.ShardEnd, Ct);
        Assert.Equal(["M"], (await worker.TakeLeasesAsync(Ct)).Select(l => l.LeaseKey));
    }
}

/// <summary>The fake clock's time with timestamps in nanoseconds, as <see cref="TimeProvider.System"/> has them on Linux.</summary>
internal sealed class NanosecondClock(FakeTimeProvider time) : TimeProvider
{
    private readonly long _start = time.GetTimestamp();

    public override long TimestampFrequency => 1_000_000_000;

    public override long GetTimestamp() => (time.GetTimestamp() - _start) * (1_000_000_000 / time.TimestampFrequency);

    public override DateTimeOffset GetUtcNow() => time.GetUtcNow();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => time.CreateTimer(callback, state, dueTime, period);
}
