using System.Numerics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests.Leases;

/// <summary>
/// The lease table this package writes, read back with the plain DynamoDB API: the Kinesis Client Library's table
/// layout, attribute names and DynamoDB types, so KCL tools and operators read it as a KCL table.
/// </summary>
public sealed class LeaseSchemaTests(DynaliteServer dynalite, KinesaliteServer kinesalite)
{
    // Every attribute the KCL's lease serializer knows, with its DynamoDB type.
    private static readonly Dictionary<string, string> KclAttributes = new(StringComparer.Ordinal)
    {
        ["leaseKey"] = "S",
        ["leaseOwner"] = "S",
        ["leaseCounter"] = "N",
        ["checkpoint"] = "S",
        ["checkpointSubSequenceNumber"] = "N",
        ["ownerSwitchesSinceCheckpoint"] = "N",
        ["parentShardId"] = "SS",
        ["childShardIds"] = "SS",
        ["startingHashKey"] = "S",
        ["endingHashKey"] = "S",
        ["pendingCheckpoint"] = "S",
        ["pendingCheckpointSubSequenceNumber"] = "N",
        ["pendingCheckpointState"] = "B",
        ["checkpointOwner"] = "S",
        ["throughputKBps"] = "N",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LeaseItems_AfterShardSyncSplitMergeTakeAndCheckpoint_HaveTheKclNamesAndTypes()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "schema");
        string stream = KinesaliteServer.NewStreamName("schema");
        var admin = kinesalite.Admin;
        await admin.CreateStreamAsync(stream, 3, Ct);
        var original = await admin.ListShardsAsync(stream, Ct);
        await admin.SplitShardInHalfAsync(stream, original[0].ShardId, Ct);
        await admin.MergeShardsAsync(stream, original[1].ShardId, original[2].ShardId, Ct);
        var shards = await admin.ListShardsAsync(stream, Ct);

        var worker = kit.Coordinator("worker-1", streamName: stream);
        await worker.InitializeAsync(Ct);
        Assert.Equal(shards.Count, await worker.SyncShardsAsync(Ct));
        Assert.Equal(0, await worker.SyncShardsAsync(Ct)); // idempotent
        var taken = await worker.TakeLeasesAsync(Ct);
        await worker.CheckpointAsync(taken[0].LeaseKey, new LeaseCheckpoint("49590338271490256608559692538361571095921575989136588802", 3), Ct);

        // The table: hash key leaseKey (S), on-demand.
        var table = (await kit.DynamoDb.DescribeTableAsync(kit.TableName, Ct)).Table;
        var key = Assert.Single(table.KeySchema);
        Assert.Equal(("leaseKey", KeyType.HASH), (key.AttributeName, key.KeyType));
        Assert.Equal(ScalarAttributeType.S, Assert.Single(table.AttributeDefinitions).AttributeType);
        Assert.Equal(BillingMode.PAY_PER_REQUEST, table.BillingModeSummary?.BillingMode ?? BillingMode.PAY_PER_REQUEST);

        var items = (await kit.DynamoDb.ScanAsync(new ScanRequest { TableName = kit.TableName }, Ct)).Items.ToDictionary(i => i["leaseKey"].S, StringComparer.Ordinal);
        Assert.Equal(shards.Select(s => s.ShardId).Order(StringComparer.Ordinal), items.Keys.Order(StringComparer.Ordinal));
        foreach (var (shardId, item) in items)
        {
            foreach (var (name, value) in item)
            {
                Assert.True(KclAttributes.TryGetValue(name, out string? type), $"{shardId}: {name} is not a KCL lease attribute");
                Assert.Equal(type, TypeOf(value));
            }

            foreach (string required in (string[])["leaseKey", "leaseCounter", "checkpoint", "checkpointSubSequenceNumber", "ownerSwitchesSinceCheckpoint", "startingHashKey", "endingHashKey"])
            {
                Assert.True(item.ContainsKey(required), $"{shardId} has no {required}");
            }

            var shard = shards.Single(s => s.ShardId == shardId);
            Assert.Equal(shard.StartingHashKey, BigInteger.Parse(item["startingHashKey"].S, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(shard.EndingHashKey, BigInteger.Parse(item["endingHashKey"].S, System.Globalization.CultureInfo.InvariantCulture));
            string[] parents = [.. new[] { shard.ParentShardId, shard.AdjacentParentShardId }.OfType<string>().Order(StringComparer.Ordinal)];
            if (parents.Length > 0)
            {
                Assert.Equal(parents, item["parentShardId"].SS.Order(StringComparer.Ordinal));
                Assert.Equal("TRIM_HORIZON", item["checkpoint"].S);
            }
            else
            {
                Assert.False(item.ContainsKey("parentShardId"));
            }

            string[] children = [.. shards.Where(s => s.ParentShardId == shardId || s.AdjacentParentShardId == shardId).Select(s => s.ShardId).Order(StringComparer.Ordinal)];
            if (children.Length > 0)
            {
                Assert.Equal(children, item["childShardIds"].SS.Order(StringComparer.Ordinal));
            }
        }

        // The closed parents are the active leases (children wait for SHARD_END): the worker owns them.
        Assert.Equal(original.Select(s => s.ShardId).Order(StringComparer.Ordinal), taken.Select(l => l.LeaseKey).Order(StringComparer.Ordinal));
        var checkpointed = items[taken[0].LeaseKey];
        Assert.Equal("worker-1", checkpointed["leaseOwner"].S);
        Assert.Equal("49590338271490256608559692538361571095921575989136588802", checkpointed["checkpoint"].S);
        Assert.Equal("3", checkpointed["checkpointSubSequenceNumber"].N);
        Assert.Equal("0", checkpointed["ownerSwitchesSinceCheckpoint"].N);
        Assert.Equal("2", checkpointed["leaseCounter"].N); // taken (1), checkpointed (2)
    }

    [Fact]
    public async Task LeasesWrittenTheKclWay_AreReadAndTaken()
    {
        // An item as a KCL worker leaves it: a pending checkpoint, a checkpoint owner (KCL 3 hand-off), a throughput figure.
        using var kit = new LeaseTestKit(dynalite, kinesalite, "kclitem");
        await kit.Table.CreateTableIfNotExistsAsync(Ct);
        await kit.DynamoDb.PutItemAsync(kit.TableName, new Dictionary<string, AttributeValue>
        {
            ["leaseKey"] = new() { S = "shardId-000000000007" },
            ["leaseOwner"] = new() { S = "kcl-worker" },
            ["leaseCounter"] = new() { N = "41" },
            ["checkpoint"] = new() { S = "4959000000000000000000000000000000000000001" },
            ["checkpointSubSequenceNumber"] = new() { N = "0" },
            ["ownerSwitchesSinceCheckpoint"] = new() { N = "2" },
            ["pendingCheckpoint"] = new() { S = "4959000000000000000000000000000000000000002" },
            ["pendingCheckpointSubSequenceNumber"] = new() { N = "0" },
            ["checkpointOwner"] = new() { S = "kcl-worker" },
            ["throughputKBps"] = new() { N = "12.5" },
            ["startingHashKey"] = new() { S = "0" },
            ["endingHashKey"] = new() { S = "340282366920938463463374607431768211455" },
        }, Ct);
        var worker = kit.Coordinator("ours", maxSteal: 0);
        Assert.Empty(await worker.TakeLeasesAsync(Ct));
        kit.Time.Advance(LeaseTestKit.FailoverTime);

        var taken = Assert.Single(await worker.TakeLeasesAsync(Ct));
        Assert.Equal(42, taken.LeaseCounter);
        Assert.Equal(3, taken.OwnerSwitchesSinceCheckpoint);
        Assert.Equal(new LeaseCheckpoint("4959000000000000000000000000000000000000002"), taken.PendingCheckpoint);
        Assert.Equal(
            new StreamPosition("shardId-000000000007", SequenceNumber.Parse("4959000000000000000000000000000000000000001")),
            worker.GetShard("shardId-000000000007").ResumeAfter);

        await worker.CheckpointAsync("shardId-000000000007", new LeaseCheckpoint("4959000000000000000000000000000000000000003"), Ct);
        var item = (await kit.DynamoDb.GetItemAsync(kit.TableName, new Dictionary<string, AttributeValue> { ["leaseKey"] = new() { S = "shardId-000000000007" } }, Ct)).Item;
        Assert.False(item.ContainsKey("pendingCheckpoint"));
        Assert.False(item.ContainsKey("checkpointOwner"));
        Assert.Equal("12.5", item["throughputKBps"].N); // attributes this package does not know are kept
    }

    private static string TypeOf(AttributeValue value) =>
        value.S is not null ? "S"
        : value.N is not null ? "N"
        : value.SS is { Count: > 0 } ? "SS"
        : value.B is not null ? "B"
        : value.NS is { Count: > 0 } ? "NS"
        : value.BOOL is not null ? "BOOL"
        : value.L is not null ? "L"
        : value.M is not null ? "M"
        : "?";
}
