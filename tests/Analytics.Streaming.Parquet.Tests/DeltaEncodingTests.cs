using System.Globalization;
using System.Text.Json;

namespace Analytics.Streaming.Parquet.Tests;

/// <summary>DELTA_BINARY_PACKED (<see cref="ParquetWriterOptions.EnableDeltaEncoding"/>), read back by DuckDB and hyparquet.</summary>
public sealed class DeltaEncodingTests
{
    private static readonly DateTime Start = new(2026, 1, 31, 10, 0, 0, DateTimeKind.Utc);

    private readonly ReadersFixture _fixture;

    public DeltaEncodingTests(ReadersFixture fixture) => _fixture = fixture;

    public sealed record Row(int Small, long Wide, DateTime Time, DateOnly Day, decimal Price, decimal Total, int? Sparse);

    private static readonly ParquetRecordMap<Row> Map = ParquetRecordMap.For<Row>()
        .Int32("small", r => r.Small)
        .Int64("wide", r => r.Wide)
        .Timestamp("time", r => r.Time)
        .Date("day", r => r.Day)
        .Decimal("price", 9, 2, r => r.Price)
        .Decimal("total", 18, 4, r => r.Total)
        .Int32("sparse", r => r.Sparse)
        .Build();

    public static TheoryData<int, int> Shapes => new()
    {
        { 1, 20_000 },
        { 2, 20_000 },
        { 129, 20_000 },
        { 1_000, 20_000 },
        { 1_000, 97 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Complete_DeltaEncoding_ReadersReadEveryValueIncludingWrappingDeltas(int count, int valuesPerPage)
    {
        var random = new Random(count);
        var rows = Enumerable.Range(0, count).Select(i => new Row(
            // Extremes next to each other: deltas overflow the type and must wrap.
            Small: (i % 7) switch { 0 => int.MinValue, 1 => int.MaxValue, 2 => 0, _ => random.Next(int.MinValue, int.MaxValue) },
            Wide: (i % 5) switch { 0 => long.MinValue, 1 => long.MaxValue, _ => random.NextInt64(long.MinValue, long.MaxValue) },
            Time: Start.AddMilliseconds((i * 1_500) + random.Next(1_000)),
            Day: DateOnly.FromDateTime(Start).AddDays(i / 100),
            Price: Math.Round((decimal)random.NextDouble() * 5_000m, 2),
            Total: Math.Round((decimal)random.NextDouble() * -1_000_000m, 4),
            Sparse: i % 3 == 0 ? null : i)).ToList();

        var options = new ParquetWriterOptions { Compression = ParquetCompression.Uncompressed, EnableDeltaEncoding = true, MaxValuesPerPage = valuesPerPage };
        var answer = await WriteAndReadWithoutParquetNetAsync($"delta-{count}-{valuesPerPage}", rows, options);

        ReadBack.AssertRows(Map.Schema, Values(rows), answer);
        if (count >= 129)
        {
            Assert.Contains("DELTA_BINARY_PACKED", Encodings(answer, "time"));
        }
    }

    [Fact]
    public async Task Complete_IncreasingTimesAndScaledDecimals_DeltaPagesAreAFractionOfDictionaryOrPlain()
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 20_000).Select(i => new Row(i, i, Start.AddSeconds((i * 3) + random.Next(3)), DateOnly.FromDateTime(Start), Math.Round((decimal)random.NextDouble() * 5_000m, 2), 0m, i)).ToList();

        var without = await SizesAsync("delta-off", rows, enable: false);
        var with = await SizesAsync("delta-on", rows, enable: true);

        Assert.True(with["time"] < without["time"] / 3, $"time: {with["time"]} B with deltas, {without["time"]} B without");
        Assert.True(with["price"] < without["price"], $"price: {with["price"]} B with deltas, {without["price"]} B without");
    }

    [Fact]
    public async Task Complete_DeltaEncodingOnPlainIntegers_ParquetNetReadsThemToo()
    {
        var map = ParquetRecordMap.For<Row>().Int32("small", r => r.Small).Int64("wide", r => r.Wide).Int32("sparse", r => r.Sparse).Build();
        var rows = Enumerable.Range(0, 500).Select(i => new Row(i * 3, long.MaxValue - i, Start, default, 0m, 0m, i % 4 == 0 ? null : -i)).ToList();
        var options = new ParquetWriterOptions { EnableDeltaEncoding = true, Compression = ParquetCompression.Snappy };

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "delta-parquetnet", map, rows, options);

        ReadBack.AssertRows(map.Schema, rows.Select(r => new object?[] { r.Small, r.Wide, r.Sparse }).ToList(), answer);
        Assert.Contains("DELTA_BINARY_PACKED", Encodings(answer, "small"));
    }

    private static List<object?[]> Values(List<Row> rows) => rows.Select(r => new object?[] { r.Small, r.Wide, r.Time, r.Day, r.Price, r.Total, r.Sparse }).ToList();

    private async Task<JsonElement> WriteAndReadWithoutParquetNetAsync(string name, List<Row> rows, ParquetWriterOptions options)
    {
        string path = _fixture.NewPath(name);
        await using (var writer = new ParquetWriter<Row>(File.Create(path), Map, options))
        {
            foreach (var row in rows)
            {
                writer.Write(row);
            }

            await writer.CompleteAsync(TestContext.Current.CancellationToken);
        }

        // Parquet.Net 6 decodes DELTA_BINARY_PACKED only into plain integers, not timestamps, dates or decimals (documented on the option).
        var answer = await ReadBack.ReadAsync(_fixture, path, withParquetNet: false);
        Assert.True(answer.TryGetProperty("hyparquet", out _), "hyparquet read the file");
        return answer;
    }

    private async Task<Dictionary<string, long>> SizesAsync(string name, List<Row> rows, bool enable)
    {
        var answer = await WriteAndReadWithoutParquetNetAsync(name, rows, new ParquetWriterOptions { Compression = ParquetCompression.Uncompressed, EnableDeltaEncoding = enable });
        ReadBack.AssertRows(Map.Schema, Values(rows), answer);
        return answer.GetProperty("duckdb").GetProperty("metadata").EnumerateArray().ToDictionary(
            c => c.GetProperty("path_in_schema").GetString()!,
            c => long.Parse(c.GetProperty("total_compressed_size").ToString(), CultureInfo.InvariantCulture));
    }

    private static string Encodings(JsonElement answer, string column)
        => string.Join(", ", answer.GetProperty("duckdb").GetProperty("metadata").EnumerateArray()
            .Where(c => c.GetProperty("path_in_schema").GetString() == column)
            .Select(c => c.GetProperty("encodings").GetString()));
}
