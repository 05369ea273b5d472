using System.Text.Json;

namespace Analytics.Streaming.Parquet.Tests;

public sealed class ParquetWriterReadBackTests
{
    private readonly ReadersFixture _fixture;

    public ParquetWriterReadBackTests(ReadersFixture fixture) => _fixture = fixture;

    public sealed record Click(DateTime Time, string Page, long UserId, int? Duration, double Score);

    [Fact]
    public async Task Write_SimpleRecords_EveryReaderReadsEveryValue()
    {
        var map = ParquetRecordMap.For<Click>()
            .Timestamp("ts", c => c.Time)
            .String("page", c => c.Page, nullable: false)
            .Int64("user_id", c => c.UserId)
            .Int32("duration", c => c.Duration)
            .Double("score", c => c.Score)
            .Build();
        var start = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        var clicks = Enumerable.Range(0, 100)
            .Select(i => new Click(start.AddMilliseconds(i * 1234.567), "/page/" + (i % 7), 1000 + i, i % 3 == 0 ? null : i, i * 0.5))
            .ToList();

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "simple", map, clicks);

        ReadBack.AssertRows(map.Schema, clicks.Select(c => new object?[] { c.Time, c.Page, c.UserId, c.Duration, c.Score }).ToList(), answer);
    }
}
