using System.Text;
using System.Text.Json;
using Analytics.Streaming.Parquet;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>Sink behaviour against a local folder (fast): partitions, rolling, names, errors, failures.</summary>
public sealed class S3SinkTests(S3Fixture s3)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static S3SinkOptions<Click> JsonOptions(IObjectStore store, TimeProvider? clock = null) => new()
    {
        Store = store,
        Format = LineFormats.JsonLines(TestJson.Default.Click),
        TableName = "clicks",
        Prefix = "lake/",
        Zone = DataLakeZone.Processed,
        Layout = KeyLayout<Click>.Hive(TimePartitioning.Hour, c => c.Time),
        TimeProvider = clock ?? TimeProvider.System,
    };

    private static List<string> Files(string root) =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    private static List<Click> ReadJsonLines(string path) =>
        [.. File.ReadAllLines(path).Select(l => JsonSerializer.Deserialize(l, TestJson.Default.Click)!)];

    [Fact]
    public async Task WriteAsync_RecordsOverThreeHours_OneObjectPerHivePartitionWithAllRecords()
    {
        string root = s3.CreateFolder();
        var clicks = Clicks.Make(300, hours: 3);
        await using var sink = new S3Sink<Click>(JsonOptions(new LocalFolderObjectStore(root)));

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var files = Files(root);
        Assert.Equal(3, files.Count);
        Assert.All(files, f => Assert.Matches(@"^lake/processed/clicks/year=2024/month=05/day=01/hour=1[012]/part-\d{8}T\d{6}Z-[0-9a-f]{32}\.jsonl$", f));
        var read = files.SelectMany(f => ReadJsonLines(Path.Combine(root, f))).OrderBy(c => c.UserId).ToList();
        Assert.Equal(clicks, read);
        Assert.Equal(new S3SinkStatistics(3, 300, files.Sum(f => new FileInfo(Path.Combine(root, f)).Length), 0, 0, 0, 0, 0, 0), sink.Statistics);
    }

    [Fact]
    public async Task WriteAsync_DynamicPartitionFromField_KeysCarryEscapedFieldValues()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new LocalFolderObjectStore(root));
        options.Layout = KeyLayout<Click>.Hive(TimePartitioning.Day, c => c.Time).PartitionBy("page", c => c.Page);
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(Clicks.Make(100), Ct);
        await sink.FlushAsync(Ct);

        var folders = Files(root).Select(f => f[..f.LastIndexOf('/')]).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["cart", "checkout", "home", "product%2F42", "search"],
            folders.Select(f => f.Split('/')[3]["page=".Length..]));
        Assert.All(folders, f => Assert.EndsWith("/year=2024/month=05/day=01", f, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteAsync_MaxRecordsPerObject_RollsAtTheCount()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new LocalFolderObjectStore(root));
        options.MaxRecordsPerObject = 40;
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(Clicks.Make(100), Ct);
        Assert.Equal(2, Files(root).Count); // two full objects closed while writing, the rest still open
        await sink.FlushAsync(Ct);

        var counts = Files(root).Select(f => File.ReadAllLines(Path.Combine(root, f)).Length).Order().ToList();
        Assert.Equal([20, 40, 40], counts);
    }

    [Fact]
    public async Task WriteAsync_MaxObjectBytes_RollsNearTheSize()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new LocalFolderObjectStore(root));
        options.MaxObjectBytes = 4096;
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(Clicks.Make(500), Ct);
        await sink.FlushAsync(Ct);

        var sizes = Files(root).Select(f => new FileInfo(Path.Combine(root, f)).Length).ToList();
        Assert.True(sizes.Count > 5, $"expected several objects, got {sizes.Count}");
        Assert.All(sizes, size => Assert.InRange(size, 1, 4096 + 200)); // at most one record past the limit
    }

    [Fact]
    public async Task WriteAsync_ObjectOlderThanMaxAge_ClosedOnNextWrite()
    {
        string root = s3.CreateFolder();
        var clock = new FakeTimeProvider(Clicks.Start);
        var options = JsonOptions(new LocalFolderObjectStore(root), clock);
        options.MaxObjectAge = TimeSpan.FromMinutes(5);
        await using var sink = new S3Sink<Click>(options);
        var clicks = Clicks.Make(10);

        await sink.WriteAsync(clicks.AsMemory(0, 5), Ct);
        clock.Advance(TimeSpan.FromMinutes(4));
        await sink.WriteAsync(clicks.AsMemory(5, 1), Ct);
        Assert.Empty(Files(root));
        clock.Advance(TimeSpan.FromMinutes(1));
        await sink.WriteAsync(clicks.AsMemory(6, 4), Ct);

        var file = Assert.Single(Files(root));
        Assert.Equal(10, ReadJsonLines(Path.Combine(root, file)).Count);
        Assert.Equal(0, sink.Statistics.OpenObjects);
    }

    [Fact]
    public async Task WriteAsync_MoreOpenPartitionsThanAllowed_ClosesTheOldest()
    {
        string root = s3.CreateFolder();
        var clock = new FakeTimeProvider(Clicks.Start);
        var options = JsonOptions(new LocalFolderObjectStore(root), clock);
        options.MaxOpenObjects = 2;
        await using var sink = new S3Sink<Click>(options);
        var clicks = Clicks.Make(3, hours: 3);

        await sink.WriteAsync(clicks.AsMemory(0, 1), Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        await sink.WriteAsync(clicks.AsMemory(1, 1), Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        await sink.WriteAsync(clicks.AsMemory(2, 1), Ct);

        var file = Assert.Single(Files(root));
        Assert.Contains("/hour=10/", file, StringComparison.Ordinal);
        Assert.Equal(2, sink.Statistics.OpenObjects);
    }

    [Fact]
    public async Task WriteAsync_ObjectGrowsPastPartSize_PartsUploadedBeforeFlushAndObjectWhole()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new LocalFolderObjectStore(root));
        options.PartSize = S3ObjectStore.MinimumPartSize;
        options.Layout = KeyLayout<Click>.Unpartitioned();
        var clicks = Clicks.Make(40_000).Select(c => c with { Referrer = new string('r', 150) }).ToArray();
        await using var sink = new S3Sink<Click>(options);

        for (int i = 0; i < clicks.Length; i += 4000)
        {
            await sink.WriteAsync(clicks.AsMemory(i, 4000), Ct);
        }

        Assert.Equal(1, sink.Statistics.MultipartUploads);
        Assert.DoesNotContain(Files(root), f => !Path.GetFileName(f).StartsWith('.')); // only the hidden temporary file so far
        await sink.FlushAsync(Ct);

        string file = Assert.Single(Files(root));
        Assert.True(new FileInfo(Path.Combine(root, file)).Length > S3ObjectStore.MinimumPartSize);
        Assert.Equal(clicks, ReadJsonLines(Path.Combine(root, file)));
    }

    [Fact]
    public async Task FlushAsync_TwoRunsWithoutPipeline_SecondAddsNewNamesAndNoIntentLogs()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new LocalFolderObjectStore(root));
        var clicks = Clicks.Make(10);

        for (int run = 0; run < 2; run++)
        {
            await using var sink = new S3Sink<Click>(options);
            await sink.WriteAsync(clicks, Ct);
            await sink.FlushAsync(Ct);
            Assert.Null(sink.IntentLogPrefix);
        }

        var files = Files(root);
        Assert.Equal(2, files.Count);
        Assert.All(files, f => Assert.Matches(@"^lake/processed/clicks/year=2024/month=05/day=01/hour=10/part-\d{8}T\d{6}Z-[0-9a-f]{32}\.jsonl$", f));
    }

    [Fact]
    public async Task FlushAsync_NothingWritten_StoresNothing()
    {
        string root = s3.CreateFolder();
        await using var sink = new S3Sink<Click>(JsonOptions(new LocalFolderObjectStore(root)));

        await sink.FlushAsync(Ct);
        await sink.FlushAsync(Ct);

        Assert.Empty(Files(root));
    }

    [Fact]
    public async Task DisposeAsync_WithoutFlush_StoresNothing()
    {
        string root = s3.CreateFolder();
        await using (var sink = new S3Sink<Click>(JsonOptions(new LocalFolderObjectStore(root))))
        {
            await sink.WriteAsync(Clicks.Make(10), Ct);
        }

        Assert.Empty(Files(root));
    }

    [Fact]
    public async Task WriteAsync_ParquetValueDoesNotFit_RecordGoesToErrorPrefixWithReason()
    {
        string root = s3.CreateFolder();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 21, 22, 15, 0, TimeSpan.Zero));
        var options = JsonOptions(new LocalFolderObjectStore(root), clock);
        options.Format = new ParquetObjectFormat<Click>(Clicks.Map);
        var clicks = Clicks.Make(10);
        clicks[3] = clicks[3] with { Page = null };             // null in a REQUIRED column
        clicks[7] = clicks[7] with { Price = 1.234m };          // more fractional digits than scale 2
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var files = Files(root);
        Assert.Equal(2, files.Count);
        string error = Assert.Single(files, f => f.StartsWith("lake/processed/errors/clicks/format-conversion-failed/2026/11/21/22/part-", StringComparison.Ordinal));
        Assert.EndsWith(".json", error, StringComparison.Ordinal);
        var lines = File.ReadAllLines(Path.Combine(root, error)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Contains("'page'", lines[0].GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Contains("'price'", lines[1].GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal("InvalidValue", lines[0].GetProperty("errorCode").GetString());
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), lines[0].GetProperty("arrivalTimestamp").GetInt64());
        Assert.Equal(clicks[3].ToString(), Encoding.UTF8.GetString(lines[0].GetProperty("rawData").GetBytesFromBase64()));
        Assert.Equal(new S3SinkStatistics(1, 8, sink.Statistics.BytesWritten, 1, 2, 0, 0, 0, 0), sink.Statistics);
        var rows = await s3.DuckDb.ScalarAsync($"SELECT count(*) FROM read_parquet('{root}/lake/processed/clicks/**/*.parquet')");
        Assert.Equal("8", rows);
    }

    [Fact]
    public async Task WriteAsync_PartitionSelectorThrows_RecordGoesToErrorPrefix()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new LocalFolderObjectStore(root));
        options.Layout = KeyLayout<Click>.Hive(TimePartitioning.Day, c => c.Time).PartitionBy("page", c => c.Page!.ToUpperInvariant().ToLowerInvariant());
        var clicks = Clicks.Make(5);
        clicks[0] = clicks[0] with { Page = null };
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        string error = Assert.Single(Files(root), f => f.Contains("/errors/", StringComparison.Ordinal));
        var line = JsonDocument.Parse(File.ReadAllLines(Path.Combine(root, error)).Single()).RootElement;
        Assert.Equal("DynamicPartitioning.MetadataExtractionFailed", line.GetProperty("errorCode").GetString());
        Assert.Equal(4, sink.Statistics.RecordsWritten);
    }

    [Fact]
    public async Task FlushAsync_TransientStoreFailures_RetriedAndObjectWhole()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new FlakyStore(new LocalFolderObjectStore(root), failures: 2));
        options.Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) };
        var clicks = Clicks.Make(20);
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        Assert.Equal(2, sink.Statistics.Retries);
        Assert.Equal(clicks, ReadJsonLines(Path.Combine(root, Assert.Single(Files(root)))));
    }

    [Fact]
    public async Task FlushAsync_FailuresBeyondMaxAttempts_ThrowsThenSinkRefusesFurtherCalls()
    {
        string root = s3.CreateFolder();
        var options = JsonOptions(new FlakyStore(new LocalFolderObjectStore(root), failures: 10));
        options.Retry = new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) };
        await using var sink = new S3Sink<Click>(options);
        await sink.WriteAsync(Clicks.Make(5), Ct);

        await Assert.ThrowsAsync<IOException>(async () => await sink.FlushAsync(Ct));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await sink.WriteAsync(Clicks.Make(1), Ct));

        Assert.Contains("replay from the last checkpoint", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, sink.Statistics.Retries);
        Assert.Empty(Files(root));
    }

    [Fact]
    public async Task WriteAsync_RawRecordsGzipLines_RawZoneObjectHoldsEachPayloadOnALine()
    {
        string root = s3.CreateFolder();
        var records = Enumerable.Range(0, 50).Select(i => new RawRecord(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), "pk", Clicks.Start.AddSeconds(i))).ToArray();
        await using var sink = new S3Sink<RawRecord>(new S3SinkOptions<RawRecord>
        {
            Store = new LocalFolderObjectStore(root),
            Format = LineFormats.RawLines(gzip: true),
            TableName = "clicks_raw",
            Zone = DataLakeZone.Raw,
            Layout = KeyLayout<RawRecord>.FirehoseDefault(r => r.ArrivalTime!.Value),
        });

        await sink.WriteAsync(records, Ct);
        await sink.FlushAsync(Ct);

        string file = Assert.Single(Files(root));
        Assert.Matches(@"^raw/clicks_raw/2024/05/01/10/part-\d{8}T\d{6}Z-[0-9a-f]{32}\.jsonl\.gz$", file);
        var sum = await s3.DuckDb.ScalarAsync($"SELECT sum(n) FROM read_json('{Path.Combine(root, file)}', format='newline_delimited')");
        Assert.Equal(Enumerable.Range(0, 50).Sum().ToString(System.Globalization.CultureInfo.InvariantCulture), sum);
    }

    public static TheoryData<string, Action<S3SinkOptions<Click>>> InvalidOptions => new()
    {
        { "TableName", o => o.TableName = "Clicks" },
        { "Prefix", o => o.Prefix = "lake" },
        { "PartSize", o => o.PartSize = 1024 },
        { "MaxObjectBytes", o => o.MaxObjectBytes = 10 },
        { "MaxRecordsPerObject", o => o.MaxRecordsPerObject = 0 },
        { "MaxObjectAge", o => o.MaxObjectAge = TimeSpan.Zero },
        { "FileNamePrefix", o => o.FileNamePrefix = "_hidden" },
        { "ErrorPrefix", o => o.ErrorPrefix = "lake/processed/clicks/errors/" },
        { "MaxAttempts", o => o.Retry.MaxAttempts = 0 },
        { "Store", o => o.Store = null },
        { "WriterId", o => o.WriterId = " " },
        { "Prefix", o => o.Prefix = new string('p', 1000) + "/" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Constructor_InvalidOption_MessageNamesTheOption(string option, Action<S3SinkOptions<Click>> breakIt)
    {
        var options = JsonOptions(new LocalFolderObjectStore(s3.CreateFolder()));
        breakIt(options);

        var error = Assert.ThrowsAny<ArgumentException>(() => new S3Sink<Click>(options));

        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }
}
