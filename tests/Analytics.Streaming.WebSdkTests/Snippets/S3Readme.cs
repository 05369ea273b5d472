using Amazon.S3;
// <readme file="src/Analytics.Streaming.S3/README.md" block="1">
using Analytics.Streaming.Parquet;
using Analytics.Streaming.S3;
using PageViews = Analytics.Streaming.WindowResult<string, long>;
// </readme>

namespace ReadmeSnippets.S3;

/// <summary>The S3 README's first block.</summary>
public static class S3Readme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static async Task SinkAsync(IAmazonS3 s3Client, ReadOnlyMemory<PageViews> results, CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming.S3/README.md" block="1">
        var map = ParquetRecordMap.For<PageViews>()
            .String("page", r => r.Key, nullable: false)
            .Timestamp("window_start", r => r.Window.Start)
            .Int64("views", r => r.Value)
            .Build();

        await using var sink = new S3Sink<PageViews>(new S3SinkOptions<PageViews>
        {
            Store = new S3ObjectStore(s3Client, "my-lake"),      // or new LocalFolderObjectStore("lake")
            Format = new ParquetObjectFormat<PageViews>(map),    // SNAPPY, 16 MiB row groups
            Prefix = "lake/",
            Zone = DataLakeZone.Analytics,
            TableName = "page_views",
            Layout = KeyLayout<PageViews>.Hive(TimePartitioning.Hour, r => r.Window.Start),
        });

        await sink.WriteAsync(results, cancellationToken);
        await sink.FlushAsync(cancellationToken);                // everything written so far is now stored in S3
        Console.WriteLine(sink.DescribeTable("analytics").ToAthenaDdl());
        // s3://my-lake/lake/analytics/page_views/year=2024/month=05/day=01/hour=10/part-20240501T100512Z-3f2a….parquet
        // </readme>
    }
}
