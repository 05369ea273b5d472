using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Analytics.Streaming.OpenSearch.Tests.Server;
using static Analytics.Streaming.OpenSearch.Tests.Support;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>The sink against the loopback stand-in of a cluster: documents, identities, versions, retries, dead letters.</summary>
public sealed class OpenSearchSinkTests(OpenSearchTestServer server)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Write_Results_OneDocumentPerIdentityWithItsFields()
    {
        var (cluster, endpoint) = server.Cluster();
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint));
        await sink.WriteAsync(new[] { Result("/home", 0, 3), Result("/cart", 0, 2), Result("/home", 1, 5) }, Token);
        Assert.Empty(cluster.Requests);
        await sink.FlushAsync(Token);

        var documents = cluster.Documents("views-*");
        Assert.Equal(3, documents.Count);
        Assert.All(documents, d => Assert.Equal("views-2026.01.31", d.Index));
        var home = documents.Single(d => d.Id == Result("/home", 1, 5).Id);
        Assert.Equal(5, home.Version);
        var json = home.Json;
        Assert.Equal("page-views", json.GetProperty("pipeline").GetString());
        Assert.Equal("/home", json.GetProperty("key").GetString());
        Assert.Equal("2026-01-31T00:01:00.000Z", json.GetProperty("window_start").GetString());
        Assert.Equal("2026-01-31T00:02:00.000Z", json.GetProperty("window_end").GetString());
        Assert.Equal("closed", json.GetProperty("reason").GetString());
        Assert.Equal(5, json.GetProperty("record_count").GetInt64());
        Assert.Equal(5, json.GetProperty("views").GetInt64());
        Assert.Equal(7.5, json.GetProperty("seconds").GetDouble());
        Assert.False(json.TryGetProperty("partition", out _));

        var request = Assert.Single(cluster.Requests);
        Assert.Equal("/_bulk", request.Path);
        Assert.Equal(3, request.Actions);
        Assert.Equal("application/x-ndjson", request.ContentType);
        Assert.Equal(new OpenSearchSinkStatistics(3, 0, 0, 0, 1, request.BodyLength, 0), sink.Statistics);

        // Read back over HTTP, as a dashboard would.
        using var http = new HttpClient();
        var byId = await http.GetFromJsonAsync<JsonElement>(new Uri(endpoint, $"views-2026.01.31/_doc/{Uri.EscapeDataString(home.Id)}"), Token);
        Assert.True(byId.GetProperty("found").GetBoolean());
        Assert.Equal(5, byId.GetProperty("_version").GetInt64());
        using var search = await http.PostAsync(new Uri(endpoint, "views-*/_search"), JsonContent.Create(new { size = 100, query = new { match_all = new { } } }), Token);
        var hits = (await search.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("hits");
        Assert.Equal(3, hits.GetProperty("total").GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task Write_ReplayAndOlderVersions_KeepOneDocumentWithTheNewestValue()
    {
        var (cluster, endpoint) = server.Cluster();
        await using (var first = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint)))
        {
            await first.WriteAsync(new[] { Result("/a", 0, 1), Result("/a", 0, 4, EmitReason.LateUpdate) }, Token);
            await first.FlushAsync(Token);
        }

        // A restarted run replays from its checkpoint: the earlier, smaller version first, then the same final one.
        await using var replay = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint));
        await replay.WriteAsync(new[] { Result("/a", 0, 1), Result("/a", 0, 2), Result("/a", 0, 4, EmitReason.LateUpdate) }, Token);
        await replay.FlushAsync(Token);

        var document = Assert.Single(cluster.Documents());
        Assert.Equal(4, document.Version);
        Assert.Equal(4, document.Json.GetProperty("views").GetInt64());
        Assert.Equal("late_update", document.Json.GetProperty("reason").GetString());
        Assert.Equal(2, replay.Statistics.StaleWrites);
        Assert.Equal(1, replay.Statistics.DocumentsWritten);
    }

    [Fact]
    public async Task Write_ExternalVersionType_SameVersionIsStale()
    {
        var (cluster, endpoint) = server.Cluster();
        var options = ResultOptions(endpoint);
        options.VersionType = OpenSearchVersionType.External;
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(options);
        await sink.WriteAsync(new[] { Result("/a", 0, 2), Result("/a", 0, 2), Result("/a", 0, 3) }, Token);
        await sink.FlushAsync(Token);
        Assert.Equal(3, Assert.Single(cluster.Documents()).Version);
        Assert.Equal(1, sink.Statistics.StaleWrites);
    }

    [Fact]
    public async Task Write_ItemsAnswered429And503_AreSentAgainUntilStored()
    {
        var (cluster, endpoint) = server.Cluster();
        cluster.FailItems(id => id.Contains("/b|", StringComparison.Ordinal), 429, "es_rejected_execution_exception", "rejected execution", count: 2);
        cluster.FailItems(id => id.Contains("/c|", StringComparison.Ordinal), 503, "unavailable_shards_exception", "primary shard is not active", count: 1);
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint));
        await sink.WriteAsync(new[] { Result("/a", 0, 1), Result("/b", 0, 1), Result("/c", 0, 1) }, Token);
        await sink.FlushAsync(Token);

        Assert.Equal(3, cluster.Documents().Count);
        Assert.Equal([3, 2, 1], cluster.Requests.Select(r => r.Actions));
        Assert.Equal(3, sink.Statistics.Retries);
    }

    [Fact]
    public async Task Flush_WholeRequestThrottled_BacksOffAndResendsEverything()
    {
        var (cluster, endpoint) = server.Cluster();
        cluster.RejectRequests(2, 429);
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint));
        await sink.WriteAsync(new[] { Result("/a", 0, 1), Result("/b", 0, 1) }, Token);
        await sink.FlushAsync(Token);
        Assert.Equal(2, cluster.Documents().Count);
        Assert.Equal(3, cluster.Requests.Count);
        Assert.All(cluster.Requests, r => Assert.Equal(2, r.Actions));
    }

    [Fact]
    public async Task Flush_ItemsThatKeepFailing_ThrowAfterTheBoundedAttempts()
    {
        var (cluster, endpoint) = server.Cluster();
        cluster.FailItems(id => id.Contains("/b|", StringComparison.Ordinal), 429, "es_rejected_execution_exception", "rejected execution");
        var options = ResultOptions(endpoint);
        options.Retry = FastRetry(attempts: 4);
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(options);
        await sink.WriteAsync(new[] { Result("/a", 0, 1), Result("/b", 0, 1) }, Token);
        var failure = await Assert.ThrowsAsync<OpenSearchDeliveryException>(async () => await sink.FlushAsync(Token));
        Assert.Equal(1, failure.FailedActions);
        Assert.Equal(429, failure.StatusCode);
        Assert.Contains("4 attempts", failure.Message, StringComparison.Ordinal);
        Assert.Equal([2, 1, 1, 1], cluster.Requests.Select(r => r.Actions));
        Assert.Single(cluster.Documents());

        // The sink dropped what it held: it refuses further calls, and the pipeline replays into a new one.
        var unusable = await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.WriteAsync(new[] { Result("/c", 0, 1) }, Token));
        Assert.Same(failure, unusable.InnerException);
    }

    [Fact]
    public async Task Flush_RequestsThatKeepBeingThrottled_ThrowAfterTheBoundedAttempts()
    {
        var (cluster, endpoint) = server.Cluster();
        cluster.RejectRequests(100, 503);
        var options = ResultOptions(endpoint);
        options.Retry = FastRetry(attempts: 3);
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(options);
        await sink.WriteAsync(new[] { Result("/a", 0, 1) }, Token);
        var failure = await Assert.ThrowsAsync<OpenSearchDeliveryException>(async () => await sink.FlushAsync(Token));
        Assert.Equal(503, failure.StatusCode);
        Assert.Equal(3, cluster.Requests.Count);
    }

    [Fact]
    public async Task Flush_MappingErrors_GoToTheDeadLettersWithTheServersReason()
    {
        var (cluster, endpoint) = server.Cluster();
        var deadLetters = new DeadLetterCollector();
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint, deadLetters: deadLetters));
        // The key field is mapped as long: a text key cannot be indexed (400 mapper_parsing_exception).
        await sink.PutIndexTemplateAsync("views", Encoding.UTF8.GetBytes("""{"index_patterns":["views-*"],"template":{"mappings":{"properties":{"key":{"type":"long"}}}}}"""), Token);
        await sink.WriteAsync(new[] { Result("17", 0, 2), Result("/home", 0, 3), Result("18", 1, 1) }, Token);
        await sink.FlushAsync(Token);

        Assert.Equal(["17", "18"], cluster.Documents().Select(d => d.Json.GetProperty("key").GetString()));
        var letter = Assert.Single(deadLetters.Flushed);
        Assert.Equal(DeadLetterReason.Rejected, letter.Reason);
        Assert.Equal(Result("/home", 0, 3).Id, letter.Position.PartitionId);
        Assert.Equal(3, letter.Position.Sequence.ToInt64());
        Assert.Contains("400 mapper_parsing_exception", letter.Message, StringComparison.Ordinal);
        Assert.Contains("failed to parse field [key] of type [long]", letter.Message, StringComparison.Ordinal);
        using var payload = JsonDocument.Parse(letter.Payload);
        Assert.Equal("/home", payload.RootElement.GetProperty("key").GetString());
        Assert.Equal(1, sink.Statistics.DocumentsRejected);
        Assert.Single(cluster.Requests, r => r.Path == "/_bulk");
    }

    [Fact]
    public async Task Write_ValuesJsonCannotCarry_GoToTheDeadLettersAndTheRestIsDelivered()
    {
        var (cluster, endpoint) = server.Cluster();
        var deadLetters = new DeadLetterCollector();
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint, deadLetters: deadLetters));
        var bad = Result("/nan", 0, 1) with { Value = new Views(1, double.NaN) };
        await sink.WriteAsync(new[] { Result("/a", 0, 1), bad, Result("/b", 0, 1) }, Token);
        await sink.FlushAsync(Token);
        Assert.Equal(2, cluster.Documents().Count);
        var letter = Assert.Single(deadLetters.Flushed);
        Assert.Equal(DeadLetterReason.InvalidValue, letter.Reason);
        Assert.Contains("'seconds'", letter.Message, StringComparison.Ordinal);
        Assert.Contains("NaN", letter.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_BulksAreCutByActionCountAndBytes()
    {
        var (cluster, endpoint) = server.Cluster();
        var options = ResultOptions(endpoint);
        options.MaxBulkActions = 10;
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(options))
        {
            await sink.WriteAsync(Enumerable.Range(0, 35).Select(i => Result("/p" + i, 0, 1)).ToArray(), Token);
            await sink.FlushAsync(Token);
        }

        Assert.Equal([10, 10, 10, 5], cluster.Requests.Select(r => r.Actions));

        var (bytesCluster, bytesEndpoint) = server.Cluster();
        var byBytes = ResultOptions(bytesEndpoint);
        byBytes.MaxBulkBytes = 2048;
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(byBytes))
        {
            for (int i = 0; i < 50; i++)
            {
                await sink.WriteAsync(new[] { Result("/page-" + i, i % 3, i + 1) }, Token);
            }

            await sink.FlushAsync(Token);
        }

        Assert.True(bytesCluster.Requests.Count > 5);
        Assert.All(bytesCluster.Requests, r => Assert.InRange(r.BodyLength, 1, 2048));
        Assert.Equal(50, bytesCluster.Requests.Sum(r => r.Actions));
        Assert.Equal(50, bytesCluster.Documents().Count);
    }

    [Fact]
    public async Task Index_DailyAndMonthlyNames_FollowTheWindowStartInUtc()
    {
        var (cluster, endpoint) = server.Cluster();
        var monthly = OpenSearchSinkOptions.ForResults(endpoint, "monthly-", ResultMap, OpenSearchIndexInterval.Monthly);
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(monthly))
        {
            var lateNight = Result("/a", 0, 1) with { Window = new TimeWindow(new DateTimeOffset(2026, 2, 28, 23, 59, 0, TimeSpan.FromHours(-5)), new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.FromHours(-5))) };
            await sink.WriteAsync(new[] { Result("/a", 0, 1), lateNight }, Token);
            await sink.FlushAsync(Token);
        }

        var daily = OpenSearchSinkOptions.ForResults(endpoint, "daily-", ResultMap);
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(daily))
        {
            await sink.WriteAsync(new[] { Result("/a", 0, 1), Result("/a", 24 * 60, 1), Result("/a", (24 * 60) + 5, 1) }, Token);
            await sink.FlushAsync(Token);
        }

        Assert.Equal(["daily-2026.01.31", "daily-2026.02.01", "monthly-2026.01", "monthly-2026.03"], cluster.IndexNames());
        Assert.Throws<ArgumentException>(() => OpenSearchIndex.Fixed<int>("Upper"));
        Assert.Throws<ArgumentException>(() => OpenSearchIndex.Daily<int>("bad name-", _ => Day));
        Assert.Equal("views-*", OpenSearchIndex.ForResults<string, Views>("views-").Pattern);
    }

    [Fact]
    public async Task IndexTemplate_FromTheMap_KeywordKeysDateWindowsNumericValues()
    {
        var (cluster, endpoint) = server.Cluster();
        byte[] template = OpenSearchIndexTemplate.Create(ResultMap, ["views-*"], new OpenSearchIndexTemplateOptions { NumberOfShards = 1, NumberOfReplicas = 1, StrictMapping = true });
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint));
        await sink.PutIndexTemplateAsync("views", template, Token);

        using var http = new HttpClient();
        var stored = await http.GetFromJsonAsync<JsonElement>(new Uri(endpoint, "_index_template/views"), Token);
        var body = stored.GetProperty("index_templates")[0].GetProperty("index_template");
        Assert.Equal("views-*", body.GetProperty("index_patterns")[0].GetString());
        var mappings = body.GetProperty("template").GetProperty("mappings");
        Assert.Equal("strict", mappings.GetProperty("dynamic").GetString());
        var types = mappings.GetProperty("properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("type").GetString());
        Assert.Equal("keyword", types["key"]);
        Assert.Equal("keyword", types["pipeline"]);
        Assert.Equal("date", types["window_start"]);
        Assert.Equal("date", types["window_end"]);
        Assert.Equal("long", types["record_count"]);
        Assert.Equal("long", types["views"]);
        Assert.Equal("double", types["seconds"]);

        // Documents of the map fit the strict mapping.
        await sink.WriteAsync(new[] { Result("/a", 0, 1) }, Token);
        await sink.FlushAsync(Token);
        Assert.Single(cluster.Documents());
        Assert.Equal(0, sink.Statistics.DocumentsRejected);
    }

    [Fact]
    public async Task DataStream_RecentEvents_CreateOnlyAndReplaysAreAlreadyThere()
    {
        var (cluster, endpoint) = server.Cluster();
        var map = OpenSearchDocumentMap.For<(RawRecord Record, StreamPosition Position)>()
            .Date("@timestamp", static e => e.Record.ArrivalTime ?? DateTimeOffset.UnixEpoch)
            .Keyword("partition_key", static e => e.Record.PartitionKey)
            .Json("event", static e => e.Record.Data)
            .Build();
        var options = new OpenSearchSinkOptions<(RawRecord Record, StreamPosition Position)>
        {
            Endpoint = endpoint,
            Document = map,
            Index = OpenSearchIndex.Fixed<(RawRecord, StreamPosition)>("recent-events"),
            Id = static e => e.Position.ToString(),
            OpType = OpenSearchOpType.Create,
            Retry = FastRetry(),
        };
        await using var sink = new OpenSearchSink<(RawRecord Record, StreamPosition Position)>(options);
        await sink.PutIndexTemplateAsync("recent", OpenSearchIndexTemplate.Create(map, ["recent-events*"], new OpenSearchIndexTemplateOptions { DataStream = true }), Token);
        var events = Enumerable.Range(1, 4).Select(i => (
            new RawRecord(Encoding.UTF8.GetBytes($"{{\n  \"page\": \"/p{i}\",\n  \"n\": {i}\n}}"), "user-" + i, Day.AddSeconds(i)),
            new StreamPosition("shardId-000000000001", SequenceNumber.FromInt64(100 + i)))).ToArray();
        await sink.WriteAsync(events, Token);
        await sink.FlushAsync(Token);
        await sink.WriteAsync(events, Token); // the replay after a restart
        await sink.FlushAsync(Token);

        var documents = cluster.Documents("recent-events");
        Assert.Equal(4, documents.Count);
        Assert.Equal("shardId-000000000001/101", documents[0].Id);
        Assert.Equal("/p1", documents[0].Json.GetProperty("event").GetProperty("page").GetString());
        Assert.Equal(4, sink.Statistics.StaleWrites);
        Assert.Throws<ArgumentException>(() => new OpenSearchSink<(RawRecord, StreamPosition)>(new OpenSearchSinkOptions<(RawRecord, StreamPosition)>
        {
            Endpoint = endpoint,
            Document = map,
            Index = options.Index,
            Id = options.Id,
            OpType = OpenSearchOpType.Create,
            Version = static _ => 1,
        }));
    }

    [Fact]
    public async Task DataStream_IndexActions_AreRefusedAsTheRealClusterDoes()
    {
        var (cluster, endpoint) = server.Cluster();
        var deadLetters = new DeadLetterCollector();
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint, "stream-", deadLetters));
        await sink.PutIndexTemplateAsync("stream", Encoding.UTF8.GetBytes("""{"index_patterns":["stream-*"],"data_stream":{}}"""), Token);
        await sink.WriteAsync(new[] { Result("/a", 0, 1) }, Token);
        await sink.FlushAsync(Token);
        Assert.Empty(cluster.Documents());
        Assert.Contains("only write ops with an op_type of create", Assert.Single(deadLetters.Flushed).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("basic")]
    [InlineData("apikey")]
    public async Task Authentication_BasicAndApiKey_AreSentAndAWrongOneFailsAtOnce(string kind)
    {
        var (cluster, endpoint) = server.Cluster();
        var (right, header) = kind == "basic"
            ? (OpenSearchAuthentication.Basic("writer", "s3cret"), "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("writer:s3cret")))
            : (OpenSearchAuthentication.ApiKey("key-id", "key-secret"), "ApiKey " + Convert.ToBase64String(Encoding.UTF8.GetBytes("key-id:key-secret")));
        cluster.RequiredAuthorization = header;
        var options = ResultOptions(endpoint);
        options.Authentication = right;
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(options))
        {
            await sink.WriteAsync(new[] { Result("/a", 0, 1) }, Token);
            await sink.FlushAsync(Token);
        }

        Assert.Single(cluster.Documents());
        var wrong = ResultOptions(endpoint);
        wrong.Authentication = OpenSearchAuthentication.Basic("writer", "wrong");
        await using var denied = new OpenSearchSink<WindowResult<string, Views>>(wrong);
        await denied.WriteAsync(new[] { Result("/b", 0, 1) }, Token);
        var failure = await Assert.ThrowsAsync<OpenSearchException>(async () => await denied.FlushAsync(Token));
        Assert.Equal(401, failure.StatusCode);
        Assert.Equal("security_exception", failure.ErrorType);
        Assert.Equal(2, cluster.Requests.Count); // not retried
    }

    [Fact]
    public async Task Id_LongerThan512Bytes_IsReplacedByItsHash()
    {
        var (cluster, endpoint) = server.Cluster();
        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(ResultOptions(endpoint));
        string key = new('k', 600);
        await sink.WriteAsync(new[] { Result(key, 0, 1), Result(key, 0, 2) }, Token);
        await sink.FlushAsync(Token);
        var document = Assert.Single(cluster.Documents());
        Assert.StartsWith("sha256:", document.Id, StringComparison.Ordinal);
        Assert.Equal(71, document.Id.Length);
        Assert.Equal(2, document.Version);
    }

    [Fact]
    public void Options_Validate_NamesWhatIsMissing()
    {
        var options = new OpenSearchSinkOptions<int> { Endpoint = new Uri("http://127.0.0.1:9200/") };
        Assert.Contains("Document", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        options.Endpoint = new Uri("ftp://x/");
        Assert.Contains("Endpoint", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        var valid = ResultOptions(new Uri("http://127.0.0.1:9200/"));
        valid.MaxBulkActions = 0;
        Assert.Contains("MaxBulkActions", Assert.Throws<ArgumentException>(valid.Validate).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteAsync_MergedSessionThatCannotBeWritten_KeepsTheSessionItSupersedes(bool supersedesThrows)
    {
        var (cluster, endpoint) = server.Cluster();
        var deadLetters = new DeadLetterCollector();
        var options = Support.ResultOptions(endpoint, deadLetters: deadLetters);
        var start = Support.Day.AddHours(10);
        var first = new WindowResult<string, Views>("page-views", "/home", new TimeWindow(start, start.AddSeconds(10)), new Views(3, 4.5)) { RecordCount = 3 };
        var merged = new WindowResult<string, Views>("page-views", "/home", new TimeWindow(start, start.AddSeconds(20)), new Views(6, supersedesThrows ? 9 : double.NaN), EmitReason.LateUpdate, [first.Window]) { RecordCount = 6 };
        if (supersedesThrows)
        {
            var supersedes = options.Supersedes!;
            options.Supersedes = r => r.RecordCount == 6 ? throw new InvalidOperationException("no extents") : supersedes(r);
        }

        await using var sink = new OpenSearchSink<WindowResult<string, Views>>(options);
        await sink.WriteAsync(new[] { first }, Token);
        await sink.FlushAsync(Token);
        await sink.WriteAsync(new[] { merged }, Token);
        await sink.FlushAsync(Token);

        // The merged session is a dead letter, and nothing of it was sent: the session it supersedes stays.
        Assert.Equal(first.Id, Assert.Single(cluster.Documents("views-*")).Id);
        Assert.Equal(DeadLetterReason.InvalidValue, Assert.Single(deadLetters.Flushed).Reason);
    }
}
