using System.Globalization;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.Samples.OrderTracking.Orders;

namespace Analytics.Streaming.Samples.OrderTracking.Processing;

/// <summary>
/// The status table in DynamoDB, when <c>DynamoDb:TableName</c> is set. One item per order (hash key
/// <c>orderId</c>; index <c>customerId-index</c> on <c>customerId</c> + <c>orderId</c> for a customer's orders), with
/// <c>customerId</c>, <c>email</c>, <c>status</c>, <c>version</c>, <c>amount</c>, <c>items</c> (JSON), <c>updatedAt</c>,
/// and the confirmation's <c>confirmationMessageId</c>, <c>confirmationClaimOwner</c>, <c>confirmationClaimUntil</c>
/// (Unix milliseconds) and <c>confirmationSentAt</c>.
/// </summary>
/// <remarks>
/// Every write is one conditional <c>UpdateItem</c>: an event only with <c>attribute_not_exists(version) OR version &lt; :v</c>
/// (so it is idempotent and never moves back), a claim only with <c>attribute_not_exists(confirmationSentAt) AND
/// (no owner OR owner = me OR claim expired)</c>. The status update never touches the confirmation attributes and the
/// claim never touches the status, so the two cannot undo each other.
/// </remarks>
public sealed class DynamoDbOrderStatusStore : IOrderStatusStore
{
    /// <summary>The customer index.</summary>
    public const string CustomerIndex = "customerId-index";

    private readonly AmazonDynamoDBClient _client;
    private readonly string _table;
    private readonly TimeProvider _time;

    /// <summary>Creates the client.</summary>
    /// <param name="options">Table, region and endpoint.</param>
    /// <param name="time">The clock (waits while the table is created).</param>
    /// <param name="credentials">AWS credentials; <see langword="null"/> uses AWSSDK.Core's default chain.</param>
    public DynamoDbOrderStatusStore(DynamoDbOptions options, TimeProvider time, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _table = options.TableName ?? throw new ArgumentException("DynamoDb:TableName is required.", nameof(options));
        _time = time;
        var config = new AmazonDynamoDBConfig { RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region) };
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = options.Region;
        }

        _client = credentials is null ? new AmazonDynamoDBClient(config) : new AmazonDynamoDBClient(credentials, config);
    }

    /// <inheritdoc />
    public string Location => $"DynamoDB table {_table}";

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (await IsActiveAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await _client.CreateTableAsync(
                new CreateTableRequest
                {
                    TableName = _table,
                    BillingMode = BillingMode.PAY_PER_REQUEST,
                    AttributeDefinitions =
                    [
                        new AttributeDefinition("orderId", ScalarAttributeType.S),
                        new AttributeDefinition("customerId", ScalarAttributeType.S),
                    ],
                    KeySchema = [new KeySchemaElement("orderId", KeyType.HASH)],
                    GlobalSecondaryIndexes =
                    [
                        new GlobalSecondaryIndex
                        {
                            IndexName = CustomerIndex,
                            KeySchema = [new KeySchemaElement("customerId", KeyType.HASH), new KeySchemaElement("orderId", KeyType.RANGE)],
                            Projection = new Projection { ProjectionType = ProjectionType.ALL },
                        },
                    ],
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceInUseException)
        {
            // Made by another instance meanwhile.
        }

        while (!await IsActiveAsync(cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<bool> ApplyAsync(OrderEvent order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        try
        {
            await _client.UpdateItemAsync(
                new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(order.OrderId),
                    UpdateExpression = "SET customerId = :c, email = :e, #status = :s, #version = :v, amount = :a, #items = :i, updatedAt = :t",
                    ConditionExpression = "attribute_not_exists(#version) OR #version < :v",
                    ExpressionAttributeNames = new() { ["#status"] = "status", ["#version"] = "version", ["#items"] = "items" },
                    ExpressionAttributeValues = new()
                    {
                        [":c"] = new AttributeValue { S = order.CustomerId },
                        [":e"] = new AttributeValue { S = order.Email },
                        [":s"] = new AttributeValue { S = order.Status.ToString() },
                        [":v"] = new AttributeValue { N = order.Version.ToString(CultureInfo.InvariantCulture) },
                        [":a"] = new AttributeValue { N = order.Amount.ToString(CultureInfo.InvariantCulture) },
                        [":i"] = new AttributeValue { S = JsonSerializer.Serialize(order.Items, OrderJson.Default.IReadOnlyListOrderItem) },
                        [":t"] = new AttributeValue { S = order.Time.ToString("O", CultureInfo.InvariantCulture) },
                    },
                },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<OrderView?> GetAsync(string orderId, CancellationToken cancellationToken)
    {
        var response = await _client.GetItemAsync(new GetItemRequest { TableName = _table, Key = Key(orderId), ConsistentRead = true }, cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? View(item) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OrderView>> ListByCustomerAsync(string customerId, int limit, CancellationToken cancellationToken)
    {
        var orders = new List<OrderView>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var response = await _client.QueryAsync(
                new QueryRequest
                {
                    TableName = _table,
                    IndexName = CustomerIndex,
                    KeyConditionExpression = "customerId = :c",
                    ExpressionAttributeValues = new() { [":c"] = new AttributeValue { S = customerId } },
                    ExclusiveStartKey = start,
                    Limit = Math.Min(limit - orders.Count, 500),
                },
                cancellationToken).ConfigureAwait(false);
            foreach (var item in response.Items ?? [])
            {
                if (View(item) is { } view)
                {
                    orders.Add(view);
                }
            }

            start = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null && orders.Count < limit);
        return orders;
    }

    /// <inheritdoc />
    public async Task<ConfirmationClaim> TryClaimConfirmationAsync(string orderId, string owner, string messageId, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        try
        {
            await _client.UpdateItemAsync(
                new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(orderId),
                    UpdateExpression = "SET confirmationClaimOwner = :me, confirmationClaimUntil = :until, confirmationMessageId = :mid",
                    ConditionExpression = "attribute_exists(orderId) AND attribute_not_exists(confirmationSentAt) AND (attribute_not_exists(confirmationClaimOwner) OR confirmationClaimOwner = :me OR confirmationClaimUntil < :now)",
                    ExpressionAttributeValues = new()
                    {
                        [":me"] = new AttributeValue { S = owner },
                        [":until"] = new AttributeValue { N = until.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
                        [":now"] = new AttributeValue { N = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
                        [":mid"] = new AttributeValue { S = messageId },
                    },
                },
                cancellationToken).ConfigureAwait(false);
            return ConfirmationClaim.Claimed;
        }
        catch (ConditionalCheckFailedException)
        {
            var response = await _client.GetItemAsync(new GetItemRequest { TableName = _table, Key = Key(orderId), ConsistentRead = true }, cancellationToken).ConfigureAwait(false);
            if (response.Item is not { Count: > 0 } item)
            {
                throw new InvalidOperationException($"Order {orderId} has no row to claim its confirmation on; apply its event first.");
            }

            return item.ContainsKey("confirmationSentAt") ? ConfirmationClaim.AlreadySent : ConfirmationClaim.HeldByOther;
        }
    }

    /// <inheritdoc />
    public async Task MarkConfirmationSentAsync(string orderId, string owner, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        try
        {
            await _client.UpdateItemAsync(
                new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(orderId),
                    UpdateExpression = "SET confirmationSentAt = :t REMOVE confirmationClaimUntil",
                    ConditionExpression = "confirmationClaimOwner = :me",
                    ExpressionAttributeValues = new()
                    {
                        [":me"] = new AttributeValue { S = owner },
                        [":t"] = new AttributeValue { S = sentAt.ToString("O", CultureInfo.InvariantCulture) },
                    },
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Another consumer took the claim over after ours expired; it records its own send.
        }
    }

    /// <inheritdoc />
    public async Task ReleaseConfirmationClaimAsync(string orderId, string owner, CancellationToken cancellationToken)
    {
        try
        {
            await _client.UpdateItemAsync(
                new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(orderId),
                    UpdateExpression = "REMOVE confirmationClaimOwner, confirmationClaimUntil",
                    ConditionExpression = "confirmationClaimOwner = :me AND attribute_not_exists(confirmationSentAt)",
                    ExpressionAttributeValues = new() { [":me"] = new AttributeValue { S = owner } },
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Not ours any more.
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static Dictionary<string, AttributeValue> Key(string orderId) => new() { ["orderId"] = new AttributeValue { S = orderId } };

    private static OrderView? View(Dictionary<string, AttributeValue> item)
    {
        if (!item.TryGetValue("status", out var status) || !Enum.TryParse<OrderStatus>(status.S, out var parsed))
        {
            return null;
        }

        var items = item.TryGetValue("items", out var json) && json.S is { } s ? JsonSerializer.Deserialize(s, OrderJson.Default.IReadOnlyListOrderItem) ?? [] : [];
        return new OrderView(
            item["orderId"].S,
            item.TryGetValue("customerId", out var c) ? c.S : string.Empty,
            item.TryGetValue("email", out var e) ? e.S : string.Empty,
            parsed,
            long.Parse(item["version"].N, CultureInfo.InvariantCulture),
            item.TryGetValue("amount", out var a) ? decimal.Parse(a.N, CultureInfo.InvariantCulture) : 0m,
            items,
            item.TryGetValue("updatedAt", out var t) ? DateTimeOffset.Parse(t.S, CultureInfo.InvariantCulture) : default,
            item.TryGetValue("confirmationSentAt", out var sent) ? DateTimeOffset.Parse(sent.S, CultureInfo.InvariantCulture) : null,
            item.TryGetValue("confirmationMessageId", out var mid) ? mid.S : null);
    }

    private async Task<bool> IsActiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            var described = await _client.DescribeTableAsync(_table, cancellationToken).ConfigureAwait(false);
            return described.Table.TableStatus == TableStatus.ACTIVE
                && (described.Table.GlobalSecondaryIndexes ?? []).All(i => i.IndexStatus == IndexStatus.ACTIVE);
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }
}
