using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.S3.IntegrationTests.Compaction;

/// <summary>
/// The compaction job on a local folder and on s3rver: small objects written by the sink (three hourly partitions, 40
/// rows per object) are merged into one object per partition; DuckDB reads the same rows before and after; a second run
/// changes nothing; a crash at each step of a merge, then a re-run, leaves every row exactly once.
/// </summary>
public sealed class ParquetCompactorTests(S3Fixture s3)
{
    private const string TablePrefix = "lake/processed/clicks/";
    private const string ManifestPrefix = "lake/processed/_compaction-manifests/clicks/";
    private const int Rows = 600;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> CrashPoints => ["output", "commit", "second-input-delete", "manifest-delete", "first-manifest"];

    [Fact]
    public async Task RunAsync_SmallObjectsOnLocalFolder_OneObjectPerPartitionSameRowsAndRerunChangesNothing()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        await WriteSmallObjectsAsync(store);
        var before = await ReadRowsAsync(root, await store.ListKeysAsync(TablePrefix, Ct));
        int objectsBefore = (await store.ListKeysAsync(TablePrefix, Ct)).Count;
        Assert.True(objectsBefore >= 15, $"only {objectsBefore} small objects were written");

        var result = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        var keys = await store.ListKeysAsync(TablePrefix, Ct);
        Assert.Equal(3, keys.Count);
        Assert.All(keys, k => Assert.Matches(@"/hour=1[0-2]/compacted-\d{8}T\d{6}Z-[0-9a-f]{32}\.parquet$", k));
        Assert.Equal(new CompactionResult(3, 3, objectsBefore, 3, objectsBefore, 3, Rows, result.BytesRead, result.BytesWritten, 0, 0), result);
        Assert.True(result.BytesWritten < result.BytesRead, $"merged {result.BytesRead} bytes into {result.BytesWritten}");
        Assert.Equal(before, await ReadRowsAsync(root, keys));
        Assert.Empty(await store.ListKeysAsync(ManifestPrefix, Ct));

        var again = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        Assert.Equal(new CompactionResult(3, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0), again);
        Assert.Equal(keys, await store.ListKeysAsync(TablePrefix, Ct));
        Assert.DoesNotContain(Directory.GetFiles(root, "*", SearchOption.AllDirectories), f => Path.GetFileName(f).StartsWith('.'));
    }

    [Fact]
    public async Task RunAsync_DeltaEncodedTimestampsDecimalsAndDates_MergedWithTheSameRows()
    {
        // Parquet.Net decodes DELTA_BINARY_PACKED only into plain integers: the compactor reads such columns as their
        // physical integers. Timestamps, a nullable INT64 decimal and a date, written with delta encoding.
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        var map = ParquetRecordMap.For<Click>()
            .Timestamp("ts", c => c.Time)
            .String("page", c => c.Page, nullable: false)
            .Int64("user_id", c => c.UserId)
            .Decimal("price", 18, 2, c => c.Price)
            .String("referrer", c => c.Referrer)
            .Date("day", c => DateOnly.FromDateTime(c.Time.UtcDateTime))
            .Build();
        await WriteAsync(store, new ParquetObjectFormat<Click>(map, new ParquetWriterOptions { EnableDeltaEncoding = true }), Clicks.Make(Rows, hours: 3), c => c.Time);
        var inputs = await store.ListKeysAsync(TablePrefix, Ct);
        var before = await ReadRowsAsync(root, inputs);
        string days = $"SELECT count(DISTINCT day)::VARCHAR FROM read_parquet([{string.Join(", ", inputs.Select(k => $"'{Path.Combine(root, k)}'"))}])";
        string? daysBefore = await s3.DuckDb.ScalarAsync(days);

        var result = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        var keys = await store.ListKeysAsync(TablePrefix, Ct);
        Assert.Equal((3, 0), (keys.Count, result.ObjectsSkipped));
        Assert.Equal(before, await ReadRowsAsync(root, keys));
        Assert.Equal(daysBefore, await s3.DuckDb.ScalarAsync($"SELECT count(DISTINCT day)::VARCHAR FROM read_parquet([{string.Join(", ", keys.Select(k => $"'{Path.Combine(root, k)}'"))}])"));
    }

    [Fact]
    public async Task RunAsync_SortBy_EachMergedObjectSortedWithTheSameRows()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        await WriteSmallObjectsAsync(store);
        var before = await ReadRowsAsync(root, await store.ListKeysAsync(TablePrefix, Ct));

        var result = await new ParquetCompactor(Options(store, o => { o.SortBy.Add("page"); o.SortBy.Add("user_id"); })).RunAsync(Ct);

        var keys = await store.ListKeysAsync(TablePrefix, Ct);
        Assert.Equal((3, 3, 0L), (keys.Count, result.ObjectsWritten, result.ObjectsSkipped));
        Assert.Equal(before, await ReadRowsAsync(root, keys));
        foreach (string key in keys)
        {
            // Rows out of (page, user_id) order in the file, by DuckDB's row numbers.
            string outOfOrder = $"SELECT count(*)::VARCHAR FROM (SELECT page, user_id, lag(page) OVER w AS p, lag(user_id) OVER w AS u FROM read_parquet('{Path.Combine(root, key)}', file_row_number = true) WINDOW w AS (ORDER BY file_row_number)) WHERE p > page OR (p = page AND u > user_id)";
            Assert.Equal("0", await s3.DuckDb.ScalarAsync(outOfOrder));
        }
    }

    [Fact]
    public async Task RunAsync_SortByAColumnNotInTheSchema_LeavesTheObjectsAlone()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        await WriteSmallObjectsAsync(store);
        int objects = (await store.ListKeysAsync(TablePrefix, Ct)).Count;

        var result = await new ParquetCompactor(Options(store, o => o.SortBy.Add("no_such_column"))).RunAsync(Ct);

        Assert.Equal((0L, (long)objects), (result.ObjectsWritten, result.ObjectsSkipped));
        Assert.Equal(objects, (await store.ListKeysAsync(TablePrefix, Ct)).Count);
        Assert.Empty(await store.ListKeysAsync(ManifestPrefix, Ct));
        Assert.Contains("SortBy", Assert.Throws<ArgumentException>(() => new ParquetCompactor(Options(store, o => { o.SortBy.Add("page"); o.SortBy.Add("page"); }))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SmallObjectsOnS3rver_OneObjectPerPartitionSameRowsAndRerunChangesNothing()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        await WriteSmallObjectsAsync(store);
        var before = await ReadRowsAsync(await s3.DownloadAsync(bucket), await s3.ListKeysAsync(bucket, TablePrefix));
        var sizes = await store.ListObjectsAsync(TablePrefix, Ct);
        Assert.All(sizes, o => Assert.True(o.Size > 0));

        var result = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        var keys = await s3.ListKeysAsync(bucket, TablePrefix);
        Assert.Equal(3, keys.Count);
        Assert.Equal(sizes.Count, result.ObjectsMerged);
        Assert.Equal(before, await ReadRowsAsync(await s3.DownloadAsync(bucket), keys));
        Assert.Empty(await s3.ListKeysAsync(bucket, ManifestPrefix));

        var again = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        Assert.Equal(0, again.ObjectsMerged);
        Assert.Equal(keys, await s3.ListKeysAsync(bucket, TablePrefix));
    }

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task RunAsync_CrashMidCompactionOnLocalFolderThenRerun_EveryRowExactlyOnce(string point)
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        await WriteSmallObjectsAsync(store);
        var before = await ReadRowsAsync(root, await store.ListKeysAsync(TablePrefix, Ct));

        var crashing = new CompactionCrashStore(store, point);
        await Assert.ThrowsAsync<SimulatedCrashException>(() => new ParquetCompactor(Options(crashing)).RunAsync(Ct));
        Assert.True(crashing.Crashed);

        // A manifest-aware reader sees every row once even now, before the re-run.
        var committed = await new ParquetCompactor(Options(store)).ListCommittedObjectsAsync(Ct);
        Assert.Equal(before, await ReadRowsAsync(root, committed));

        var result = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        Assert.Equal(point == "first-manifest" ? 0 : 1, result.InterruptedCompactionsRecovered);
        var keys = await store.ListKeysAsync(TablePrefix, Ct);
        Assert.Equal(3, keys.Count);
        Assert.Equal(before, await ReadRowsAsync(root, keys));
        Assert.Empty(await store.ListKeysAsync(ManifestPrefix, Ct));
        Assert.Equal(0, (await new ParquetCompactor(Options(store)).RunAsync(Ct)).ObjectsMerged);
    }

    [Fact]
    public async Task RunAsync_CrashAfterCommitOnS3rverThenRerun_EveryRowExactlyOnce()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        await WriteSmallObjectsAsync(store);
        var before = await ReadRowsAsync(await s3.DownloadAsync(bucket), await s3.ListKeysAsync(bucket, TablePrefix));

        var crashing = new CompactionCrashStore(store, "second-input-delete");
        await Assert.ThrowsAsync<SimulatedCrashException>(() => new ParquetCompactor(Options(crashing)).RunAsync(Ct));
        var committed = await new ParquetCompactor(Options(store)).ListCommittedObjectsAsync(Ct);
        Assert.Equal(before, await ReadRowsAsync(await s3.DownloadAsync(bucket), committed));

        var result = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        Assert.Equal(1, result.InterruptedCompactionsRecovered);
        var keys = await s3.ListKeysAsync(bucket, TablePrefix);
        Assert.Equal(3, keys.Count);
        Assert.Equal(before, await ReadRowsAsync(await s3.DownloadAsync(bucket), keys));
    }

    [Fact]
    public async Task RunAsync_ObjectsInUnsavedSinkEpoch_LeftAloneUntilCheckpointCompletes()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        await using var sink = new S3Sink<Click>(SinkOptions(store));
        await sink.RestoreAsync("clicks", 0, Ct);
        await sink.WriteAsync(Clicks.Make(Rows, hours: 3), Ct);
        await sink.FlushAsync(Ct);
        int objects = (await store.ListKeysAsync(TablePrefix, Ct)).Count;

        var early = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        Assert.Equal(0, early.ObjectsMerged);
        Assert.Equal(objects, early.ObjectsSkipped);

        await sink.CheckpointCompletedAsync(1, Ct);
        var late = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        Assert.Equal(objects, late.ObjectsMerged);
        Assert.Equal(3, (await store.ListKeysAsync(TablePrefix, Ct)).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_MergedObjectLargerThanPartSize_UploadedInPartsWithEveryRow(bool onS3rver)
    {
        string root = s3.CreateFolder();
        string? bucket = onS3rver ? await s3.CreateBucketAsync() : null;
        IObjectStore store = bucket is null ? new LocalFolderObjectStore(root) : new S3ObjectStore(s3.Client, bucket);
        var random = new Random(5);
        var blobs = Enumerable.Range(0, 3000).Select(i => new Blob(i, Clicks.Start.AddSeconds(i), Convert.ToBase64String(RandomBytes(random, 1500)))).ToArray();
        await using (var sink = new S3Sink<Blob>(new S3SinkOptions<Blob>
        {
            Store = store,
            Format = new ParquetObjectFormat<Blob>(BlobMap),
            Prefix = "lake/",
            Zone = DataLakeZone.Processed,
            TableName = "clicks",
            Layout = KeyLayout<Blob>.Hive(TimePartitioning.Hour, b => b.Time),
            MaxRecordsPerObject = 150,
        }))
        {
            await sink.WriteAsync(blobs, Ct);
            await sink.FlushAsync(Ct);
        }

        var result = await new ParquetCompactor(Options(store, o => o.PartSize = S3ObjectStore.MinimumPartSize)).RunAsync(Ct);

        Assert.Equal(20, result.ObjectsMerged);
        Assert.True(result.BytesWritten > S3ObjectStore.MinimumPartSize, $"the merged object has {result.BytesWritten} bytes, one part");
        string lake = bucket is null ? root : await s3.DownloadAsync(bucket);
        var keys = await store.ListKeysAsync(TablePrefix, Ct);
        Assert.Single(keys);
        var rows = await s3.DuckDb.QueryAsync($"SELECT id, payload FROM read_parquet('{Path.Combine(lake, keys[0])}') ORDER BY id");
        Assert.Equal(blobs.Select(b => $"{b.Id}|{b.Payload}"), rows.Select(r => $"{r["id"]}|{r["payload"]}"));
    }

    [Fact]
    public async Task RunAsync_TwoSchemasAndANestedColumnInOnePartition_MergesEachFlatSchemaAndLeavesTheNestedOnes()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        await WriteSmallObjectsAsync(store); // 15 objects of clicks in three hours
        var blobs = Enumerable.Range(0, 80).Select(i => new Blob(i, Clicks.Start.AddSeconds(i), "p" + i)).ToArray();
        await WriteAsync(store, new ParquetObjectFormat<Blob>(BlobMap), blobs, b => b.Time); // 2 objects of another schema in hour 10
        var tagged = ParquetRecordMap.For<Blob>().Int64("id", b => b.Id).List("tags", b => (IReadOnlyList<string>)[b.Payload]).Build();
        await WriteAsync(store, new ParquetObjectFormat<Blob>(tagged), blobs, b => b.Time); // 2 objects with a LIST column in hour 10

        var result = await new ParquetCompactor(Options(store)).RunAsync(Ct);

        Assert.Equal(17, result.ObjectsMerged);
        Assert.Equal(4, result.ObjectsWritten);
        Assert.Equal(2, result.ObjectsSkipped);
        var hour10 = await store.ListKeysAsync(TablePrefix + "year=2024/month=05/day=01/hour=10/", Ct);
        Assert.Equal(4, hour10.Count); // clicks merged, blobs merged, two nested objects as they were
        Assert.Equal(
            "80",
            await s3.DuckDb.ScalarAsync($"SELECT count(*) FROM read_parquet([{string.Join(", ", hour10.Select(k => $"'{Path.Combine(root, k)}'"))}], union_by_name = true) WHERE payload IS NOT NULL"));
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsWithTheOptionName()
    {
        var store = new LocalFolderObjectStore(s3.CreateFolder());
        Assert.Contains("TableName", Assert.Throws<ArgumentException>(() => new ParquetCompactor(new ParquetCompactorOptions { Store = store })).Message, StringComparison.Ordinal);
        Assert.Contains("TargetObjectBytes", Assert.Throws<ArgumentException>(() => new ParquetCompactor(Options(store, o => o.TargetObjectBytes = 10))).Message, StringComparison.Ordinal);
        Assert.Contains("MinObjectsToMerge", Assert.Throws<ArgumentException>(() => new ParquetCompactor(Options(store, o => o.MinObjectsToMerge = 1))).Message, StringComparison.Ordinal);
        Assert.Contains("FileNamePrefix", Assert.Throws<ArgumentException>(() => new ParquetCompactor(Options(store, o => o.FileNamePrefix = "_x"))).Message, StringComparison.Ordinal);
    }

    private static ParquetCompactorOptions Options(IObjectStore store, Action<ParquetCompactorOptions>? change = null)
    {
        var options = new ParquetCompactorOptions
        {
            Store = store,
            Prefix = "lake/",
            Zone = DataLakeZone.Processed,
            TableName = "clicks",
            Retry = new() { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1) },
        };
        change?.Invoke(options);
        return options;
    }

    private static S3SinkOptions<Click> SinkOptions(IObjectStore store) => new()
    {
        Store = store,
        Format = new ParquetObjectFormat<Click>(Clicks.Map),
        Prefix = "lake/",
        Zone = DataLakeZone.Processed,
        TableName = "clicks",
        Layout = KeyLayout<Click>.Hive(TimePartitioning.Hour, c => c.Time),
        MaxRecordsPerObject = 40,
    };

    private static readonly ParquetRecordMap<Blob> BlobMap = ParquetRecordMap.For<Blob>()
        .Int64("id", b => b.Id)
        .Timestamp("ts", b => b.Time)
        .String("payload", b => b.Payload, nullable: false)
        .Build();

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static async Task WriteAsync<T>(IObjectStore store, IObjectFormat<T> format, T[] records, Func<T, DateTimeOffset> time)
    {
        await using var sink = new S3Sink<T>(new S3SinkOptions<T>
        {
            Store = store,
            Format = format,
            Prefix = "lake/",
            Zone = DataLakeZone.Processed,
            TableName = "clicks",
            Layout = KeyLayout<T>.Hive(TimePartitioning.Hour, time),
            MaxRecordsPerObject = 40,
        });
        await sink.WriteAsync(records, Ct);
        await sink.FlushAsync(Ct);
    }

    /// <summary>600 clicks over three hours, 40 per object: 15 small objects in three partitions.</summary>
    private static async Task WriteSmallObjectsAsync(IObjectStore store)
    {
        await using var sink = new S3Sink<Click>(SinkOptions(store));
        await sink.WriteAsync(Clicks.Make(Rows, hours: 3), Ct);
        await sink.FlushAsync(Ct);
    }

    /// <summary>Every row of the given objects, as DuckDB reads them, in user-id order (user ids are unique).</summary>
    private async Task<List<string>> ReadRowsAsync(string root, IEnumerable<string> keys)
    {
        string files = string.Join(", ", keys.Select(k => $"'{Path.Combine(root, k)}'"));
        var rows = await s3.DuckDb.QueryAsync(
            $"SELECT epoch_us(ts) AS us, page, user_id, price::VARCHAR AS price, referrer FROM read_parquet([{files}], hive_partitioning = false) ORDER BY user_id");
        var result = rows.Select(r => $"{r["us"]}|{r["page"]}|{r["user_id"]}|{r["price"]}|{r["referrer"]}").ToList();
        Assert.Equal(Rows, result.Count);
        Assert.Equal(Rows, result.Select(r => r.Split('|')[2]).Distinct().Count());
        return result;
    }

    /// <summary>Crashes (as if the process died) at one step of the first merge; every later call fails too.</summary>
    private sealed class CompactionCrashStore(IObjectStore inner, string point) : ForwardingStore(inner)
    {
        private int _manifestPuts;
        private int _inputDeletes;
        private volatile bool _crashed;

        public bool Crashed => _crashed;

        public override bool IsTransient(Exception exception) => exception is not SimulatedCrashException && base.IsTransient(exception);

        protected override void BeforeCall(StoreCall call, string key)
        {
            if (_crashed)
            {
                throw new SimulatedCrashException();
            }

            bool manifest = key.StartsWith(ManifestPrefix, StringComparison.Ordinal);
            bool crash = point switch
            {
                "first-manifest" => call == StoreCall.Put && manifest,
                "output" => call == StoreCall.Put && key.Contains("/compacted-", StringComparison.Ordinal),
                "commit" => call == StoreCall.Put && manifest && ++_manifestPuts == 2,
                "second-input-delete" => call == StoreCall.Delete && key.StartsWith(TablePrefix, StringComparison.Ordinal) && ++_inputDeletes == 2,
                "manifest-delete" => call == StoreCall.Delete && manifest,
                _ => throw new ArgumentException(point),
            };
            if (crash)
            {
                _crashed = true;
                throw new SimulatedCrashException();
            }
        }
    }
}

/// <summary>A record with a large payload, for merged objects of several parts.</summary>
public sealed record Blob(long Id, DateTimeOffset Time, string Payload);
