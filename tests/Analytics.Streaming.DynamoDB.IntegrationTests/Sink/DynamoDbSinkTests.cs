using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.Sketches;
using Analytics.Streaming.Testing;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests;

public sealed record Reading(string Device, long Seq, double Temperature, decimal Price, bool Ok, byte[]? Raw, string? Note, string[] Tags, long[] Codes, Dictionary<string, long> Counts, DateTimeOffset Time);

public sealed class DynamoDbSinkTests(DynaliteServer dynalite)
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 15, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteAsync_EveryAttributeType_ReadsBackAsWritten()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var hll = new HyperLogLogSketch();
        hll.Add("alice");
        hll.Add("bob");
        var map = DynamoDbItemMap.For<Reading>()
            .PartitionKey("device", r => r.Device)
            .SortKey("seq", r => r.Seq)
            .Version(r => r.Seq)
            .Number("temperature", r => r.Temperature)
            .Number("price", r => r.Price)
            .Boolean("ok", r => r.Ok)
            .Binary("raw", r => r.Raw)
            .String("note", r => r.Note)
            .StringSet("tags", r => r.Tags)
            .NumberSet("codes", r => r.Codes)
            .NumberMap("counts", r => r.Counts)
            .Attribute("list", r => new AttributeValue { L = [new AttributeValue("a"), new AttributeValue { N = "1" }] })
            .Sketch("visitors", _ => hll)
            .Timestamp("timeIso", r => r.Time)
            .Timestamp("timeMs", r => r.Time, DynamoDbTimeFormat.EpochMilliseconds)
            .TimeToLive("ttl", r => r.Time.AddDays(30))
            .WriteNulls()
            .Build();
        string table = await CreateTableAsync(client, map);
        await using var sink = new DynamoDbSink<Reading>(client, new() { TableName = table, Map = map });

        var reading = new Reading("d-1", 7, 21.5, 19.99m, true, [1, 2, 255], null, ["x", "y", "x"], [3, 1, 3], new() { ["a"] = 2, ["b"] = 5 }, T0);
        await sink.WriteAsync(new[] { reading }, Ct);
        await sink.FlushAsync(Ct);

        var item = (await client.GetItemAsync(new GetItemRequest
        {
            TableName = table,
            Key = new() { ["device"] = new("d-1"), ["seq"] = new() { N = "7" } },
            ConsistentRead = true,
        }, Ct)).Item;
        Assert.Equal("7", item["version"].N);
        Assert.Equal(21.5, double.Parse(item["temperature"].N, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("19.99", item["price"].N);
        Assert.True(item["ok"].BOOL);
        Assert.Equal(new byte[] { 1, 2, 255 }, item["raw"].B.ToArray());
        Assert.True(item["note"].NULL);
        Assert.Equal(["x", "y"], item["tags"].SS.Order(StringComparer.Ordinal));
        Assert.Equal(["1", "3"], item["codes"].NS.Order(StringComparer.Ordinal));
        Assert.Equal("2", item["counts"].M["a"].N);
        Assert.Equal("5", item["counts"].M["b"].N);
        Assert.Equal("a", item["list"].L[0].S);
        Assert.Equal("1", item["list"].L[1].N);
        Assert.Equal(2, HyperLogLogSketch.Deserialize(item["visitors"].B.ToArray()).Estimate(), 0.5);
        Assert.Equal("2024-05-01T10:15:00.000Z", item["timeIso"].S);
        Assert.Equal(T0.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), item["timeMs"].N);
        Assert.Equal(T0.AddDays(30).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), item["ttl"].N);
        Assert.Equal(1, sink.Statistics.ItemsWritten);
    }

    [Fact]
    public async Task ForWindowResults_DefaultKeys_AreQueryableByKeyAndTimeRange()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.ForWindowResults<string, long>().Number("views", r => r.Value).Build();
        string table = await CreateTableAsync(client, map);
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(client, new() { TableName = table, Map = map });
        var results = Enumerable.Range(0, 10)
            .Select(i => new WindowResult<string, long>("page-views", "/home", Minute(i), 100 + i) { RecordCount = 100 + i })
            .Append(new WindowResult<string, long>("page-views", "/cart", Minute(3), 7) { RecordCount = 7 })
            .Append(new WindowResult<string, long>("page-views", "/cart", Minute(3), 2) { RecordCount = 2, Partition = "shardId-000000000001" })
            .ToArray();

        await sink.WriteAsync(results, Ct);
        await sink.FlushAsync(Ct);

        var range = await client.QueryAsync(new QueryRequest
        {
            TableName = table,
            KeyConditionExpression = "pk = :pk AND sk BETWEEN :from AND :to",
            ExpressionAttributeValues = new()
            {
                [":pk"] = new("page-views#/home"),
                [":from"] = new("2024-05-01T10:17"),
                [":to"] = new("2024-05-01T10:20"),
            },
            ConsistentRead = true,
        }, Ct);
        Assert.Equal(["102", "103", "104"], range.Items.Select(i => i["views"].N));
        Assert.Equal("2024-05-01T10:17:00.000Z/2024-05-01T10:18:00.000Z", range.Items[0]["sk"].S);
        Assert.Equal("2024-05-01T10:17:00.000Z", range.Items[0]["windowStart"].S);
        Assert.Equal("/home", range.Items[0]["key"].S);
        Assert.Equal("Closed", range.Items[0]["reason"].S);
        Assert.Equal("102", range.Items[0]["recordCount"].N);

        var cart = await client.QueryAsync(new QueryRequest
        {
            TableName = table,
            KeyConditionExpression = "pk = :pk",
            ExpressionAttributeValues = new() { [":pk"] = new("page-views#/cart") },
            ConsistentRead = true,
        }, Ct);
        Assert.Equal(2, cart.Items.Count);
        Assert.Equal("shardId-000000000001", cart.Items.Single(i => i.ContainsKey("partition"))["partition"].S);
        Assert.EndsWith("#shardId-000000000001", cart.Items.Single(i => i.ContainsKey("partition"))["sk"].S, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Versioned_LateUpdateThenReplayOfOlderValues_KeepsTheNewestAndCountsStaleWrites()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.ForWindowResults<string, long>().Number("views", r => r.Value).Build();
        string table = await CreateTableAsync(client, map);
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(client, new() { TableName = table, Map = map });
        var closed = new WindowResult<string, long>("p", "/a", Minute(0), 10) { RecordCount = 10 };
        var late = closed with { Value = 12, RecordCount = 12, Reason = EmitReason.LateUpdate };

        await sink.WriteAsync(new[] { closed }, Ct);
        await sink.FlushAsync(Ct);
        await sink.WriteAsync(new[] { late }, Ct);
        await sink.FlushAsync(Ct);
        await sink.WriteAsync(new[] { closed }, Ct); // a replay after a restart re-emits the older value first
        await sink.FlushAsync(Ct);
        await sink.WriteAsync(new[] { late }, Ct); // ... and then the same newest one again
        await sink.FlushAsync(Ct);

        var items = await DynamoDbTestKit.ScanAsync(client, table, Ct);
        var item = Assert.Single(items);
        Assert.Equal("12", item["views"].N);
        Assert.Equal("LateUpdate", item["reason"].S);
        Assert.Equal(1, sink.Statistics.StaleWrites);
        Assert.Equal(3, sink.Statistics.ItemsWritten);
    }

    [Fact]
    public async Task Versioned_ManyVersionsOfOneKeyInOneBuffer_SendsOnlyTheNewest()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.ForWindowResults<string, long>().Number("views", r => r.Value).Build();
        string table = await CreateTableAsync(client, map);
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(client, new() { TableName = table, Map = map });
        var versions = new[] { 3, 9, 1, 7 }.Select(v => new WindowResult<string, long>("p", "/a", Minute(0), v * 10) { RecordCount = v, Reason = EmitReason.Update }).ToArray();

        await sink.WriteAsync(versions, Ct);
        await sink.FlushAsync(Ct);

        Assert.Equal("90", Assert.Single(await DynamoDbTestKit.ScanAsync(client, table, Ct))["views"].N);
        Assert.Equal(1, sink.Statistics.Requests);
    }

    [Fact]
    public async Task WriteAsync_KeysWhoseTextsLookAlike_StayDistinctItems()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.For<(string Pk, string Sk, long V)>()
            .PartitionKey("pk", r => r.Pk)
            .SortKey("sk", r => r.Sk)
            .Version(r => r.V)
            .Build();
        string table = await CreateTableAsync(client, map);
        await using var sink = new DynamoDbSink<(string, string, long)>(client, new() { TableName = table, Map = map });

        await sink.WriteAsync(new[] { ("a|b", "c", 2L), ("a", "b|c", 1L) }, Ct);
        await sink.FlushAsync(Ct);

        Assert.Equal(2, (await DynamoDbTestKit.ScanAsync(client, table, Ct)).Count);
    }

    [Theory]
    [InlineData(DynamoDbWriteMode.Versioned)]
    [InlineData(DynamoDbWriteMode.Batch)]
    public async Task FlushAsync_ThrottlingServerErrorsAndUnprocessedItems_StoresEachItemOnceWithItsNewestValue(DynamoDbWriteMode mode)
    {
        var handler = new DynamoDbFaultHandler();
        using var client = DynamoDbTestKit.Client(dynalite, handler);
        var map = DynamoDbItemMap.ForWindowResults<string, long>().Number("views", r => r.Value).Build();
        string table = await CreateTableAsync(client, map);
        var keptOnce = new HashSet<string>(StringComparer.Ordinal);
        var throttledOnce = new HashSet<string>(StringComparer.Ordinal);
        handler.Decide = (operation, body, call) =>
        {
            if (operation == "BatchWriteItem" && call % 4 == 1)
            {
                return call % 8 == 1 ? Fault.Throttle : Fault.ServerError;
            }

            if (operation == "PutItem" && body["Item"]!["key"]!["S"]!.GetValue<string>() is { } key && key.EndsWith('3') && throttledOnce.Add(key + body["Item"]!["recordCount"]!["N"]))
            {
                return key.EndsWith("13", StringComparison.Ordinal) ? Fault.ServerError : Fault.Throttle;
            }

            return Fault.None;
        };
        handler.KeepBack = item => item["key"]!["S"]!.GetValue<string>() is { } key && key.EndsWith('7') && keptOnce.Add(key);
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(client, new()
        {
            TableName = table,
            Map = map,
            WriteMode = mode,
            Retry = DynamoDbTestKit.FastRetry(),
            MaxBufferedItems = 40,
        });

        // 100 keys, each written twice (an early value, then the final one) in separate calls.
        var early = Enumerable.Range(0, 100).Select(i => new WindowResult<string, long>("p", $"/k{i}", Minute(0), i) { RecordCount = 1 }).ToArray();
        var final = early.Select(r => r with { Value = r.Value * 1000, RecordCount = 2 }).ToArray();
        await sink.WriteAsync(early, Ct);
        await sink.FlushAsync(Ct);
        await sink.WriteAsync(final, Ct);
        await sink.FlushAsync(Ct);

        var items = await DynamoDbTestKit.ScanAsync(client, table, Ct);
        Assert.Equal(100, items.Count);
        Assert.Equal(100, items.Select(i => i["pk"].S).Distinct().Count());
        Assert.All(items, i => Assert.Equal((long.Parse(i["key"].S.AsSpan(2), provider: null) * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), i["views"].N));
        Assert.True(sink.Statistics.Retries > 0, "faults were injected, so the sink must have retried");
        Assert.True(handler.Injected > 0);
        Assert.Equal(0, sink.Statistics.DeadLetters);
        if (mode == DynamoDbWriteMode.Batch)
        {
            Assert.True(handler.Unprocessed > 0, "items were kept back as unprocessed");
        }
    }

    [Fact]
    public async Task FlushAsync_ThrottledUntilRetriesRunOut_ThrowsAndRefusesFurtherCalls()
    {
        int puts = 0;
        var handler = new DynamoDbFaultHandler { Decide = (operation, _, _) => operation == "PutItem" && ++puts > 0 ? Fault.Throttle : Fault.None };
        using var client = DynamoDbTestKit.Client(dynalite, handler);
        var map = DynamoDbItemMap.ForWindowResults<string, long>().Number("views", r => r.Value).Build();
        string table = await CreateTableAsync(client, map);
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(client, new() { TableName = table, Map = map, Retry = DynamoDbTestKit.FastRetry(attempts: 3) });
        await sink.WriteAsync(new[] { new WindowResult<string, long>("p", "/a", Minute(0), 1) { RecordCount = 1 } }, Ct);

        await Assert.ThrowsAsync<ProvisionedThroughputExceededException>(async () => await sink.FlushAsync(Ct));

        Assert.Equal(3, puts);
        Assert.Equal(2, sink.Statistics.Retries);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.WriteAsync(new[] { new WindowResult<string, long>("p", "/b", Minute(0), 1) }, Ct));
    }

    [Theory]
    [InlineData(DynamoDbWriteMode.Versioned)]
    [InlineData(DynamoDbWriteMode.Batch)]
    public async Task WriteAsync_ItemsThatCannotBeStored_GoToTheDeadLettersWithTheReason(DynamoDbWriteMode mode)
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.For<Reading>()
            .PartitionKey("device", r => r.Device)
            .SortKey("seq", r => r.Seq)
            .Version(r => r.Seq)
            .Number("temperature", r => r.Temperature)
            .Binary("raw", r => r.Raw)
            .Attribute("bad", r => r.Note == "empty-set" ? new AttributeValue { SS = [] } : null)
            .Build();
        string table = await CreateTableAsync(client, map);
        var deadLetters = new CollectingSink<DeadLetter>();
        await using var sink = new DynamoDbSink<Reading>(client, new() { TableName = table, Map = map, WriteMode = mode, DeadLetters = deadLetters });
        Reading Make(string device, long seq, double temperature = 20, byte[]? raw = null, string? note = null) => new(device, seq, temperature, 0, true, raw, note, [], [], [], T0);

        await sink.WriteAsync(
            new[]
            {
                Make("ok-1", 1),
                Make("big", 2, raw: new byte[410 * 1024]),
                Make("nan", 3, temperature: double.NaN),
                Make("huge", 4, temperature: 1e200),
                Make(string.Empty, 5),
                Make("refused", 6, note: "empty-set"),
                Make("ok-2", 7, raw: new byte[300 * 1024]),
            },
            Ct);
        await sink.FlushAsync(Ct);

        var stored = await DynamoDbTestKit.ScanAsync(client, table, Ct);
        Assert.Equal(["ok-1", "ok-2"], stored.Select(i => i["device"].S).Order(StringComparer.Ordinal));
        var letters = deadLetters.Items.ToDictionary(d => d.Position.PartitionId, StringComparer.Ordinal);
        Assert.Equal(5, letters.Count);
        Assert.Equal(5, sink.Statistics.DeadLetters);
        var big = letters[$"dynamodb:{table}/big|2"];
        Assert.Equal(DeadLetterReason.InvalidRecord, big.Reason);
        Assert.Contains("400 KB", big.Message, StringComparison.Ordinal);
        Assert.Equal(DeadLetterReason.InvalidValue, letters[$"dynamodb:{table}/nan|3"].Reason);
        Assert.Contains("NaN", letters[$"dynamodb:{table}/nan|3"].Message, StringComparison.Ordinal);
        Assert.Contains("range", letters[$"dynamodb:{table}/huge|4"].Message, StringComparison.Ordinal);
        Assert.Equal(DeadLetterReason.InvalidRecord, letters[$"dynamodb:{table}/(no key)"].Reason);
        Assert.Contains("'device'", letters[$"dynamodb:{table}/(no key)"].Message, StringComparison.Ordinal);
        var refused = letters[$"dynamodb:{table}/refused|6"];
        Assert.Equal(DeadLetterReason.Rejected, refused.Reason);
        Assert.Contains("refused", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Device = refused", Encoding.UTF8.GetString(refused.Payload.Span), StringComparison.Ordinal);
        Assert.Equal(1, deadLetters.FlushCount);
    }

    [Fact]
    public async Task SessionWindow_ExtendedSession_DeletesTheItemOfItsOlderExtent()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.ForWindowResults<string, long>().Number("clicks", r => r.Value).Build();
        string table = await CreateTableAsync(client, map);
        await using var sink = new DynamoDbSink<WindowResult<string, long>>(client, new() { TableName = table, Map = map });
        var first = new WindowResult<string, long>("s", "u1", new TimeWindow(T0, T0.AddMinutes(5)), 3, EmitReason.Update) { RecordCount = 3 };
        var extended = new WindowResult<string, long>("s", "u1", new TimeWindow(T0, T0.AddMinutes(9)), 5, EmitReason.Update, [first.Window]) { RecordCount = 5 };

        await sink.WriteAsync(new[] { first }, Ct);
        await sink.FlushAsync(Ct);
        await sink.WriteAsync(new[] { extended }, Ct);
        await sink.FlushAsync(Ct);

        var item = Assert.Single(await DynamoDbTestKit.ScanAsync(client, table, Ct));
        Assert.Equal("2024-05-01T10:15:00.000Z/2024-05-01T10:24:00.000Z", item["sk"].S);
        Assert.Equal(1, sink.Statistics.ItemsDeleted);
    }

    [Fact]
    public void Options_VersionedWithoutVersion_SaysHowToFixIt()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.For<Reading>().PartitionKey("device", r => r.Device).Build();

        var error = Assert.Throws<ArgumentException>(() => new DynamoDbSink<Reading>(client, new() { TableName = "t-1", Map = map }));

        Assert.Contains("Version", error.Message, StringComparison.Ordinal);
        Assert.Contains("Batch", error.Message, StringComparison.Ordinal);
    }

    internal static TimeWindow Minute(int i) => new(T0.AddMinutes(i), T0.AddMinutes(i + 1));

    internal static async Task<string> CreateTableAsync<T>(IAmazonDynamoDB client, DynamoDbItemMap<T> map)
    {
        string table = DynaliteServer.NewTableName("sink");
        await DynamoDbTestKit.CreateTableAsync(client, map.ToCreateTableRequest(table), Ct);
        return table;
    }
}
