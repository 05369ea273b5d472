using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests.Leases;

/// <summary>
/// Three lease workers (in this process, each with its own clients, coordinator and pipelines) share a stream
/// on kinesalite through one lease table on dynalite; one is killed mid-stream (all its DynamoDB calls, checkpoint
/// saves and sink writes fail from that instant, as if the process had died). Its leases are taken after the failover
/// time, and the union of what the workers delivered, and the merged per-shard window counts, equal what was written.
/// </summary>
public sealed class LeaseWorkerEndToEndTests(DynaliteServer dynalite, KinesaliteServer kinesalite)
{
    private const string PipelineName = "orders";
    private static readonly TimeSpan FailoverTime = TimeSpan.FromSeconds(3);
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task ThreeWorkers_FourShards_OneKilledMidStream_NothingLost_NothingCountedTwice() => RunAsync(shardCount: 4, reshard: false);

    [Fact]
    public Task ThreeWorkers_EightShards_SplitAndMergeMidStream_ThenOneKilled_NothingLost_NothingCountedTwice() => RunAsync(shardCount: 8, reshard: true);

    private async Task RunAsync(int shardCount, bool reshard)
    {
        string stream = KinesaliteServer.NewStreamName("leases-e2e");
        string table = DynaliteServer.NewTableName("leases-e2e");
        await kinesalite.Admin.CreateStreamAsync(stream, shardCount, Ct);
        var shards = await kinesalite.Admin.ListShardsAsync(stream, Ct);
        var run = new SharedRun();
        using var kinesis = LeaseTestKit.CreateKinesis(kinesalite.Endpoint);

        var workers = Enumerable.Range(1, 3).Select(i => new WorkerHandle($"worker-{i}", dynalite.Endpoint, kinesis, stream, table, run)).ToList();
        var runs = workers.Select(w => Task.Run(() => w.Worker.RunAsync(w.Stop.Token), Ct)).ToList();

        // Phase 1: records while the workers start and balance (4 shards over 3 workers: 2, 1, 1; 8: 3, 3, 2).
        var written = new Dictionary<long, string>();
        await WriteAsync(stream, written, 0, 400);
        await WaitUntilAsync(() => workers.All(w => w.Coordinator.HeldLeases.Count >= 1) && workers.Sum(w => w.Coordinator.HeldLeases.Count) == shardCount, "every shard leased, every worker holding one");
        await WriteAsync(stream, written, 400, 400);
        await WaitUntilAsync(() => run.Distinct >= 500, "the workers consuming");

        if (reshard)
        {
            // Split one shard and merge two others while the workers read: parents must be read to their end (and
            // their windows closed) before their children start, whoever holds which lease.
            await kinesalite.Admin.SplitShardInHalfAsync(stream, shards[0].ShardId, Ct);
            await kinesalite.Admin.MergeShardsAsync(stream, shards[2].ShardId, shards[3].ShardId, Ct);
            await WriteAsync(stream, written, 800, 200);
            await WaitUntilAsync(() => run.Distinct >= 900, "the workers consuming the children");
        }

        // Kill the worker holding the most shards, mid-stream.
        var victim = workers.OrderByDescending(w => w.Coordinator.HeldLeases.Count).First();
        var victimShards = victim.Coordinator.HeldLeases.Select(l => l.LeaseKey).ToHashSet(StringComparer.Ordinal);
        var killedAt = Stopwatch.GetTimestamp();
        victim.Kill();
        await WriteAsync(stream, written, 1000, 400);

        var survivors = workers.Where(w => w != victim).ToList();
        await WaitUntilAsync(() => survivors.Sum(w => w.Coordinator.HeldLeases.Count) == shardCount, "the survivors holding every shard");
        var takeover = Stopwatch.GetElapsedTime(killedAt);

        // A record far in the future on every shard closes every window; then every count must add up.
        foreach (var shard in (await kinesalite.Admin.ListShardsAsync(stream, Ct)).Where(s => !s.IsClosed))
        {
            await kinesalite.Admin.PutRecordAsync(stream, "end", Encoding.UTF8.GetBytes($"end|{(T0 + TimeSpan.FromHours(1)).ToUnixTimeMilliseconds()}|-1"), shard.StartingHashKey.ToString(CultureInfo.InvariantCulture), Ct);
        }

        await WaitUntilAsync(() => written.Keys.All(run.Delivered.ContainsKey), "every written record delivered");
        var expected = written.GroupBy(w => w.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        await WaitUntilAsync(() => expected.All(e => run.CountFor(e.Key) == e.Value), "every key's windows closed and counted");

        // Graceful shutdown of the survivors: final checkpoints, then every lease released.
        foreach (var worker in survivors)
        {
            await worker.Stop.CancelAsync();
        }

        await Task.WhenAll(survivors.Select(w => runs[workers.IndexOf(w)]));
        await victim.Stop.CancelAsync();
        await runs[workers.IndexOf(victim)].ContinueWith(_ => { }, TaskScheduler.Default);

        // Nothing lost: every record written was delivered to some worker's pipeline.
        Assert.All(written.Keys, id => Assert.True(run.Delivered.ContainsKey(id), $"record {id} was never delivered"));

        // Nothing counted twice: per key, the per-shard window results (the latest write of each result identity,
        // as a keyed sink keeps them) add up to the records written.
        foreach (var (key, count) in expected)
        {
            Assert.Equal(count, run.CountFor(key));
        }

        // Leases: released (no owner), checkpointed at the pipeline's saved positions.
        using var dynamoDb = LeaseTestKit.CreateDynamoDb(dynalite.Endpoint);
        var leases = await new DynamoDbLeaseTable(dynamoDb, table).ListLeasesAsync(Ct);
        Assert.All(leases, l => Assert.Null(l.LeaseOwner));
        foreach (var lease in leases)
        {
            var saved = (await run.Checkpoints.LoadAsync($"{PipelineName}/{lease.LeaseKey}", Ct))?.FindPartition(lease.LeaseKey);
            if (lease.IsFinished)
            {
                Assert.True(saved is { IsEnded: true }, $"{lease.LeaseKey} is at SHARD_END but its pipeline did not checkpoint the end");
            }
            else
            {
                Assert.Equal(saved?.ResumeAfter, lease.Checkpoint.ToResumePosition(lease.LeaseKey));
            }
        }

        Assert.Contains(leases, l => victimShards.Contains(l.LeaseKey) && l.OwnerSwitchesSinceCheckpoint == 0 && (l.Checkpoint.IsSequenceNumber || l.IsFinished));
        if (reshard)
        {
            // The parents were finished (SHARD_END) and their children have leases with the lineage.
            var byKey = leases.ToDictionary(l => l.LeaseKey, StringComparer.Ordinal);
            foreach (var parent in (string[])[shards[0].ShardId, shards[2].ShardId, shards[3].ShardId])
            {
                Assert.True(byKey[parent].IsFinished, $"{parent} is at {byKey[parent].Checkpoint}");
                Assert.NotEmpty(byKey[parent].ChildShardIds);
                Assert.All(byKey[parent].ChildShardIds, c => Assert.Contains(parent, byKey[c].ParentShardIds));
            }

            Assert.Equal(shardCount + 3, leases.Count); // the original shards, 2 children of the split, 1 of the merge
        }

        int duplicates = run.Deliveries - run.Distinct;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{(reshard ? "split and merge, then " : string.Empty)}records written {written.Count}; deliveries {run.Deliveries} ({duplicates} duplicates, {(double)duplicates / written.Count:P1}); " +
            $"the killed worker held {victimShards.Count} shards; the survivors held every shard {takeover.TotalSeconds:F1} s after the kill (failover time {FailoverTime.TotalSeconds} s)");
        Assert.True(duplicates <= written.Count / 2, $"{duplicates} duplicate deliveries of {written.Count} records");
    }

    private async Task WriteAsync(string stream, Dictionary<long, string> written, int from, int count)
    {
        var batch = new List<(string PartitionKey, byte[] Data)>();
        for (long id = from; id < from + count; id++)
        {
            string key = string.Create(CultureInfo.InvariantCulture, $"key-{(id * 7919) % 37}");
            long ts = (T0 + TimeSpan.FromMilliseconds(id * 50)).ToUnixTimeMilliseconds();
            batch.Add((key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{key}|{ts}|{id}"))));
            written[id] = key;
            if (batch.Count == 100)
            {
                await kinesalite.Admin.PutRecordsAsync(stream, batch, Ct);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            await kinesalite.Admin.PutRecordsAsync(stream, batch, Ct);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        while (!condition())
        {
            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail($"Waited 3 minutes for {what}.");
            }
        }
    }

    /// <summary>An order: key, event time, id.</summary>
    private sealed record Order(string Key, long Ts, long Id);

    /// <summary>What the workers share, as if in a database: the checkpoint store, the result table, the delivery log.</summary>
    private sealed class SharedRun
    {
        private int _deliveries;

        public InMemoryCheckpointStore Checkpoints { get; } = new();

        public ConcurrentDictionary<string, (string Key, long Count)> Results { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<long, int> Delivered { get; } = new();

        public int Deliveries => Volatile.Read(ref _deliveries);

        public int Distinct => Delivered.Count;

        public long CountFor(string key) => Results.Values.Where(r => r.Key == key).Sum(r => r.Count);

        public void OnDelivered(long id)
        {
            Interlocked.Increment(ref _deliveries);
            Delivered.AddOrUpdate(id, 1, static (_, n) => n + 1);
        }
    }

    /// <summary>One worker: its own DynamoDB client (through a kill switch), coordinator and pipelines.</summary>
    private sealed class WorkerHandle
    {
        private volatile bool _killed;

        public WorkerHandle(string id, Uri dynaliteEndpoint, KinesisClient kinesis, string stream, string table, SharedRun run)
        {
            var dynamoDb = new AmazonDynamoDBClient(
                new BasicAWSCredentials("AKIDTEST", "secret"),
                new AmazonDynamoDBConfig { ServiceURL = dynaliteEndpoint.ToString(), AuthenticationRegion = "us-east-1", HttpClientFactory = new KillableHttpClientFactory(this), MaxErrorRetry = 1 });
            Coordinator = new LeaseCoordinator(dynamoDb, kinesis, new LeaseCoordinatorOptions
            {
                ApplicationName = table,
                StreamName = stream,
                WorkerId = id,
                FailoverTime = FailoverTime,
                ShardSyncInterval = TimeSpan.FromSeconds(2),
            });
            var consumerOptions = new KinesisConsumerOptions
            {
                StreamName = stream,
                MaxRecordsPerCall = 50,
                IdleTimeBetweenReads = TimeSpan.FromMilliseconds(100),
                ShardDiscoveryInterval = TimeSpan.FromSeconds(1),
                ParentCheckpointPollInterval = TimeSpan.FromMilliseconds(50),
                Retry = { BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
            };
            Worker = new KinesisLeaseWorker(Coordinator, kinesis, consumerOptions, new KillableStore(this, run.Checkpoints), async (shard, token) =>
            {
                var pipeline = StreamPipeline.Create<Order>(new StreamPipelineOptions
                {
                    Name = PipelineName,
                    Partition = shard.ShardId,
                    CheckpointStore = shard.CheckpointStore,
                    CheckpointInterval = TimeSpan.FromMilliseconds(300),
                    TickInterval = TimeSpan.FromMilliseconds(100),
                })
                    .WithEventTime(o => o.Ts, maxOutOfOrderness: TimeSpan.FromSeconds(1), idleTimeout: Timeout.InfiniteTimeSpan)
                    .KeyBy(o => o.Key)
                    .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                    .Aggregate(a => a.Count())
                    .To(new KillableResultSink(this, run))
                    .Build();
                await pipeline.RunAsync(new DeliveryLog(this, run, shard.Source.Decode(new OrderDecoder())), token);
            });
        }

        public LeaseCoordinator Coordinator { get; }

        public KinesisLeaseWorker Worker { get; }

        public CancellationTokenSource Stop { get; } = new();

        public bool Killed => _killed;

        public void Kill() => _killed = true;

        public void ThrowIfKilled()
        {
            if (_killed)
            {
                throw new IOException("The worker process is dead.");
            }
        }
    }

    private sealed class KillableHttpClientFactory(WorkerHandle worker) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new KillSwitchHandler(worker) { InnerHandler = new SocketsHttpHandler() });
    }

    private sealed class KillSwitchHandler(WorkerHandle worker) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            worker.Killed ? Task.FromException<HttpResponseMessage>(new HttpRequestException("The worker process is dead.")) : base.SendAsync(request, cancellationToken);
    }

    private sealed class KillableStore(WorkerHandle worker, InMemoryCheckpointStore inner) : IFencedCheckpointStore
    {
        public ValueTask<PipelineCheckpoint?> LoadAsync(string pipelineName, CancellationToken cancellationToken)
        {
            worker.ThrowIfKilled();
            return inner.LoadAsync(pipelineName, cancellationToken);
        }

        public ValueTask<PipelineCheckpoint?> ClaimAsync(string pipelineName, long fence, CancellationToken cancellationToken)
        {
            worker.ThrowIfKilled();
            return inner.ClaimAsync(pipelineName, fence, cancellationToken);
        }

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, CancellationToken cancellationToken)
        {
            worker.ThrowIfKilled();
            return inner.SaveAsync(checkpoint, cancellationToken);
        }

        public ValueTask SaveAsync(PipelineCheckpoint checkpoint, long fence, CancellationToken cancellationToken)
        {
            worker.ThrowIfKilled();
            return inner.SaveAsync(checkpoint, fence, cancellationToken);
        }
    }

    /// <summary>A keyed result table: one entry per result identity (pipeline, shard, key, window), the latest write wins.</summary>
    private sealed class KillableResultSink(WorkerHandle worker, SharedRun run) : ISink<WindowResult<string, long>>
    {
        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, long>> items, CancellationToken cancellationToken)
        {
            worker.ThrowIfKilled();
            foreach (var result in items.Span)
            {
                if (result.Key != "end")
                {
                    run.Results[result.Id] = (result.Key, result.Value);
                }
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            worker.ThrowIfKilled();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Logs every record a live worker's pipeline receives.</summary>
    private sealed class DeliveryLog(WorkerHandle worker, SharedRun run, IEventSource<Order> inner) : IEventSource<Order>
    {
        public bool CanResume => inner.CanResume;

        public async IAsyncEnumerable<RecordBatch<Order>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in inner.ReadBatchesAsync(context, cancellationToken))
            {
                worker.ThrowIfKilled();
                foreach (var record in batch.Records.Span)
                {
                    if (record.Value.Id >= 0)
                    {
                        run.OnDelivered(record.Value.Id);
                    }
                }

                yield return batch;
            }
        }
    }

    private sealed class OrderDecoder : IEventDecoder<Order>
    {
        public bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out Order value, out DecodeError error)
        {
            string[] parts = Encoding.UTF8.GetString(record.Data.Span).Split('|');
            value = new Order(parts[0], long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
            error = default;
            return true;
        }
    }
}
