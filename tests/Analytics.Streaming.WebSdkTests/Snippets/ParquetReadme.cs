// <readme file="src/Analytics.Streaming.Parquet/README.md" block="1">
using Analytics.Streaming.Parquet;
// </readme>

namespace ReadmeSnippets.Parquet;

/// <summary>The click the Parquet README writes.</summary>
/// <param name="Time">When.</param>
/// <param name="Page">The page.</param>
/// <param name="UserId">The visitor.</param>
/// <param name="Price">The price, when any.</param>
/// <param name="Tags">Tags.</param>
public sealed record Click(DateTimeOffset Time, string Page, long UserId, decimal? Price, IReadOnlyList<string> Tags);

/// <summary>The Parquet README's block.</summary>
public static class ParquetReadme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static async Task WriteAsync(Click[] clicks, CancellationToken cancellationToken)
    {
        // <readme file="src/Analytics.Streaming.Parquet/README.md" block="1">
        // Zero configuration: every public property, snake_case column names.
        var simple = ParquetRecordMap.FromProperties<Click>();

        // Or explicit, per column:

        var map = ParquetRecordMap.For<Click>()
            .Timestamp("ts", c => c.Time)                    // TIMESTAMP(MICROS, UTC), REQUIRED
            .String("page", c => c.Page, nullable: false)    // UTF-8, dictionary-encoded while values repeat
            .Int64("user_id", c => c.UserId)
            .Decimal("price", 18, 2, c => c.Price)           // decimal? => OPTIONAL
            .List("tags", c => c.Tags)                       // IReadOnlyList<string> => LIST<STRING>
            .Build();                                        // build once, share everywhere

        await using var file = File.Create("clicks.parquet");
        await using var writer = new ParquetWriter<Click>(file, map, new ParquetWriterOptions { Compression = ParquetCompression.Zstd });
        await writer.WriteAsync(clicks, cancellationToken);  // Click[] (ReadOnlyMemory<Click>); or writer.Write(click)
        await writer.CompleteAsync(cancellationToken);       // last row group + footer; without it the file is abandoned
        // </readme>
    }
}
