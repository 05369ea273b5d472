using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests.Leases;

/// <summary>
/// The request costs the README states, counted at the HTTP level against dynalite over one simulated minute of the
/// coordinator's default schedule (renewal every third of the failover time, a scan every fifth).
/// </summary>
public sealed class LeaseRequestCostTests(DynaliteServer dynalite, KinesaliteServer kinesalite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OneMinute_OfRenewalsAndScans_Costs18WritesPerShard_And30Scans()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "cost");
        await kit.CreateLeasesAsync(4, Ct);
        var counter = new RequestCounter();
        using var dynamoDb = new AmazonDynamoDBClient(
            new BasicAWSCredentials("AKIDTEST", "secret"),
            new AmazonDynamoDBConfig { ServiceURL = dynalite.Endpoint.ToString(), AuthenticationRegion = "us-east-1", HttpClientFactory = counter });
        var options = new LeaseCoordinatorOptions { ApplicationName = kit.TableName, StreamName = "unused", WorkerId = "w", TimeProvider = kit.Time };
        var coordinator = new LeaseCoordinator(dynamoDb, kit.Kinesis, options);
        Assert.Equal(4, (await coordinator.TakeLeasesAsync(Ct)).Count);
        counter.Reset();

        var renewEvery = options.FailoverTime / 3;
        var scanEvery = options.FailoverTime / 5;
        var nextRenewal = renewEvery;
        var nextScan = scanEvery;
        for (var now = TimeSpan.Zero; now <= TimeSpan.FromMinutes(1); now += TimeSpan.FromMilliseconds(100))
        {
            if (now >= nextRenewal)
            {
                await coordinator.RenewLeasesAsync(Ct);
                nextRenewal += renewEvery;
            }

            if (now >= nextScan)
            {
                await coordinator.TakeLeasesAsync(Ct);
                nextScan += scanEvery;
            }

            kit.Time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(4, coordinator.HeldLeases.Count);
        Assert.Equal(18 * 4, counter.Count("UpdateItem"));
        Assert.Equal(30, counter.Count("Scan"));
        Assert.Equal(18 * 4 + 30, counter.Total);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"one minute, 4 leases held: {counter.Count("UpdateItem")} UpdateItem ({counter.Count("UpdateItem") / 4} per shard), {counter.Count("Scan")} Scan, {counter.Total} requests");
    }

    /// <summary>Counts DynamoDB requests by operation (the <c>X-Amz-Target</c> header).</summary>
    private sealed class RequestCounter : HttpClientFactory
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public int Total => _counts.Values.Sum();

        public int Count(string operation) => _counts.GetValueOrDefault(operation);

        public void Reset() => _counts.Clear();

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new CountingHandler(_counts) { InnerHandler = new SocketsHttpHandler() });

        private sealed class CountingHandler(ConcurrentDictionary<string, int> counts) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.Headers.TryGetValues("X-Amz-Target", out var targets))
                {
                    string operation = targets.First().Split('.')[^1];
                    counts.AddOrUpdate(operation, 1, static (_, n) => n + 1);
                }

                return base.SendAsync(request, cancellationToken);
            }
        }
    }
}
