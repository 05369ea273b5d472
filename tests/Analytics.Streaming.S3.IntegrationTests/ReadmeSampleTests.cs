using Analytics.Streaming.Parquet;
using PageViews = Analytics.Streaming.WindowResult<string, long>;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>The package README's sample, run against a local folder and read back by DuckDB.</summary>
public sealed class ReadmeSampleTests(S3Fixture s3)
{
    [Fact]
    public async Task ReadmeSample_WindowResultsToLocalFolder_DuckDbReadsTheHourlyPartitions()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        string folder = s3.CreateFolder();
        var start = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
        PageViews[] results =
        [
            new("page-views", "home", new TimeWindow(start, start.AddMinutes(5)), 42),
            new("page-views", "cart", new TimeWindow(start, start.AddMinutes(5)), 7),
            new("page-views", "home", new TimeWindow(start.AddHours(1), start.AddHours(1).AddMinutes(5)), 3),
        ];

        var map = ParquetRecordMap.For<PageViews>()
            .String("page", r => r.Key, nullable: false)
            .Timestamp("window_start", r => r.Window.Start)
            .Int64("views", r => r.Value)
            .Build();

        await using var sink = new S3Sink<PageViews>(new S3SinkOptions<PageViews>
        {
            Store = new LocalFolderObjectStore(folder),
            Format = new ParquetObjectFormat<PageViews>(map),
            Prefix = "lake/",
            Zone = DataLakeZone.Analytics,
            TableName = "page_views",
            Layout = KeyLayout<PageViews>.Hive(TimePartitioning.Hour, r => r.Window.Start),
        });

        await sink.WriteAsync(results, cancellationToken);
        await sink.FlushAsync(cancellationToken);

        var rows = await s3.DuckDb.QueryAsync(
            $"SELECT hour, page, views FROM read_parquet('{folder}/lake/analytics/page_views/**/*.parquet', hive_partitioning = true) ORDER BY hour, page");
        Assert.Equal(["10 cart 7", "10 home 42", "11 home 3"], rows.Select(r => $"{r["hour"]} {r["page"]} {r["views"]}"));
        Assert.Contains("`views` bigint", sink.DescribeTable("analytics").ToAthenaDdl(), StringComparison.Ordinal);
    }
}
