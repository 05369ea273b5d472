using System.Globalization;
using System.Text.Json;
using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>The sink against s3rver: Parquet objects in a partitioned lake, read back byte for byte and by DuckDB.</summary>
public sealed class S3LakeTests(S3Fixture s3)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The partition column types the Athena DDL declares (DuckDB alone would keep zero-padded values as text).
    private const string HiveTypes = "hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER}";

    private static string Section(Click c) => c.Page!.Split('/')[0];

    private static S3SinkOptions<Click> ParquetOptions(IObjectStore store, KeyLayout<Click>? layout = null, ParquetWriterOptions? writer = null) => new()
    {
        Store = store,
        Format = new ParquetObjectFormat<Click>(Clicks.Map, writer),
        TableName = "clicks",
        Prefix = "lake/",
        Zone = DataLakeZone.Analytics,
        Layout = layout ?? KeyLayout<Click>.Hive(TimePartitioning.Hour, c => c.Time).PartitionBy("section", Section),
    };

    [Fact]
    public async Task FlushAsync_HivePartitionedParquet_DuckDbReadsEveryRowWithPartitionColumns()
    {
        string bucket = await s3.CreateBucketAsync();
        var clicks = Clicks.Make(3000, hours: 3);
        await using var sink = new S3Sink<Click>(ParquetOptions(new S3ObjectStore(s3.Client, bucket)));

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var keys = await s3.ListKeysAsync(bucket);
        Assert.Equal(clicks.Select(c => (Section(c), c.Time.Hour)).Distinct().Count(), keys.Count);
        Assert.Equal(15, keys.Count); // five sections over three hours
        Assert.All(keys, k => Assert.Matches(@"^lake/analytics/clicks/section=[a-z]+/year=2024/month=05/day=01/hour=1[0-2]/part-\d{8}T\d{6}Z-[0-9a-f]{32}\.parquet$", k));
        string lake = await s3.DownloadAsync(bucket);
        string glob = Path.Combine(lake, "lake/analytics/clicks/**/*.parquet");

        var groups = await s3.DuckDb.QueryAsync(
            $"SELECT section, year, month, day, hour, count(*) AS n FROM read_parquet('{glob}', hive_partitioning = true, {HiveTypes}) GROUP BY ALL ORDER BY ALL");
        var expected = clicks
            .GroupBy(c => (Section(c), c.Time.Hour))
            .OrderBy(g => g.Key.Item1, StringComparer.Ordinal).ThenBy(g => g.Key.Hour)
            .Select(g => $"{g.Key.Item1} 2024 5 1 {g.Key.Hour} {g.Count()}");
        Assert.Equal(expected, groups.Select(r => $"{r["section"]} {r["year"]} {r["month"]} {r["day"]} {r["hour"]} {r["n"]}"));

        var rows = await s3.DuckDb.QueryAsync(
            $"SELECT epoch_ms(ts) AS ms, page, user_id, price::VARCHAR AS price, referrer FROM read_parquet('{glob}', hive_partitioning = true) ORDER BY user_id");
        Assert.Equal(
            clicks.Select(c => $"{c.Time.ToUnixTimeMilliseconds()}|{c.Page}|{c.UserId}|{c.Price?.ToString("0.00", CultureInfo.InvariantCulture)}|{c.Referrer}"),
            rows.Select(r => $"{r["ms"]}|{r["page"]}|{r["user_id"]}|{r["price"]}|{r["referrer"]}"));
    }

    [Fact]
    public async Task FlushAsync_ObjectLargerThanPartSize_MultipartObjectWholeAndEqualToLocalCopy()
    {
        string bucket = await s3.CreateBucketAsync();
        string folder = s3.CreateFolder();
        var random = new Random(11);
        var clicks = Clicks.Make(30_000).Select(c => c with { Referrer = Convert.ToHexString(RandomBytes(random, 100)) }).ToArray();
        var writer = new ParquetWriterOptions { RowGroupSize = 1024 * 1024 };
        var layout = KeyLayout<Click>.Hive(TimePartitioning.Day, c => c.Time);
        var s3Options = ParquetOptions(new S3ObjectStore(s3.Client, bucket), layout, writer);
        s3Options.PartSize = S3ObjectStore.MinimumPartSize;
        var localOptions = ParquetOptions(new LocalFolderObjectStore(folder), layout, writer);
        localOptions.PartSize = S3ObjectStore.MinimumPartSize;

        await using var toS3 = new S3Sink<Click>(s3Options);
        await using var toFolder = new S3Sink<Click>(localOptions);
        for (int i = 0; i < clicks.Length; i += 3000)
        {
            await toS3.WriteAsync(clicks.AsMemory(i, 3000), Ct);
            await toFolder.WriteAsync(clicks.AsMemory(i, 3000), Ct);
        }

        await toS3.FlushAsync(Ct);
        await toFolder.FlushAsync(Ct);

        Assert.Equal(1, toS3.Statistics.MultipartUploads);

        string key = Assert.Single(await s3.ListKeysAsync(bucket));
        string file = Assert.Single(Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories));
        Assert.Equal(key[..key.LastIndexOf('/')], Path.GetRelativePath(folder, Path.GetDirectoryName(file)!).Replace('\\', '/'));
        byte[] fromS3 = await s3.ReadAsync(bucket, key);
        byte[] fromFolder = await File.ReadAllBytesAsync(file, Ct);
        Assert.True(fromS3.Length > S3ObjectStore.MinimumPartSize, $"object is only {fromS3.Length} bytes, not over one part");
        Assert.Equal(fromFolder, fromS3);
        Assert.Equal(toS3.Statistics.BytesWritten, fromS3.Length);

        string copy = Path.Combine(s3.CreateFolder(), "whole.parquet");
        await File.WriteAllBytesAsync(copy, fromS3, Ct);
        var summary = await s3.DuckDb.QueryAsync($"SELECT count(*) AS n, sum(user_id) AS s, count(DISTINCT referrer) AS r FROM read_parquet('{copy}')");
        Assert.Equal($"{clicks.Length} {clicks.Sum(c => c.UserId)} {clicks.Length}", $"{summary[0]["n"]} {summary[0]["s"]} {summary[0]["r"]}");
    }

    [Fact]
    public async Task FlushAsync_FirehoseDefaultLayout_KeysMatchTheProjectionTemplate()
    {
        string bucket = await s3.CreateBucketAsync();
        var clicks = Clicks.Make(100, hours: 2);
        await using var sink = new S3Sink<Click>(ParquetOptions(new S3ObjectStore(s3.Client, bucket), KeyLayout<Click>.FirehoseDefault(c => c.Time)));

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var keys = await s3.ListKeysAsync(bucket);
        Assert.Equal(2, keys.Count);
        var table = sink.DescribeTable("weblogs");
        Assert.Equal($"s3://{bucket}/lake/analytics/clicks/${{datehour}}/", table.LocationTemplate);
        foreach (var (key, hour) in keys.Zip(["10", "11"]))
        {
            string location = table.LocationTemplate.Replace("${datehour}", $"2024/05/01/{hour}", StringComparison.Ordinal);
            Assert.StartsWith(location, $"s3://{bucket}/{key}", StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DescribeTable_HiveLayout_TemplateFilledWithKeyValuesLocatesEveryObject()
    {
        string bucket = await s3.CreateBucketAsync();
        await using var sink = new S3Sink<Click>(ParquetOptions(new S3ObjectStore(s3.Client, bucket)));
        await sink.WriteAsync(Clicks.Make(50, hours: 2), Ct);
        await sink.FlushAsync(Ct);

        var table = sink.DescribeTable("weblogs");

        foreach (string key in await s3.ListKeysAsync(bucket))
        {
            string location = table.LocationTemplate;
            foreach (var segment in key.Split('/').Where(s => s.Contains('=', StringComparison.Ordinal)))
            {
                var (name, value) = (segment[..segment.IndexOf('=', StringComparison.Ordinal)], segment[(segment.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                location = location.Replace($"${{{name}}}", value, StringComparison.Ordinal);
            }

            Assert.DoesNotContain("${", location, StringComparison.Ordinal);
            Assert.Equal(location, $"s3://{bucket}/{key[..(key.LastIndexOf('/') + 1)]}");
        }
    }

    [Fact]
    public async Task DescribeTable_ParquetColumns_TypesAgreeWithDuckDbSchemaOfWrittenFile()
    {
        string folder = s3.CreateFolder();
        await using var sink = new S3Sink<Click>(ParquetOptions(new LocalFolderObjectStore(folder)));
        await sink.WriteAsync(Clicks.Make(10), Ct);
        await sink.FlushAsync(Ct);
        string file = Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();

        var described = await s3.DuckDb.QueryAsync($"DESCRIBE SELECT * FROM read_parquet('{file}', hive_partitioning = false)");
        var table = sink.DescribeTable("weblogs");

        var hiveToDuckDb = new Dictionary<string, string>
        {
            ["timestamp"] = "TIMESTAMP WITH TIME ZONE",
            ["string"] = "VARCHAR",
            ["bigint"] = "BIGINT",
            ["decimal(18,2)"] = "DECIMAL(18,2)",
        };
        Assert.Equal(
            described.Select(r => $"{r["column_name"]} {r["column_type"]}"),
            table.Columns.Select(c => $"{c.Name} {hiveToDuckDb[c.Type]}"));
    }

    [Fact]
    public void DescribeTable_HiveLayoutOnS3_AthenaDdlWithPartitionProjection()
    {
        var sink = new S3Sink<Click>(ParquetOptions(new S3ObjectStore(s3.Client, "analytics-lake")));

        string ddl = sink.DescribeTable("weblogs", projectionFirstYear: 2024).ToAthenaDdl();

        Assert.Equal(
            """
            CREATE EXTERNAL TABLE IF NOT EXISTS `weblogs`.`clicks` (
              `ts` timestamp,
              `page` string,
              `user_id` bigint,
              `price` decimal(18,2),
              `referrer` string
            )
            PARTITIONED BY (
              `section` string,
              `year` int,
              `month` int,
              `day` int,
              `hour` int
            )
            STORED AS PARQUET
            LOCATION 's3://analytics-lake/lake/analytics/clicks/'
            TBLPROPERTIES (
              'classification'='parquet',
              'parquet.compression'='SNAPPY',
              'projection.enabled'='true',
              'projection.section.type'='injected',
              'projection.year.type'='integer',
              'projection.year.range'='2024,2099',
              'projection.month.type'='integer',
              'projection.month.range'='1,12',
              'projection.month.digits'='2',
              'projection.day.type'='integer',
              'projection.day.range'='1,31',
              'projection.day.digits'='2',
              'projection.hour.type'='integer',
              'projection.hour.range'='0,23',
              'projection.hour.digits'='2',
              'storage.location.template'='s3://analytics-lake/lake/analytics/clicks/section=${section}/year=${year}/month=${month}/day=${day}/hour=${hour}/'
            )
            """.ReplaceLineEndings("\n"),
            ddl);
    }

    [Fact]
    public void DescribeTable_GlueJson_HasCreateTableShape()
    {
        var sink = new S3Sink<Click>(ParquetOptions(new S3ObjectStore(s3.Client, "analytics-lake"), KeyLayout<Click>.FirehoseDefault()));

        using var glue = JsonDocument.Parse(sink.DescribeTable("WebLogs").ToGlueCreateTableJson());

        var root = glue.RootElement;
        Assert.Equal("weblogs", root.GetProperty("DatabaseName").GetString());
        var input = root.GetProperty("TableInput");
        Assert.Equal("EXTERNAL_TABLE", input.GetProperty("TableType").GetString());
        Assert.Equal("parquet", input.GetProperty("Parameters").GetProperty("classification").GetString());
        Assert.Equal("yyyy/MM/dd/HH", input.GetProperty("Parameters").GetProperty("projection.datehour.format").GetString());
        Assert.Equal("datehour:string", string.Join(',', input.GetProperty("PartitionKeys").EnumerateArray().Select(k => $"{k.GetProperty("Name")}:{k.GetProperty("Type")}")));
        var storage = input.GetProperty("StorageDescriptor");
        Assert.Equal(
            "ts:timestamp,page:string,user_id:bigint,price:decimal(18,2),referrer:string",
            string.Join(',', storage.GetProperty("Columns").EnumerateArray().Select(c => $"{c.GetProperty("Name")}:{c.GetProperty("Type")}")));
        Assert.Equal("s3://analytics-lake/lake/analytics/clicks/", storage.GetProperty("Location").GetString());
        Assert.Equal("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", storage.GetProperty("SerdeInfo").GetProperty("SerializationLibrary").GetString());
    }

    [Fact]
    public void DescribeTable_PartitionNamedLikeAColumn_ThrowsWithAdvice()
    {
        var options = ParquetOptions(new S3ObjectStore(s3.Client, "analytics-lake"), KeyLayout<Click>.Hive().PartitionBy("page", c => c.Page));
        var sink = new S3Sink<Click>(options);

        var error = Assert.Throws<ArgumentException>(() => sink.DescribeTable("weblogs"));

        Assert.Contains("'page'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DescribeTable_JsonLinesWithoutColumns_ThrowsAndWithColumnsUsesOpenXSerDe()
    {
        var sink = new S3Sink<Click>(new S3SinkOptions<Click>
        {
            Store = new S3ObjectStore(s3.Client, "analytics-lake"),
            Format = LineFormats.JsonLines(TestJson.Default.Click),
            TableName = "clicks_json",
            Layout = KeyLayout<Click>.Unpartitioned(),
        });

        Assert.Throws<InvalidOperationException>(() => sink.DescribeTable("weblogs"));
        string ddl = sink.DescribeTable("weblogs", [new TableColumn("Page", "string"), new TableColumn("UserId", "bigint")]).ToAthenaDdl();

        Assert.Contains("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'", ddl, StringComparison.Ordinal);
        Assert.Contains("`userid` bigint", ddl, StringComparison.Ordinal);
        Assert.DoesNotContain("projection", ddl, StringComparison.Ordinal);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
