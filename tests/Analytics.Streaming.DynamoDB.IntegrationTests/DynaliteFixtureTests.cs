using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests;

/// <summary>The dynalite fixture answers the AWS SDK: a table created is listed and an item written reads back.</summary>
public sealed class DynaliteFixtureTests(DynaliteServer dynalite)
{
    [Fact]
    public async Task CreateTable_PutItem_GetItem_RoundTripsThroughDynalite()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = new AmazonDynamoDBClient(new BasicAWSCredentials("AKIDTEST", "secret"), new AmazonDynamoDBConfig { ServiceURL = dynalite.Endpoint.ToString(), AuthenticationRegion = "us-east-1" });
        string table = DynaliteServer.NewTableName("fixture");
        await client.CreateTableAsync(
            new CreateTableRequest
            {
                TableName = table,
                KeySchema = [new KeySchemaElement("pk", KeyType.HASH)],
                AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S)],
                BillingMode = BillingMode.PAY_PER_REQUEST,
            },
            ct);
        while ((await client.DescribeTableAsync(table, ct)).Table.TableStatus != TableStatus.ACTIVE)
        {
            await Task.Delay(20, ct);
        }

        await client.PutItemAsync(table, new Dictionary<string, AttributeValue> { ["pk"] = new("a"), ["n"] = new() { N = "42" } }, ct);
        var item = await client.GetItemAsync(table, new Dictionary<string, AttributeValue> { ["pk"] = new("a") }, ct);

        Assert.Equal("42", item.Item["n"].N);
    }
}
