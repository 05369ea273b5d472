using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Analytics.Streaming.S3.IntegrationTests;
using Analytics.Streaming.Samples.OrderTracking.Orders;
using Analytics.Streaming.TestSupport;
using MimeKit;

namespace Analytics.Streaming.Samples.Tests.OrderTracking;

/// <summary>
/// The order-tracking service on kinesalite (Kinesis), dynalite (DynamoDB) and a local SMTP server: 1,000 orders
/// placed and moved through the HTTP API, redelivered and reordered events pushed straight into the stream, then a
/// second consumer replaying the whole stream from its start. Every order must end with its expected status and
/// version in the table, and the SMTP server must have exactly one confirmation per order.
/// </summary>
public sealed class OrderTrackingEndToEndTests(KinesaliteServer kinesalite, DynaliteServer dynalite, SmtpServer smtp)
{
    private const int Orders = 1000;

    [Fact]
    public async Task ThousandOrders_WithRedeliveredAndReorderedEvents_EndInTheirFinalStatus_WithOneConfirmationEach()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("orders");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, ct);
        string table = DynaliteServer.NewTableName("orders");
        string domain = $"run-{Guid.NewGuid():N}.test";
        string data = Directory.CreateTempSubdirectory("order-tracking-e2e-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Kinesis:StreamName"] = stream,
            ["Kinesis:ServiceUrl"] = kinesalite.Endpoint.ToString(),
            ["DynamoDb:TableName"] = table,
            ["DynamoDb:ServiceUrl"] = dynalite.Endpoint.ToString(),
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Smtp:User"] = "orders",
            ["Smtp:Password"] = "not-checked",
            ["Smtp:Security"] = "None",
            ["Email:MessageIdDomain"] = domain,
            ["Email:WorkerId"] = "consumer-1",
            ["CheckpointFolder"] = Path.Combine(data, "checkpoints-1"),
            ["Lake:Folder"] = Path.Combine(data, "lake"),
            ["Lake:FlushInterval"] = "00:00:02",
        };

        var plans = Enumerable.Range(0, Orders).Select(i => Plan(i, domain)).ToArray();
        try
        {
            long published;
            await using (var host = await OrderTrackingHost.StartAsync(settings, ct))
            {
                // Place every order, then drive each one along its path (orders in parallel, one order's steps in order).
                await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (plan, token) =>
                {
                    using (var placed = await host.Client.PostAsJsonAsync("orders", new { orderId = plan.OrderId, customerId = plan.CustomerId, email = plan.Email, items = plan.Items }, token))
                    {
                        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
                    }

                    foreach (var status in plan.Path.Skip(1))
                    {
                        using var moved = await host.Client.PostAsJsonAsync($"orders/{plan.OrderId}/status", new { status = status.ToString() }, token);
                        Assert.Equal(HttpStatusCode.Accepted, moved.StatusCode);
                    }
                });
                published = plans.Sum(p => p.Path.Count);

                // Redeliveries and reorderings straight into the stream: every order's Placed event again (its
                // confirmation must not go out twice), for orders past Confirmed the Confirmed event again after the
                // newer ones (must not move the status back), and every tenth order's final event again.
                var injected = new List<(string PartitionKey, byte[] Data)>();
                foreach (var plan in plans)
                {
                    injected.Add((plan.OrderId, Event(plan, 1)));
                    if (plan.Path.Count >= 3)
                    {
                        injected.Add((plan.OrderId, Event(plan, 2)));
                    }

                    if (plan.Index % 10 == 0)
                    {
                        injected.Add((plan.OrderId, Event(plan, plan.Path.Count)));
                    }
                }

                foreach (var chunk in injected.Chunk(250))
                {
                    await kinesalite.Admin.PutRecordsAsync(stream, chunk, ct);
                }

                long expected = published + injected.Count;
                var live = await host.WaitForLiveAsync(l => l.GetProperty("counters").GetProperty("eventsRead").GetInt64() >= expected, $"{expected} events processed", ct);
                var counters = live.GetProperty("counters");
                Assert.Equal(Orders, counters.GetProperty("confirmationsSent").GetInt64());
                Assert.True(counters.GetProperty("eventsIgnored").GetInt64() >= injected.Count, counters.ToString());

                await AssertFinalStatusesAsync(table, plans, ct);
                AssertOneConfirmationEach(plans, domain);

                // The API reads the table back: one order, and a customer's orders.
                var one = await host.Client.GetFromJsonAsync<JsonElement>(new Uri($"orders/{plans[3].OrderId}", UriKind.Relative), ct);
                Assert.Equal(plans[3].Path[^1].ToString(), one.GetProperty("status").GetString());
                Assert.Equal($"order-{plans[3].OrderId}.confirmation@{domain}", one.GetProperty("confirmationMessageId").GetString());
                var customer = await host.Client.GetFromJsonAsync<JsonElement>(new Uri($"customers/{plans[0].CustomerId}/orders", UriKind.Relative), ct);
                Assert.Equal(plans.Count(p => p.CustomerId == plans[0].CustomerId), customer.GetProperty("orders").GetArrayLength());
            }

            // A second consumer with no checkpoint reads the whole stream again from its start: nothing may change.
            settings["CheckpointFolder"] = Path.Combine(data, "checkpoints-2");
            settings["Email:WorkerId"] = "consumer-2";
            await using (var replay = await OrderTrackingHost.StartAsync(settings, ct))
            {
                long total = published + plans.Sum(p => 1 + (p.Path.Count >= 3 ? 1 : 0) + (p.Index % 10 == 0 ? 1 : 0));
                var live = await replay.WaitForLiveAsync(l => l.GetProperty("counters").GetProperty("eventsRead").GetInt64() >= total, $"{total} events replayed", ct);
                var counters = live.GetProperty("counters");
                Assert.Equal(0, counters.GetProperty("eventsApplied").GetInt64());
                Assert.Equal(0, counters.GetProperty("confirmationsSent").GetInt64());
                // Every Placed event in the stream: the original, the injected copy, and the final-event copy of single-step orders.
                long placedEvents = (Orders * 2) + plans.Count(p => p.Index % 10 == 0 && p.Path.Count == 1);
                Assert.Equal(placedEvents, counters.GetProperty("confirmationsSkipped").GetInt64());
            }

            await AssertFinalStatusesAsync(table, plans, ct);
            AssertOneConfirmationEach(plans, domain);

            // The lake backup holds every published event (each consumer wrote the distinct events it read), in Parquet
            // partitioned Hive-style by day, as DuckDB reads it.
            var parquet = Directory.GetFiles(Path.Combine(data, "lake"), "*.parquet", SearchOption.AllDirectories);
            Assert.NotEmpty(parquet);
            Assert.All(parquet, f => Assert.Matches(@"order_events[/\\]year=\d{4}[/\\]month=\d{2}[/\\]day=\d{2}[/\\]", f));
            await using var duckDb = await DuckDbQuery.StartAsync();
            string files = Path.Combine(data, "lake").Replace('\\', '/') + "/**/*.parquet";
            var row = (await duckDb.QueryAsync(
                $"SELECT count(*) AS n, count(DISTINCT (order_id, version, status, amount)) AS events, count(DISTINCT order_id) AS orders FROM read_parquet('{files}', hive_partitioning = true)")).Single();
            Assert.Equal(published.ToString(CultureInfo.InvariantCulture), row["events"]!.ToString());
            Assert.Equal(Orders.ToString(CultureInfo.InvariantCulture), row["orders"]!.ToString());
            Assert.Equal((published * 2).ToString(CultureInfo.InvariantCulture), row["n"]!.ToString());
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static OrderPlan Plan(int i, string domain)
    {
        OrderStatus[] path = (i % 5) switch
        {
            0 => [OrderStatus.Placed],
            1 => [OrderStatus.Placed, OrderStatus.Confirmed],
            2 => [OrderStatus.Placed, OrderStatus.Confirmed, OrderStatus.Shipped],
            3 => [OrderStatus.Placed, OrderStatus.Confirmed, OrderStatus.Shipped, OrderStatus.Delivered],
            _ => i % 10 == 4 ? [OrderStatus.Placed, OrderStatus.Cancelled] : [OrderStatus.Placed, OrderStatus.Confirmed, OrderStatus.Cancelled],
        };
        var items = Enumerable.Range(0, 1 + (i % 3)).Select(k => new OrderItem($"sku-{(i + k) % 17}", 1 + (k % 2), 2.5m + k + (i % 7))).ToArray();
        return new OrderPlan(i, $"o{i:D4}", $"c{i % 37:D2}", $"customer-{i:D4}@{domain}", items, path);
    }

    private static byte[] Event(OrderPlan plan, int version) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new OrderEvent(plan.OrderId, plan.CustomerId, plan.Email, version, plan.Path[version - 1], DateTimeOffset.UtcNow, plan.Items, plan.Items.Sum(i => i.Quantity * i.UnitPrice)),
            OrderJson.Default.OrderEvent);

    private async Task AssertFinalStatusesAsync(string table, IReadOnlyList<OrderPlan> plans, CancellationToken ct)
    {
        using var client = new AmazonDynamoDBClient(
            new BasicAWSCredentials("AKIDTEST", "secret"),
            new AmazonDynamoDBConfig { ServiceURL = dynalite.Endpoint.ToString(), AuthenticationRegion = "us-east-1" });
        var items = new Dictionary<string, Dictionary<string, AttributeValue>>(StringComparer.Ordinal);
        foreach (var chunk in plans.Chunk(100))
        {
            var keys = chunk.Select(p => new Dictionary<string, AttributeValue> { ["orderId"] = new AttributeValue { S = p.OrderId } }).ToList();
            var request = new Dictionary<string, KeysAndAttributes> { [table] = new KeysAndAttributes { Keys = keys, ConsistentRead = true } };
            while (request.Count > 0)
            {
                var response = await client.BatchGetItemAsync(new BatchGetItemRequest { RequestItems = request }, ct);
                foreach (var item in response.Responses[table])
                {
                    items[item["orderId"].S] = item;
                }

                request = response.UnprocessedKeys is { Count: > 0 } rest ? rest : [];
            }
        }

        Assert.Equal(plans.Count, items.Count);
        foreach (var plan in plans)
        {
            var item = items[plan.OrderId];
            Assert.True(
                plan.Path[^1].ToString() == item["status"].S && plan.Path.Count.ToString(CultureInfo.InvariantCulture) == item["version"].N,
                $"{plan.OrderId}: expected {plan.Path[^1]} v{plan.Path.Count}, stored {item["status"].S} v{item["version"].N}");
            Assert.True(item.ContainsKey("confirmationSentAt"), $"{plan.OrderId} has no confirmationSentAt");
        }
    }

    private void AssertOneConfirmationEach(IReadOnlyList<OrderPlan> plans, string domain)
    {
        var messages = smtp.ReadMessages()
            .Select(raw => MimeMessage.Load(new MemoryStream(raw)))
            .Where(m => m.MessageId?.EndsWith("@" + domain, StringComparison.Ordinal) == true)
            .ToList();
        var byId = messages.GroupBy(m => m.MessageId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var repeated = byId.Where(g => g.Value.Count > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.Count == 0, $"confirmations sent more than once: {string.Join(", ", repeated.Take(10))}");
        foreach (var plan in plans)
        {
            Assert.True(byId.TryGetValue($"order-{plan.OrderId}.confirmation@{domain}", out var sent), $"no confirmation for {plan.OrderId}");
            Assert.Equal(plan.Email, Assert.Single(Assert.Single(sent).To.Mailboxes).Address);
        }

        Assert.Equal(plans.Count, messages.Count);
    }

    private sealed record OrderPlan(int Index, string OrderId, string CustomerId, string Email, OrderItem[] Items, IReadOnlyList<OrderStatus> Path);
}
