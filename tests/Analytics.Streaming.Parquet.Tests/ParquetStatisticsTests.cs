using System.Globalization;
using System.Text.Json;

namespace Analytics.Streaming.Parquet.Tests;

public sealed class ParquetStatisticsTests
{
    private readonly ReadersFixture _fixture;

    public ParquetStatisticsTests(ReadersFixture fixture) => _fixture = fixture;

    public sealed record Reading(int? Value, string? Label, double Measure, long Sequence);

    private static readonly ParquetRecordMap<Reading> Map = ParquetRecordMap.For<Reading>()
        .Int32("value", r => r.Value)
        .String("label", r => r.Label)
        .Double("measure", r => r.Measure)
        .Int64("sequence", r => r.Sequence)
        .Build();

    private static List<Reading> Readings()
    {
        var labels = new[] { "zebra", "apple", "Äpfel", "\uE000private", "\U0001F600 emoji", "mango" };
        var rows = new List<Reading>();
        for (int i = 0; i < 300; i++)
        {
            double measure = (i % 50) switch
            {
                0 => double.NaN,
                1 => -0.0,
                2 => 0.0,
                _ => Math.Sin(i) * 100,
            };
            rows.Add(new Reading(i % 7 == 0 ? null : (i * 37 % 1000) - 500, i % 11 == 0 ? null : labels[i % labels.Length] + (i / 100), measure, 1_000_000_000_000L + i));
        }

        return rows;
    }

    [Fact]
    public async Task Complete_EveryRowGroup_HasNullCountMinAndMaxAsEnginesRead()
    {
        var rows = Readings();
        var answer = await ReadBack.WriteAndReadAsync(_fixture, "stats", Map, rows, new ParquetWriterOptions { MaxRowsPerRowGroup = 100 });
        ReadBack.AssertRows(Map.Schema, rows.Select(r => new object?[] { r.Value, r.Label, r.Measure, r.Sequence }).ToList(), answer);

        var groups = answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("row_groups");
        var duck = answer.GetProperty("duckdb").GetProperty("metadata").EnumerateArray().ToList();
        Assert.Equal(3, groups.GetArrayLength());
        for (int g = 0; g < 3; g++)
        {
            var slice = rows.Skip(g * 100).Take(100).ToList();
            var columns = groups[g].GetProperty("columns");

            var values = slice.Where(r => r.Value.HasValue).Select(r => r.Value!.Value).ToList();
            AssertStats(columns[0], slice.Count(r => r.Value is null), values.Min().ToString(CultureInfo.InvariantCulture), values.Max().ToString(CultureInfo.InvariantCulture));
            var labels = slice.Where(r => r.Label is not null).Select(r => r.Label!).ToList();
            string minLabel = labels.Min(Utf8Comparer.Instance)!;
            string maxLabel = labels.Max(Utf8Comparer.Instance)!;
            AssertStats(columns[1], slice.Count(r => r.Label is null), minLabel, maxLabel);
            var measures = slice.Select(r => r.Measure).Where(m => !double.IsNaN(m)).ToList();
            AssertStats(columns[2], 0, measures.Min().ToString("R", CultureInfo.InvariantCulture), measures.Max().ToString("R", CultureInfo.InvariantCulture));
            AssertStats(columns[3], 0, slice[0].Sequence.ToString(CultureInfo.InvariantCulture), slice[^1].Sequence.ToString(CultureInfo.InvariantCulture));

            // DuckDB reads the same statistics (and would skip row groups with them).
            var duckValue = duck.Single(c => c.GetProperty("row_group_id").ToString() == g.ToString(CultureInfo.InvariantCulture) && c.GetProperty("path_in_schema").GetString() == "value");
            Assert.Equal(values.Min().ToString(CultureInfo.InvariantCulture), duckValue.GetProperty("stats_min_value").GetString());
            Assert.Equal(values.Max().ToString(CultureInfo.InvariantCulture), duckValue.GetProperty("stats_max_value").GetString());
            Assert.Equal(slice.Count(r => r.Value is null).ToString(CultureInfo.InvariantCulture), duckValue.GetProperty("stats_null_count").ToString());
            var duckLabel = duck.Single(c => c.GetProperty("row_group_id").ToString() == g.ToString(CultureInfo.InvariantCulture) && c.GetProperty("path_in_schema").GetString() == "label");
            Assert.Equal(minLabel, duckLabel.GetProperty("stats_min_value").GetString());
            Assert.Equal(maxLabel, duckLabel.GetProperty("stats_max_value").GetString());
        }
    }

    [Fact]
    public async Task Complete_DictionaryOverflows_FallsBackToPlainAndValuesStayExact()
    {
        var rows = Enumerable.Range(0, 3000).Select(i => new Reading(i % 3, "label-" + (i * 7919 % 2000).ToString("D6", CultureInfo.InvariantCulture), i, i)).ToList();
        var options = new ParquetWriterOptions { DictionaryPageSizeLimit = 2048, MaxValuesPerPage = 500 };

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "fallback", Map, rows, options);

        ReadBack.AssertRows(Map.Schema, rows.Select(r => new object?[] { r.Value, r.Label, r.Measure, r.Sequence }).ToList(), answer);
        var columns = answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("row_groups")[0].GetProperty("columns");
        var valueEncodings = columns[0].GetProperty("encodings").EnumerateArray().Select(e => e.GetString()).ToList();
        var labelEncodings = columns[1].GetProperty("encodings").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("RLE_DICTIONARY", valueEncodings);
        Assert.Contains("RLE_DICTIONARY", labelEncodings);
        Assert.Contains("PLAIN", labelEncodings);
        var duckLabel = answer.GetProperty("duckdb").GetProperty("metadata").EnumerateArray().Single(c => c.GetProperty("path_in_schema").GetString() == "label");
        Assert.False(duckLabel.GetProperty("dictionary_page_offset").ValueKind == JsonValueKind.Null);
    }

    [Fact]
    public async Task Complete_DictionaryDisabled_WritesPlainOnly()
    {
        var rows = Enumerable.Range(0, 100).Select(i => new Reading(1, "same", 1, i)).ToList();

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "nodict", Map, rows, new ParquetWriterOptions { EnableDictionary = false });

        ReadBack.AssertRows(Map.Schema, rows.Select(r => new object?[] { r.Value, r.Label, r.Measure, r.Sequence }).ToList(), answer);
        foreach (var column in answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("row_groups")[0].GetProperty("columns").EnumerateArray())
        {
            Assert.DoesNotContain("RLE_DICTIONARY", column.GetProperty("encodings").EnumerateArray().Select(e => e.GetString()));
        }
    }

    [Fact]
    public async Task Complete_StatisticsDisabled_WritesNone()
    {
        var rows = Enumerable.Range(0, 10).Select(i => new Reading(i, "x", i, i)).ToList();

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "nostats", Map, rows, new ParquetWriterOptions { WriteStatistics = false });

        var column = answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("row_groups")[0].GetProperty("columns")[0];
        Assert.False(column.TryGetProperty("statistics", out var statistics) && statistics.ValueKind != JsonValueKind.Null);
    }

    private static void AssertStats(JsonElement column, long nulls, string min, string max)
    {
        var statistics = column.GetProperty("statistics");
        string path = column.GetProperty("path").GetString()!;
        Assert.True(nulls.ToString(CultureInfo.InvariantCulture) == statistics.GetProperty("null_count").ToString(), $"{path}: null_count {statistics}");
        Assert.True(Normalize(min) == Normalize(statistics.GetProperty("min_value").ToString()), $"{path}: min {min} vs {statistics}");
        Assert.True(Normalize(max) == Normalize(statistics.GetProperty("max_value").ToString()), $"{path}: max {max} vs {statistics}");
    }

    private static string Normalize(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && !text.StartsWith("label", StringComparison.Ordinal)
            ? (d == 0 ? "0" : d.ToString("R", CultureInfo.InvariantCulture))
            : text;

    private sealed class Utf8Comparer : IComparer<string>
    {
        public static readonly Utf8Comparer Instance = new();

        public int Compare(string? x, string? y) => System.Text.Encoding.UTF8.GetBytes(x!).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(y!));
    }
}
