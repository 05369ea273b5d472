using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests.Leases;

/// <summary>
/// Three lease worker processes share an 8-shard stream on kinesalite (leases and results in dynalite, checkpoints in a
/// shared folder); a split and a merge happen mid-stream, then the busiest worker is killed hard (its process killed by
/// id). Its leases are taken after the failover time; every record written is delivered, and the per-shard window
/// counts in the results table add up to what was written, per key.
/// </summary>
public sealed class LeaseWorkerProcessTests(DynaliteServer dynalite, KinesaliteServer kinesalite) : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Directory.CreateTempSubdirectory("lease-workers-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ThreeWorkerProcesses_SplitAndMerge_BusiestKilledHard_NothingLost_NothingCountedTwice()
    {
        string stream = KinesaliteServer.NewStreamName("lease-procs");
        string leases = DynaliteServer.NewTableName("lease-procs");
        string results = DynaliteServer.NewTableName("lease-results");
        await kinesalite.Admin.CreateStreamAsync(stream, 8, Ct);
        var shards = await kinesalite.Admin.ListShardsAsync(stream, Ct);
        using var dynamoDb = LeaseTestKit.CreateDynamoDb(dynalite.Endpoint);
        await dynamoDb.CreateTableAsync(
            new CreateTableRequest
            {
                TableName = results,
                KeySchema = [new KeySchemaElement("id", KeyType.HASH)],
                AttributeDefinitions = [new AttributeDefinition("id", ScalarAttributeType.S)],
                BillingMode = BillingMode.PAY_PER_REQUEST,
            },
            Ct);
        var leaseTable = new DynamoDbLeaseTable(dynamoDb, leases);

        var names = new[] { "p1", "p2", "p3" };
        var workers = names.ToDictionary(
            n => n,
            n => LeaseWorkerProcess.Start(["--dynamodb", dynalite.Endpoint.ToString(), "--kinesis", kinesalite.Endpoint.ToString(), "--stream", stream, "--table", leases, "--results", results, "--worker", n, "--folder", _folder]),
            StringComparer.Ordinal);
        try
        {
            await WaitUntilAsync(() => Task.FromResult(workers.Values.All(w => w.Printed("started"))), "the workers starting", workers);

            var written = new Dictionary<long, string>();
            await WriteAsync(stream, written, 0, 400);
            await WaitUntilAsync(
                async () =>
                {
                    var owners = ActiveOwners(await leaseTable.ListLeasesAsync(Ct));
                    return owners.Count == 8 && owners.All(o => o is not null) && names.All(n => owners.Contains(n));
                },
                "every shard leased, every worker holding one",
                workers);
            await WriteAsync(stream, written, 400, 400);
            await WaitUntilAsync(() => Task.FromResult(Delivered().Distinct().Count() >= 500), "the workers consuming", workers);

            await kinesalite.Admin.SplitShardInHalfAsync(stream, shards[0].ShardId, Ct);
            await kinesalite.Admin.MergeShardsAsync(stream, shards[2].ShardId, shards[3].ShardId, Ct);
            await WriteAsync(stream, written, 800, 200);
            await WaitUntilAsync(() => Task.FromResult(Delivered().Distinct().Count() >= 900), "the workers consuming the children", workers);

            // Kill the busiest worker hard.
            var before = await leaseTable.ListLeasesAsync(Ct);
            string victim = ActiveOwners(before).GroupBy(o => o).OrderByDescending(g => g.Count()).First().Key!;
            int victimLeases = ActiveOwners(before).Count(o => o == victim);
            long killedAt = Stopwatch.GetTimestamp();
            await workers[victim].KillAsync();
            await WriteAsync(stream, written, 1000, 400);

            await WaitUntilAsync(
                async () =>
                {
                    var owners = ActiveOwners(await leaseTable.ListLeasesAsync(Ct));
                    return owners.Count == 8 && owners.All(o => o is not null && o != victim);
                },
                "the survivors holding every shard",
                workers);
            var takeover = Stopwatch.GetElapsedTime(killedAt);

            foreach (var shard in (await kinesalite.Admin.ListShardsAsync(stream, Ct)).Where(s => !s.IsClosed))
            {
                await kinesalite.Admin.PutRecordAsync(stream, "end", Encoding.UTF8.GetBytes($"end|{(T0 + TimeSpan.FromHours(1)).ToUnixTimeMilliseconds()}|-1"), shard.StartingHashKey.ToString(CultureInfo.InvariantCulture), Ct);
            }

            var expected = written.GroupBy(w => w.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
            await WaitUntilAsync(() => Task.FromResult(written.Keys.All(Delivered().ToHashSet().Contains)), "every written record delivered", workers);
            await WaitUntilAsync(async () => Same(expected, await CountsAsync(dynamoDb, results)), "every key's windows closed and counted", workers);

            foreach (var name in names.Where(n => n != victim))
            {
                await workers[name].StopAsync(Ct);
                Assert.True(workers[name].Printed("stopped"), workers[name].Output);
            }

            // Nothing lost; nothing counted twice.
            var delivered = Delivered();
            var distinct = delivered.ToHashSet();
            Assert.All(written.Keys, id => Assert.Contains(id, distinct));
            var counts = await CountsAsync(dynamoDb, results);
            foreach (var (key, count) in expected)
            {
                Assert.Equal(count, counts.GetValueOrDefault(key));
            }

            // Leases released after the graceful stops, checkpointed at the pipelines' saved positions, lineage kept.
            var after = await leaseTable.ListLeasesAsync(Ct);
            Assert.Equal(11, after.Count);
            Assert.All(after, l => Assert.Null(l.LeaseOwner));
            using var checkpoints = new FileCheckpointStore(Path.Combine(_folder, "checkpoints"));
            foreach (var lease in after)
            {
                var saved = (await checkpoints.LoadAsync($"orders/{lease.LeaseKey}", Ct))?.FindPartition(lease.LeaseKey);
                if (lease.IsFinished)
                {
                    Assert.True(saved is { IsEnded: true }, $"{lease.LeaseKey} is at SHARD_END but its pipeline did not checkpoint the end");
                }
                else
                {
                    Assert.Equal(saved?.ResumeAfter, lease.Checkpoint.ToResumePosition(lease.LeaseKey));
                }
            }

            foreach (var parent in (string[])[shards[0].ShardId, shards[2].ShardId, shards[3].ShardId])
            {
                Assert.True(after.Single(l => l.LeaseKey == parent).IsFinished);
            }

            int duplicates = delivered.Count - distinct.Count;
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"3 worker processes, 8 shards, split and merge: records written {written.Count}; deliveries {delivered.Count} ({duplicates} duplicates, {(double)duplicates / written.Count:P1}); " +
                $"the killed process held {victimLeases} shards; the survivors held every shard {takeover.TotalSeconds:F1} s after the kill (failover time 10 s)");
            Assert.True(duplicates <= written.Count / 2, $"{duplicates} duplicate deliveries of {written.Count} records");
        }
        finally
        {
            foreach (var worker in workers.Values)
            {
                await worker.DisposeAsync();
            }
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The owners of the active leases (not finished, every parent finished or gone); null for unowned ones.</summary>
    private static List<string?> ActiveOwners(IReadOnlyList<KinesisLease> leases)
    {
        var byKey = leases.ToDictionary(l => l.LeaseKey, StringComparer.Ordinal);
        return [.. leases
            .Where(l => !l.IsFinished && l.ParentShardIds.All(p => !byKey.TryGetValue(p, out var parent) || parent.IsFinished))
            .Select(l => l.LeaseOwner)];
    }

    private static bool Same(Dictionary<string, long> expected, Dictionary<string, long> actual) => expected.All(e => actual.GetValueOrDefault(e.Key) == e.Value);

    private static async Task<Dictionary<string, long>> CountsAsync(IAmazonDynamoDB dynamoDb, string table)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await dynamoDb.ScanAsync(new ScanRequest { TableName = table, ExclusiveStartKey = start, ConsistentRead = true }, Ct);
            foreach (var item in page.Items ?? [])
            {
                string key = item["key"].S;
                counts[key] = counts.GetValueOrDefault(key) + long.Parse(item["count"].N, CultureInfo.InvariantCulture);
            }

            start = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (start is not null);
        return counts;
    }

    /// <summary>Every record id the workers logged as delivered, duplicates included (a line torn by the kill is skipped).</summary>
    private List<long> Delivered()
    {
        var ids = new List<long>();
        foreach (string file in Directory.GetFiles(_folder, "delivered-*.log"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
                {
                    ids.Add(id);
                }
            }
        }

        return ids;
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

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, Dictionary<string, LeaseWorkerProcess> workers)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        while (!await condition())
        {
            try
            {
                await Task.Delay(100, timeout.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail($"Waited 3 minutes for {what}. Worker output:\n" + string.Join("\n", workers.Select(w => $"[{w.Key}] {w.Value.Output}")));
            }
        }
    }
}
