using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Analytics.Streaming.DynamoDB;
using Analytics.Streaming.TestSupport;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.DynamoDB;

/// <summary>
/// The DynamoDB sink's overhead: writing 500 window results (one per key, the default result layout plus a number)
/// to dynalite through <see cref="DynamoDbSink{T}"/>, against a bare loop that builds the same items by hand and sends
/// them with <c>BatchWriteItem</c>, 25 per call, one call at a time. The sink runs with one request in flight, as the
/// loop does. <c>Batch</c> mode does the same requests, so its ratio is the sink's overhead (goal: within 10%);
/// <c>Versioned</c> mode sends one conditional <c>PutItem</c> per item, and its ratio is the price of "an older
/// value never wins" in requests. dynalite is an emulator on the same machine, so the figures compare the client
/// side; against DynamoDB the network dominates both.
/// </summary>
[BenchmarkCategory("DynamoDB")]
public class DynamoDbSinkBenchmarks
{
    private const int Items = 500;
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private DynaliteServer _dynalite = null!;
    private AmazonDynamoDBClient _client = null!;
    private DynamoDbItemMap<WindowResult<string, long>> _map = null!;
    private WindowResult<string, long>[] _results = null!;
    private string _table = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dynalite = new DynaliteServer();
        _dynalite.InitializeAsync().AsTask().GetAwaiter().GetResult();
        _client = new AmazonDynamoDBClient(
            new BasicAWSCredentials("AKIDBENCH", "secret"),
            new AmazonDynamoDBConfig { ServiceURL = _dynalite.Endpoint.ToString(), AuthenticationRegion = "us-east-1" });
        _map = DynamoDbItemMap.ForWindowResults<string, long>().Number("views", r => r.Value).Build();
        _table = DynaliteServer.NewTableName("bench");
        _client.CreateTableAsync(_map.ToCreateTableRequest(_table)).GetAwaiter().GetResult();
        while (_client.DescribeTableAsync(_table).GetAwaiter().GetResult().Table.TableStatus != TableStatus.ACTIVE)
        {
            Thread.Sleep(20);
        }

        var window = new TimeWindow(T0, T0.AddMinutes(1));
        _results = Enumerable.Range(0, Items)
            .Select(i => new WindowResult<string, long>("page-views", $"/page/{i}", window, i) { RecordCount = i + 1 })
            .ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _dynalite.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Hand-built items, <c>BatchWriteItem</c> of 25 at a time, unprocessed items resent at once.</summary>
    [Benchmark(Baseline = true)]
    public async Task BareBatchWriteItemLoop()
    {
        for (int first = 0; first < _results.Length; first += 25)
        {
            var requests = new List<WriteRequest>(25);
            for (int i = first; i < Math.Min(first + 25, _results.Length); i++)
            {
                var r = _results[i];
                requests.Add(new WriteRequest
                {
                    PutRequest = new PutRequest
                    {
                        Item = new Dictionary<string, AttributeValue>
                        {
                            ["pk"] = new(r.Pipeline + "#" + r.Key),
                            ["sk"] = new(DynamoDbItemMap.ResultSortKey(r.Window)),
                            ["recordCount"] = new() { N = r.RecordCount.ToString(CultureInfo.InvariantCulture) },
                            ["pipeline"] = new(r.Pipeline),
                            ["key"] = new(r.Key),
                            ["windowStart"] = new(r.Window.Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
                            ["windowEnd"] = new(r.Window.End.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
                            ["reason"] = new("Closed"),
                            ["views"] = new() { N = r.Value.ToString(CultureInfo.InvariantCulture) },
                        },
                    },
                });
            }

            while (requests.Count > 0)
            {
                var response = await _client.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = new() { [_table] = requests } });
                requests = response.UnprocessedItems is { } left && left.TryGetValue(_table, out var rest) && rest is not null ? rest : [];
            }
        }
    }

    /// <summary>The sink in <see cref="DynamoDbWriteMode.Batch"/> mode: same requests as the loop.</summary>
    [Benchmark]
    public Task SinkBatchMode() => WriteWithSinkAsync(DynamoDbWriteMode.Batch);

    /// <summary>The sink in <see cref="DynamoDbWriteMode.Versioned"/> mode: one conditional PutItem per item.</summary>
    [Benchmark]
    public Task SinkVersionedMode() => WriteWithSinkAsync(DynamoDbWriteMode.Versioned);

    private async Task WriteWithSinkAsync(DynamoDbWriteMode mode)
    {
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(_client, new()
        {
            TableName = _table,
            Map = _map,
            WriteMode = mode,
            MaxConcurrentRequests = 1,
        });
        await sink.WriteAsync(_results, CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);
    }
}
