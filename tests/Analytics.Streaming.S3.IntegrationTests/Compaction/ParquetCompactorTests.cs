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
