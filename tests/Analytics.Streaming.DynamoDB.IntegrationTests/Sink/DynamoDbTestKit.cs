using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests;

/// <summary>Clients against dynalite (optionally through a fault-injecting handler), tables and reads for the sink and checkpoint tests.</summary>
internal static class DynamoDbTestKit
{
    /// <summary>Fast retries for tests: many attempts, millisecond waits.</summary>
    public static RetryOptions FastRetry(int attempts = 20) => new() { MaxAttempts = attempts, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), MaxElapsed = TimeSpan.FromMinutes(1) };

    /// <summary>A client of dynalite; the SDK's own retries are off so the component's retries are the ones tested.</summary>
    public static AmazonDynamoDBClient Client(DynaliteServer dynalite, DelegatingHandler? handler = null)
    {
        var config = new AmazonDynamoDBConfig
        {
            ServiceURL = dynalite.Endpoint.ToString(),
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
        };
        if (handler is not null)
        {
            config.HttpClientFactory = new HandlerClientFactory(handler);
        }

        return new AmazonDynamoDBClient(new BasicAWSCredentials("AKIDTEST", "secret"), config);
    }

    public static async Task CreateTableAsync(IAmazonDynamoDB client, CreateTableRequest request, CancellationToken cancellationToken)
    {
        await client.CreateTableAsync(request, cancellationToken);
        while ((await client.DescribeTableAsync(request.TableName, cancellationToken)).Table.TableStatus != TableStatus.ACTIVE)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    public static async Task<List<Dictionary<string, AttributeValue>>> ScanAsync(IAmazonDynamoDB client, string table, CancellationToken cancellationToken)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await client.ScanAsync(new ScanRequest { TableName = table, ConsistentRead = true, ExclusiveStartKey = start }, cancellationToken);
            items.AddRange(page.Items ?? []);
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        return items;
    }

    private sealed class HandlerClientFactory(DelegatingHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            handler.InnerHandler ??= new HttpClientHandler();
            return new HttpClient(handler, disposeHandler: false);
        }

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    }
}

/// <summary>What <see cref="DynamoDbFaultHandler"/> does with one request.</summary>
internal enum Fault
{
    None,

    /// <summary>Answer 400 ProvisionedThroughputExceededException without forwarding.</summary>
    Throttle,

    /// <summary>Answer 500 InternalServerError without forwarding.</summary>
    ServerError,

    /// <summary>Throw a non-retryable exception, as if the process died mid-call.</summary>
    Crash,

    /// <summary>Forward the request, then answer 500 InternalServerError: the write is applied, its answer lost.</summary>
    LostAnswer,
}

/// <summary>
/// Sits in front of dynalite: per request it may throttle, fail with a 5xx, "crash", or (for BatchWriteItem) keep
/// chosen put requests back and return them as <c>UnprocessedItems</c>, as DynamoDB does under load.
/// </summary>
internal sealed class DynamoDbFaultHandler : DelegatingHandler
{
    private int _calls;

    /// <summary>Decides a fault per request: operation (<c>PutItem</c>, <c>BatchWriteItem</c>...), request body, call number (from 1).</summary>
    public Func<string, JsonObject, int, Fault>? Decide { get; set; }

    /// <summary>For BatchWriteItem: which put items (attribute map JSON) to return unprocessed this time.</summary>
    public Func<JsonObject, bool>? KeepBack { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public int Unprocessed { get; private set; }

    public int Injected { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.First() : string.Empty;
        string operation = target[(target.IndexOf('.', StringComparison.Ordinal) + 1)..];
        byte[] bytes = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
        var contentType = request.Content.Headers.ContentType;
        var body = JsonNode.Parse(bytes)!.AsObject();
        int call = Interlocked.Increment(ref _calls);
        Fault fault;
        JsonArray? keptBack = null;
        string? keptTable = null;
        lock (this)
        {
            fault = Decide?.Invoke(operation, body, call) ?? Fault.None;
            if (fault == Fault.None && operation == "BatchWriteItem" && KeepBack is { } keep)
            {
                foreach (var (table, list) in body["RequestItems"]!.AsObject())
                {
                    var array = list!.AsArray();
                    var back = array.Where(r => r!["PutRequest"] is { } put && keep(put["Item"]!.AsObject())).ToList();
                    if (back.Count > 0)
                    {
                        keptBack = [];
                        keptTable = table;
                        foreach (var node in back)
                        {
                            array.Remove(node);
                            keptBack.Add(node);
                        }

                        bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
                        Unprocessed += back.Count;
                    }
                }
            }

            if (fault != Fault.None)
            {
                Injected++;
            }
        }

        switch (fault)
        {
            case Fault.Throttle:
                return Error(HttpStatusCode.BadRequest, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded.");
            case Fault.ServerError:
                return Error(HttpStatusCode.InternalServerError, "InternalServerError", "Internal server error");
            case Fault.Crash:
                throw new InvalidOperationException("Simulated crash in the middle of a save.");
        }

        if (keptBack is not null && keptBack.Count > 0 && body["RequestItems"]![keptTable!]!.AsArray().Count == 0)
        {
            // Everything was kept back: answer without forwarding an empty list (DynamoDB refuses those).
            return Json(new JsonObject { ["UnprocessedItems"] = new JsonObject { [keptTable!] = keptBack } });
        }

        request.Content = new ByteArrayContent(bytes);
        request.Content.Headers.ContentType = contentType;
        var response = await base.SendAsync(request, cancellationToken);
        if (fault == Fault.LostAnswer)
        {
            response.Dispose();
            return Error(HttpStatusCode.InternalServerError, "InternalServerError", "Internal server error");
        }

        if (keptBack is null || !response.IsSuccessStatusCode)
        {
            return response;
        }

        var answer = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken))!.AsObject();
        var unprocessed = answer["UnprocessedItems"] as JsonObject ?? [];
        answer["UnprocessedItems"] = unprocessed;
        if (unprocessed[keptTable!] is JsonArray existing)
        {
            foreach (var node in keptBack.ToList())
            {
                keptBack.Remove(node);
                existing.Add(node);
            }
        }
        else
        {
            unprocessed[keptTable!] = keptBack;
        }

        response.Dispose();
        return Json(answer);
    }

    private static HttpResponseMessage Json(JsonObject body)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8) };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.0");
        response.Headers.Add("x-amzn-RequestId", Guid.NewGuid().ToString());
        return response;
    }

    private static HttpResponseMessage Error(HttpStatusCode status, string type, string message)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent(new JsonObject { ["__type"] = "com.amazonaws.dynamodb.v20120810#" + type, ["message"] = message }.ToJsonString(), Encoding.UTF8),
        };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.0");
        response.Headers.Add("x-amzn-RequestId", Guid.NewGuid().ToString());
        return response;
    }
}
