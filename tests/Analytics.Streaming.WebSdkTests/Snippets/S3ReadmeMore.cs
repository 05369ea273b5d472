using Amazon.S3;
using Analytics.Streaming;
using Analytics.Streaming.S3;

namespace ReadmeSnippets.S3;

/// <summary>The S3 README's dead-letter and compaction blocks.</summary>
public static class S3ReadmeMore
{
    /// <summary>Block 2 of src/Analytics.Streaming.S3/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task<StreamPipeline<ClickEvent, string, long>> DeadLettersAsync(IAmazonS3 s3Client, AggregatedPipelineBuilder<ClickEvent, string, long> builder)
    {
        StreamPipeline<ClickEvent, string, long> pipeline;
        // <readme file="src/Analytics.Streaming.S3/README.md" block="2">
        await using var deadLetters = new S3DeadLetterSink(new S3DeadLetterSinkOptions
        {
            Store = new S3ObjectStore(s3Client, "my-lake"),
            Prefix = "lake/errors/page-views/",
        });
        pipeline = builder.DeadLettersTo(deadLetters).Build();
        // </readme>
        return pipeline;
    }

    /// <summary>Block 3 of src/Analytics.Streaming.S3/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task CompactAsync(IAmazonS3 s3Client, CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming.S3/README.md" block="3">
        var compactor = new ParquetCompactor(new ParquetCompactorOptions
        {
            Store = new S3ObjectStore(s3Client, "my-lake"),       // or new LocalFolderObjectStore("lake")
            Prefix = "lake/",
            Zone = DataLakeZone.Analytics,
            TableName = "page_views",                            // the sink's table: lake/analytics/page_views/
        });
        CompactionResult result = await compactor.RunAsync(cancellationToken);
        Console.WriteLine($"{result.ObjectsBefore} objects -> {result.ObjectsAfter}");
        // </readme>
    }
}
