using System.Globalization;
using Analytics.Streaming.S3;
using Analytics.Streaming.S3.IntegrationTests;
using Analytics.Streaming.Samples.DataLake;
using Analytics.Streaming.Scoring;

namespace Analytics.Streaming.Samples.Tests.DataLake;

/// <summary>
/// One run of the data-lake sample on its embedded defaults (local folder, in-process streams) over generated files of
/// 100,000 rows each, without its final compaction; the tests check it against a brute-force pass over the CSV lines
/// (plain string splitting, no Sep, no pipelines), read every zone with DuckDB, then compact.
/// </summary>
public sealed class DataLakeRunFixture : IAsyncLifetime
{
    public const int Rows = 100_000;

    public string Work { get; } = Path.Combine(Path.GetTempPath(), "datalake-tests-" + Guid.NewGuid().ToString("N"));

    public DataLakeResult Result { get; private set; } = null!;

    public string Output { get; private set; } = string.Empty;

    public DuckDbQuery DuckDb { get; private set; } = null!;

    public string Lake => Path.Combine(Work, "lake", "lake");

    public async ValueTask InitializeAsync()
    {
        var duck = DuckDbQuery.StartAsync();
        using var output = new StringWriter();
        Result = await DataLakeApp.RunAsync(new DataLakeOptions(Work, Rows, Compact: false), output, TimeProvider.System, CancellationToken.None);
        Output = output.ToString();
        DuckDb = await duck;
    }

    public async ValueTask DisposeAsync()
    {
        if (DuckDb is not null)
        {
            await DuckDb.DisposeAsync();
        }

        try
        {
            Directory.Delete(Work, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class DataLakeAppTests(DataLakeRunFixture run) : IClassFixture<DataLakeRunFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void RunAsync_EmbeddedDefaults_ReadsEveryRowAndReportsBadRowsWithLineNumbers()
    {
        Assert.Equal(DataLakeRunFixture.Rows, run.Result.SensorRows);
        Assert.Equal(DataLakeRunFixture.Rows, run.Result.PurchaseRows);
        var expected = BruteForce.SensorRows(run.Work).Where(r => r.Reading is null).Select(r => ("sensor_readings.csv", r.Line))
            .Concat(BruteForce.PurchaseRows(run.Work).Where(r => r.Purchase is null).Select(r => ("customer_purchases.csv", r.Line)))
            .ToHashSet();
        Assert.InRange(expected.Count, 500, 1500); // 0.5% of 200,000 generated rows
        Assert.Equal(expected, run.Result.Rejected.Select(r => (r.File, r.Line)).ToHashSet());
        Assert.All(run.Result.Rejected, r => Assert.False(string.IsNullOrWhiteSpace(r.Reason)));
        Assert.Contains("sensor_readings.csv line ", run.Output, StringComparison.Ordinal);
        Assert.Contains("Run summary", run.Output, StringComparison.Ordinal);
        Assert.Contains("CREATE EXTERNAL TABLE IF NOT EXISTS `datalake`.`sensor_readings`", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_AlertsAndHighValueShare_EqualBruteForceOverTheCsv()
    {
        var scorer = new MaintenancePriorityScorer();
        double high = new MaintenancePriorityOptions().HighThreshold;
        var baselines = new Dictionary<string, MachineBaseline>(StringComparer.Ordinal);
        var hours = new Dictionary<(string, DateTimeOffset), double>();
        foreach (var r in BruteForce.SensorRows(run.Work).Where(r => r.Reading is not null).Select(r => r.Reading!))
        {
            var baseline = baselines.GetValueOrDefault(r.MachineId);
            var p = scorer.Score(new MachineReading(r.Temperature, r.Vibration, r.Pressure, r.Humidity, r.EnergyConsumption, AnomalyFlag: r.AnomalyFlag ? 1 : 0, RemainingLifeHours: r.PredictedRemainingLife, DowntimeRisk: r.DowntimeRisk), ref baseline);
            baselines[r.MachineId] = baseline;
            var hour = new DateTimeOffset(r.Timestamp.UtcTicks - (r.Timestamp.UtcTicks % TimeSpan.TicksPerHour), TimeSpan.Zero);
            hours[(r.MachineId, hour)] = Math.Max(hours.GetValueOrDefault((r.MachineId, hour)), p.Score);
        }

        Assert.Equal(hours.Count, run.Result.MachineHours);
        Assert.Equal(hours.Values.Count(v => v >= high), run.Result.Alerts);
        Assert.True(run.Result.Alerts > 0);

        var customers = new Dictionary<string, (long N, double Spend, double Ratings, double Returns, DateTimeOffset First, DateTimeOffset Last)>(StringComparer.Ordinal);
        foreach (var p in BruteForce.PurchaseRows(run.Work).Where(r => r.Purchase is not null).Select(r => r.Purchase!))
        {
            var c = customers.TryGetValue(p.CustomerId, out var found) ? found : (0, 0, 0, 0, p.Timestamp, p.Timestamp);
            customers[p.CustomerId] = (c.N + 1, c.Spend + p.PurchaseAmount, c.Ratings + p.ProductRating, p.ReturnRate, p.Timestamp < c.First ? p.Timestamp : c.First, p.Timestamp > c.Last ? p.Timestamp : c.Last);
        }

        var end = customers.Values.Max(c => c.Last);
        var valueScorer = new CustomerValueScorer();
        var ranked = customers
            .Select(kv => (Id: kv.Key, kv.Value.Spend, Value: valueScorer.Score(new CustomerActivity((end - kv.Value.Last).TotalDays, kv.Value.N, kv.Value.Spend, kv.Value.Ratings / kv.Value.N, (kv.Value.Last - kv.Value.First).TotalDays, kv.Value.Returns))))
            .OrderByDescending(c => c.Value).ThenBy(c => c.Id, StringComparer.Ordinal)
            .ToList();
        int top = (int)Math.Ceiling(ranked.Count * 0.08);
        Assert.Equal(ranked.Count, run.Result.Customers);
        Assert.Equal(top, run.Result.HighValueCustomers);
        Assert.Equal(ranked.Take(top).Sum(c => c.Spend) / ranked.Sum(c => c.Spend), run.Result.HighValueShare, 9);
    }

    [Fact]
    public async Task RunAsync_EveryZone_DuckDbReadsTheRows()
    {
        long sensors = BruteForce.SensorRows(run.Work).Count(r => r.Reading is not null);
        long purchases = BruteForce.PurchaseRows(run.Work).Count(r => r.Purchase is not null);
        var expected = new Dictionary<string, long>
        {
            ["raw/sensor_readings"] = sensors,
            ["raw/customer_purchases"] = purchases,
            ["processed/machine_priority"] = sensors,
            ["analytics/machine_hours"] = run.Result.MachineHours,
            ["analytics/customer_value"] = run.Result.Customers,
            ["analytics/daily_summary"] = run.Result.Days,
        };
        foreach (var (table, count) in expected)
        {
            Assert.Equal(count.ToString(CultureInfo.InvariantCulture), await run.DuckDb.ScalarAsync($"SELECT count(*) FROM read_parquet('{run.Lake}/{table}/**/*.parquet', hive_partitioning = true)"));
        }

        Assert.Equal(
            run.Result.HighValueCustomers.ToString(CultureInfo.InvariantCulture),
            await run.DuckDb.ScalarAsync($"SELECT count(*) FROM read_parquet('{run.Lake}/analytics/customer_value/**/*.parquet') WHERE segment = 'high-value'"));
        Assert.Equal(
            run.Result.Alerts.ToString(CultureInfo.InvariantCulture),
            await run.DuckDb.ScalarAsync($"SELECT count(*) FROM read_parquet('{run.Lake}/analytics/machine_hours/**/*.parquet') WHERE max_priority >= 0.5"));
    }

    [Fact]
    public void RunAsync_RawZone_ParquetMuchSmallerThanCsv()
    {
        // The small objects a streaming sink leaves, before compaction: about 87.6% (the compaction test checks 90%).
        double saved = 1 - ((double)run.Result.RawParquetBytes / run.Result.CsvBytes);
        Assert.True(saved >= 0.86, $"Parquet {run.Result.RawParquetBytes:N0} bytes against CSV {run.Result.CsvBytes:N0}: {saved:P1} smaller");
    }

    [Fact]
    public async Task CompactAsync_AfterTheRun_SameRowsInEveryTableFewerObjectsAndRerunChangesNothing()
    {
        var store = new LocalFolderObjectStore(Path.Combine(run.Work, "lake"));
        var before = new Dictionary<string, string?>();
        foreach (var (zone, table) in DataLakeApp.Tables)
        {
            before[table] = await Fingerprint(zone, table);
        }

        int objectsBefore = (await store.ListKeysAsync(DataLakeApp.LakePrefix, Ct)).Count;

        var first = await DataLakeApp.CompactAsync(store, TimeProvider.System, Ct);

        var keys = await store.ListKeysAsync(DataLakeApp.LakePrefix, Ct);
        Assert.True(keys.Count < objectsBefore / 3, $"{objectsBefore} objects before compaction, {keys.Count} after");
        Assert.Equal(objectsBefore, first.Sum(r => r.ObjectsBefore));
        Assert.Equal(keys.Count, first.Sum(r => r.ObjectsAfter));
        foreach (var (zone, table) in DataLakeApp.Tables)
        {
            Assert.Equal(before[table], await Fingerprint(zone, table));
        }

        // The 90%: the compacted raw zone (sorted by machine and time, ZSTD level 19) against the CSV files.
        long rawBytes = (await store.ListObjectsAsync(DataLakeApp.LakePrefix + "raw/", Ct)).Where(o => o.Key.EndsWith(".parquet", StringComparison.Ordinal)).Sum(o => o.Size ?? 0);
        double saved = 1 - ((double)rawBytes / run.Result.CsvBytes);
        Assert.True(saved >= 0.90, $"compacted raw zone {rawBytes:N0} bytes against CSV {run.Result.CsvBytes:N0}: {saved:P1} smaller");

        var second = await DataLakeApp.CompactAsync(store, TimeProvider.System, Ct);

        Assert.All(second, r => Assert.Equal(0, r.ObjectsMerged));
        Assert.Equal(keys, await store.ListKeysAsync(DataLakeApp.LakePrefix, Ct));
    }

    /// <summary>Every row of a table, as text, sorted and hashed: equal for equal row sets.</summary>
    private Task<string?> Fingerprint(DataLakeZone zone, string table)
        => run.DuckDb.ScalarAsync(
            $"SELECT count(*) || ':' || md5(string_agg(CAST(t AS VARCHAR), '|' ORDER BY CAST(t AS VARCHAR))) FROM read_parquet('{run.Lake}/{zone.ToString().ToLowerInvariant()}/{table}/**/*.parquet', hive_partitioning = false) t");
}

/// <summary>The brute-force reading of the generated files: split on commas, the sample's validation rules.</summary>
internal static class BruteForce
{
    public static IEnumerable<(int Line, SensorReading? Reading)> SensorRows(string work)
    {
        int line = 1;
        foreach (string text in File.ReadLines(DataLakeApp.SensorFile(work)).Skip(1))
        {
            line++;
            string[] c = text.Split(',');
            SensorReading? reading = null;
            if (c.Length == 13 && c[0].Length > 0 && Time(c[1], out var time) && Numbers(c, [2, 3, 4, 5, 6, 8, 9, 11, 12], out double[] n) && n[1] >= 0)
            {
                reading = new SensorReading(c[0], time, n[0], n[1], n[2], n[3], n[4], c[7], n[5] >= 0.5, n[6], c[10], n[7], n[8] >= 0.5);
            }

            yield return (line, reading);
        }
    }

    public static IEnumerable<(int Line, Purchase? Purchase)> PurchaseRows(string work)
    {
        int line = 1;
        foreach (string text in File.ReadLines(DataLakeApp.PurchaseFile(work)).Skip(1))
        {
            line++;
            string[] c = text.Split(',');
            Purchase? purchase = null;
            if (c.Length == 16 && c[0].Length > 0 && Time(c[1], out var time) && Numbers(c, [2, 8, 9, 11, 12, 13, 14, 15], out double[] n) && n[1] >= 0)
            {
                purchase = new Purchase(c[0], time, (int)n[0], c[3], c[4], c[5], c[6], c[7], n[1], (int)n[2], c[10], (int)n[3], n[4], n[5], (int)n[6], n[7]);
            }

            yield return (line, purchase);
        }
    }

    private static bool Time(string text, out DateTimeOffset time)
        => DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static bool Numbers(string[] columns, int[] indexes, out double[] values)
    {
        values = new double[indexes.Length];
        for (int i = 0; i < indexes.Length; i++)
        {
            if (!double.TryParse(columns[indexes[i]], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The sample with its lake in an S3 bucket (s3rver) instead of the local folder.</summary>
public sealed class DataLakeS3Tests
{
    [Fact]
    public async Task RunAsync_LakeInS3rverBucket_EveryTableWrittenAndCompacted()
    {
        await using var server = await Analytics.Streaming.TestSupport.S3rverServer.StartAsync();
        using var client = new Amazon.S3.AmazonS3Client(
            new Amazon.Runtime.BasicAWSCredentials(Analytics.Streaming.TestSupport.S3rverServer.AccessKey, Analytics.Streaming.TestSupport.S3rverServer.AccessKey),
            new Amazon.S3.AmazonS3Config { ServiceURL = server.ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await client.PutBucketAsync("lake", TestContext.Current.CancellationToken);
        string work = Path.Combine(Path.GetTempPath(), "datalake-s3-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var output = new StringWriter();

            var result = await DataLakeApp.RunAsync(new DataLakeOptions(work, Rows: 5_000, ObjectRows: 200, Bucket: "lake", S3Client: client), output, TimeProvider.System, TestContext.Current.CancellationToken);

            Assert.Equal(5_000, result.SensorRows);
            Assert.Equal(5_000, result.PurchaseRows);
            Assert.True(result.ObjectsAfterCompaction < result.ObjectsBeforeCompaction, output.ToString());
            var store = new S3ObjectStore(client, "lake");
            var keys = await store.ListKeysAsync(DataLakeApp.LakePrefix, TestContext.Current.CancellationToken);
            Assert.Equal(result.ObjectsAfterCompaction, keys.Count(k => k.EndsWith(".parquet", StringComparison.Ordinal)));
            Assert.All(DataLakeApp.Tables, t => Assert.Contains(keys, k => k.Contains($"/{t.Table}/", StringComparison.Ordinal)));
            Assert.Contains("s3://lake/lake/", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}

/// <summary>The sample with its rows going through Kinesis (kinesalite) instead of straight to the consumers.</summary>
public sealed class DataLakeKinesisTests
{
    [Fact]
    public async Task RunAsync_ThroughKinesalite_SameResultsAsInProcess()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var kinesalite = new Analytics.Streaming.TestSupport.KinesaliteServer();
        await kinesalite.InitializeAsync();
        string prefix = Analytics.Streaming.TestSupport.KinesaliteServer.NewStreamName("lake") + "-";
        foreach (string stream in new[] { "sensor-readings", "customer-purchases" })
        {
            await kinesalite.Admin.CreateStreamAsync(prefix + stream, 1, ct);
            await kinesalite.Admin.WaitForActiveAsync(prefix + stream, ct);
        }

        using var client = new Analytics.Streaming.Kinesis.KinesisClient(new Analytics.Streaming.Kinesis.KinesisClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = kinesalite.Endpoint,
            Credentials = new Amazon.Runtime.BasicAWSCredentials("fake", "fake"),
        });
        string work = Path.Combine(Path.GetTempPath(), "datalake-kinesis-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var output = new StringWriter();
            var inProcess = await DataLakeApp.RunAsync(new DataLakeOptions(Path.Combine(work, "a"), Rows: 3_000), TextWriter.Null, TimeProvider.System, ct);

            var viaKinesis = await DataLakeApp.RunAsync(new DataLakeOptions(Path.Combine(work, "b"), Rows: 3_000, KinesisStreamPrefix: prefix, KinesisClient: client), output, TimeProvider.System, ct);

            Assert.Contains($"Streams: Kinesis {prefix}sensor-readings", output.ToString(), StringComparison.Ordinal);
            Assert.Equal(
                (inProcess.SensorRows, inProcess.PurchaseRows, inProcess.Rejected.Count, inProcess.MachineHours, inProcess.Alerts, inProcess.Customers, inProcess.HighValueShare, inProcess.Days, inProcess.RawParquetBytes > 0),
                (viaKinesis.SensorRows, viaKinesis.PurchaseRows, viaKinesis.Rejected.Count, viaKinesis.MachineHours, viaKinesis.Alerts, viaKinesis.Customers, viaKinesis.HighValueShare, viaKinesis.Days, viaKinesis.RawParquetBytes > 0));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
