using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.DynamoDB.IntegrationTests.Leases;

/// <summary>A lease table on dynalite, coordinators on one fake clock, and the helpers the lease tests share.</summary>
internal sealed class LeaseTestKit : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public LeaseTestKit(DynaliteServer dynalite, KinesaliteServer kinesalite, string prefix)
    {
        DynamoDb = CreateDynamoDb(dynalite.Endpoint);
        Kinesis = CreateKinesis(kinesalite.Endpoint);
        TableName = DynaliteServer.NewTableName(prefix);
        Table = new DynamoDbLeaseTable(DynamoDb, TableName);
        _owned.Add(DynamoDb);
        _owned.Add(Kinesis);
    }

    public AmazonDynamoDBClient DynamoDb { get; }

    public KinesisClient Kinesis { get; }

    public string TableName { get; }

    public DynamoDbLeaseTable Table { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public static TimeSpan FailoverTime => TimeSpan.FromSeconds(10);

    public static AmazonDynamoDBClient CreateDynamoDb(Uri endpoint) =>
        new(new BasicAWSCredentials("AKIDTEST", "secret"), new AmazonDynamoDBConfig { ServiceURL = endpoint.ToString(), AuthenticationRegion = "us-east-1" });

    public static KinesisClient CreateKinesis(Uri endpoint) => new(new KinesisClientOptions
    {
        Region = "us-east-1",
        ServiceUrl = endpoint,
        Credentials = new BasicAWSCredentials("AKIDTEST", "secret"),
        Retry = { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
    });

    public static string ShardId(int index) => string.Create(CultureInfo.InvariantCulture, $"shardId-{index:D12}");

    /// <summary>Creates the table and <paramref name="count"/> unowned leases at TRIM_HORIZON.</summary>
    public async Task<string[]> CreateLeasesAsync(int count, CancellationToken cancellationToken)
    {
        await Table.CreateTableIfNotExistsAsync(cancellationToken);
        var keys = Enumerable.Range(0, count).Select(ShardId).ToArray();
        foreach (string key in keys)
        {
            Assert.True(await Table.CreateLeaseIfNotExistsAsync(new KinesisLease { LeaseKey = key }, cancellationToken));
        }

        return keys;
    }

    public LeaseCoordinator Coordinator(string workerId, int maxSteal = 1, string streamName = "unused") => new(DynamoDb, Kinesis, new LeaseCoordinatorOptions
    {
        ApplicationName = TableName,
        StreamName = streamName,
        WorkerId = workerId,
        FailoverTime = FailoverTime,
        MaxLeasesToStealAtOneTime = maxSteal,
        TimeProvider = Time,
    });

    /// <summary>Reads the owners from the table: lease key to owner (null when unowned).</summary>
    public async Task<Dictionary<string, string?>> OwnersAsync(CancellationToken cancellationToken) =>
        (await Table.ListLeasesAsync(cancellationToken)).ToDictionary(l => l.LeaseKey, l => l.LeaseOwner, StringComparer.Ordinal);

    /// <summary>
    /// The safety property: no lease is in two workers' held sets, and every held lease is owned by its holder in
    /// the table.
    /// </summary>
    public async Task AssertSingleOwnersAsync(IReadOnlyList<LeaseCoordinator> workers, CancellationToken cancellationToken)
    {
        var owners = await OwnersAsync(cancellationToken);
        var holders = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var worker in workers)
        {
            foreach (var lease in worker.HeldLeases)
            {
                Assert.False(holders.TryGetValue(lease.LeaseKey, out string? other), $"{lease.LeaseKey} is held by both {other} and {worker.WorkerId}");
                holders[lease.LeaseKey] = worker.WorkerId;
                Assert.Equal(worker.WorkerId, owners[lease.LeaseKey]);
            }
        }
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
