using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>With <c>Outputs:DynamoDb:TableName</c> set, the per-minute results go to DynamoDB (dynalite here) and equal the dashboard's.</summary>
public sealed class DynamoDbOutputTests(DynaliteServer dynalite)
{
    [Fact]
    public async Task PerMinuteItems_MatchTheDashboard_AndTheTableIsCreated()
    {
        var ct = TestContext.Current.CancellationToken;
        string table = DynaliteServer.NewTableName("web-analytics");
        var credentials = new BasicAWSCredentials("AKIDTEST", "secret");
        using var dynamo = new AmazonDynamoDBClient(credentials, new AmazonDynamoDBConfig { ServiceURL = dynalite.Endpoint.ToString(), AuthenticationRegion = "us-east-1" });

        await using var factory = new WebAnalyticsFactory(
            new Dictionary<string, string?>
            {
                ["Outputs:DynamoDb:TableName"] = table,
                ["Outputs:DynamoDb:ServiceUrl"] = dynalite.Endpoint.ToString(),
            },
            services => services.AddSingleton<AWSCredentials>(credentials));
        using var client = factory.CreateBrowserlikeClient();
        (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();

        // Two past minutes (5 and 3 events, one visitor twice) and two events now, whose watermark closes both minutes.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = Enumerable.Range(0, 5).Select(i => new { page = "/a", visitorId = $"v{i % 4}", timestamp = now - 180_000 + i, loadTimeMs = 100 + (10 * i) })
            .Concat(Enumerable.Range(0, 3).Select(i => new { page = "/b", visitorId = $"w{i}", timestamp = now - 120_000 + i, loadTimeMs = 200 }))
            .Append(new { page = "/c", visitorId = "x", timestamp = now, loadTimeMs = 300 })
            .Append(new { page = "/c", visitorId = "y", timestamp = now, loadTimeMs = 400 })
            .ToArray();
        using (var response = await client.PostAsJsonAsync("/collect", new { events }, ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(
            client,
            m => m.GetProperty("perMinute").EnumerateArray().Count(p => p.GetProperty("final").GetBoolean()) == 2
                && m.GetProperty("perMinute").EnumerateArray().Sum(p => p.GetProperty("events").GetInt64()) == events.Length,
            ct);
        var dashboard = metrics.GetProperty("perMinute").EnumerateArray().ToDictionary(
            p => p.GetProperty("start").GetDateTimeOffset(),
            p => (Events: p.GetProperty("events").GetInt64(), Visitors: p.GetProperty("visitors").GetInt64(), P50: p.GetProperty("p50").GetDouble(), P99: p.GetProperty("p99").GetDouble()));
        Assert.Equal([2L, 3L, 5L], dashboard.Values.Select(v => v.Events).Order().ToArray());
        Assert.Contains(dashboard.Values, v => v is { Events: 5, Visitors: 4 });

        // The pipeline flushes the sink at its next checkpoint (every few seconds): wait until the items equal the dashboard.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        Dictionary<DateTimeOffset, (long Events, long Visitors, double P50, double P99)> stored = [];
        try
        {
            while (true)
            {
                stored = await ReadMinutesAsync(dynamo, table, limit.Token);
                if (stored.Count == dashboard.Count && dashboard.All(d => stored.TryGetValue(d.Key, out var s) && s.Events == d.Value.Events))
                {
                    break;
                }

                await Task.Delay(100, limit.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Assert.Fail($"DynamoDB never held the dashboard's minutes. Dashboard: {string.Join(", ", dashboard)}; DynamoDB: {string.Join(", ", stored)}");
        }

        foreach (var (start, shown) in dashboard)
        {
            var item = stored[start];
            Assert.Equal(shown.Events, item.Events);
            Assert.Equal(shown.Visitors, item.Visitors);
            Assert.Equal(shown.P50, Math.Round(item.P50, 1));
            Assert.Equal(shown.P99, Math.Round(item.P99, 1));
        }
    }

    private static async Task<Dictionary<DateTimeOffset, (long Events, long Visitors, double P50, double P99)>> ReadMinutesAsync(AmazonDynamoDBClient dynamo, string table, CancellationToken ct)
    {
        var minutes = new Dictionary<DateTimeOffset, (long, long, double, double)>();
        try
        {
            var response = await dynamo.QueryAsync(
                new QueryRequest
                {
                    TableName = table,
                    KeyConditionExpression = "pk = :pk",
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":pk"] = new AttributeValue { S = "per-minute#*" } },
                    ConsistentRead = true,
                },
                ct);
            foreach (var item in response.Items ?? [])
            {
                minutes[DateTimeOffset.Parse(item["windowStart"].S, CultureInfo.InvariantCulture)] = (
                    long.Parse(item["events"].N, CultureInfo.InvariantCulture),
                    long.Parse(item["uniqueVisitors"].N, CultureInfo.InvariantCulture),
                    double.Parse(item["loadP50Ms"].N, CultureInfo.InvariantCulture),
                    double.Parse(item["loadP99Ms"].N, CultureInfo.InvariantCulture));
            }
        }
        catch (ResourceNotFoundException)
        {
            // The service has not created the table yet.
        }

        return minutes;
    }
}
