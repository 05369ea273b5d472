using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.DynamoDB.IntegrationTests;

/// <summary>An older value never overwrites a newer one, whatever order the revisions of results arrive in.</summary>
public sealed class DynamoDbSinkVersionProperties(DynaliteServer dynalite) : IAsyncLifetime
{
    private static int _case;
    private Amazon.DynamoDBv2.AmazonDynamoDBClient _client = null!;
    private string _table = null!;
    private DynamoDbItemMap<WindowResult<string, long>> _map = null!;

    public async ValueTask InitializeAsync()
    {
        _client = DynamoDbTestKit.Client(dynalite);
        _map = DynamoDbItemMap.ForWindowResults<string, long>().Number("value", r => r.Value).Build();
        _table = await DynamoDbSinkTests.CreateTableAsync(_client, _map);
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Each byte is one emission: key <c>b % 3</c>, revision <c>b / 3 % 12 + 1</c> (so revisions repeat, as replays
    /// repeat them); the sink flushes after every <c>flushEvery</c> emissions, so revisions of a key meet both in the
    /// buffer and in the table. Whatever the order, each key ends with its highest revision's value.
    /// </summary>
    [Property(MaxTest = 40)]
    public bool Versioned_AnyOrderOfRevisions_StoresTheNewestOfEachKey(NonEmptyArray<byte> emissions, PositiveInt flushEvery)
        => RunAsync(emissions.Get, 1 + (flushEvery.Get % 5), DynamoDbWriteMode.Versioned).GetAwaiter().GetResult();

    private async Task<bool> RunAsync(byte[] emissions, int flushEvery, DynamoDbWriteMode mode)
    {
        var ct = TestContext.Current.CancellationToken;
        string pipeline = $"case-{Interlocked.Increment(ref _case)}";
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(_client, new() { TableName = _table, Map = _map, WriteMode = mode });
        var newest = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < emissions.Length; i++)
        {
            string key = $"k{emissions[i] % 3}";
            long revision = (emissions[i] / 3 % 12) + 1;
            newest[key] = Math.Max(newest.GetValueOrDefault(key), revision);
            var result = new WindowResult<string, long>(pipeline, key, DynamoDbSinkTests.Minute(0), revision * 100, EmitReason.LateUpdate) { RecordCount = revision };
            await sink.WriteAsync(new[] { result }, ct);
            if ((i + 1) % flushEvery == 0)
            {
                await sink.FlushAsync(ct);
            }
        }

        await sink.FlushAsync(ct);
        foreach (var (key, revision) in newest)
        {
            var item = (await _client.GetItemAsync(new GetItemRequest
            {
                TableName = _table,
                Key = new() { ["pk"] = new($"{pipeline}#{key}"), ["sk"] = new(DynamoDbItemMap.ResultSortKey(DynamoDbSinkTests.Minute(0))) },
                ConsistentRead = true,
            }, ct)).Item;
            if (item["value"].N != (revision * 100).ToString(System.Globalization.CultureInfo.InvariantCulture) || item["recordCount"].N != revision.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                return false;
            }
        }

        return true;
    }
}
