using System.Globalization;
using System.Text.Json;

namespace Analytics.Streaming.Parquet.Tests;

public sealed class ParquetWriterTypesTests
{
    private readonly ReadersFixture _fixture;

    public ParquetWriterTypesTests(ReadersFixture fixture) => _fixture = fixture;

    public sealed class AllTypes
    {
        public bool B { get; init; }
        public bool? Bn { get; init; }
        public int I { get; init; }
        public int? In { get; init; }
        public long L { get; init; }
        public long? Ln { get; init; }
        public float F { get; init; }
        public float? Fn { get; init; }
        public double D { get; init; }
        public double? Dn { get; init; }
        public decimal Dec9 { get; init; }
        public decimal? Dec18 { get; init; }
        public decimal Dec38 { get; init; }
        public string S { get; init; } = string.Empty;
        public string? Sn { get; init; }
        public byte[]? Bin { get; init; }
        public DateTime Ts { get; init; }
        public DateTimeOffset? TsMs { get; init; }
        public DateOnly Day { get; init; }
        public DateOnly? DayN { get; init; }
        public IReadOnlyList<int?>? Ints { get; init; }
        public IReadOnlyList<string>? Tags { get; init; }
        public IReadOnlyList<decimal>? Amounts { get; init; }
        public IReadOnlyDictionary<string, long?>? Attrs { get; init; }
        public IReadOnlyDictionary<int, string>? Names { get; init; }
    }

    public static ParquetRecordMap<AllTypes> AllTypesMap() => ParquetRecordMap.For<AllTypes>()
        .Boolean("b", r => r.B)
        .Boolean("bn", r => r.Bn)
        .Int32("i", r => r.I)
        .Int32("in", r => r.In)
        .Int64("l", r => r.L)
        .Int64("ln", r => r.Ln)
        .Float("f", r => r.F)
        .Float("fn", r => r.Fn)
        .Double("d", r => r.D)
        .Double("dn", r => r.Dn)
        .Decimal("dec9", 9, 2, r => r.Dec9)
        .Decimal("dec18", 18, 4, r => r.Dec18)
        .Decimal("dec38", 38, 9, r => r.Dec38)
        .String("s", r => r.S, nullable: false)
        .String("sn", r => r.Sn)
        .Binary("bin", r => r.Bin)
        .Timestamp("ts", r => r.Ts)
        .Timestamp("ts_ms", r => r.TsMs, ParquetTimestampUnit.Milliseconds)
        .Date("day", r => r.Day)
        .Date("day_n", r => r.DayN)
        .List("ints", r => r.Ints)
        .List("tags", r => r.Tags, nullable: false)
        .List(ParquetField.List("amounts", ParquetField.Decimal("element", 12, 3)), r => r.Amounts)
        .Map("attrs", r => r.Attrs)
        .Map("names", r => r.Names)
        .Build();

    public static object?[] Row(AllTypes r) =>
    [
        r.B, r.Bn, r.I, r.In, r.L, r.Ln, r.F, r.Fn, r.D, r.Dn, r.Dec9, r.Dec18, r.Dec38, r.S, r.Sn, r.Bin, r.Ts, r.TsMs,
        r.Day, r.DayN, r.Ints, r.Tags, r.Amounts, r.Attrs, r.Names,
    ];

    public static List<AllTypes> Sample()
    {
        var rows = new List<AllTypes>
        {
            new()
            {
                B = true, Bn = null, I = int.MinValue, In = null, L = long.MinValue, Ln = null, F = float.MinValue, Fn = null,
                D = double.MinValue, Dn = null, Dec9 = -9999999.99m, Dec18 = null, Dec38 = decimal.MinValue, S = string.Empty, Sn = null,
                Bin = null, Ts = DateTime.MinValue, TsMs = null, Day = DateOnly.MinValue, DayN = null, Ints = null, Tags = [],
                Amounts = null, Attrs = null, Names = null,
            },
            new()
            {
                B = false, Bn = true, I = int.MaxValue, In = 0, L = long.MaxValue, Ln = 0, F = float.MaxValue, Fn = float.NaN,
                D = double.MaxValue, Dn = double.NaN, Dec9 = 9999999.99m, Dec18 = 99999999999999.9999m, Dec38 = decimal.MaxValue,
                S = "héllo wörld ✓ 😀 漢字", Sn = string.Empty, Bin = [], Ts = new DateTime(9999, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(9_999_999),
                TsMs = new DateTimeOffset(2024, 5, 1, 10, 0, 0, 123, TimeSpan.FromHours(2)), Day = DateOnly.MaxValue, DayN = new DateOnly(1970, 1, 1),
                Ints = [], Tags = ["a", null!, string.Empty], Amounts = [], Attrs = new Dictionary<string, long?>(), Names = new Dictionary<int, string>(),
            },
            new()
            {
                B = true, Bn = false, I = 0, In = -1, L = 0, Ln = -1, F = -0.0f, Fn = float.PositiveInfinity, D = -0.0, Dn = double.NegativeInfinity,
                Dec9 = 0m, Dec18 = -0.0001m, Dec38 = 0.000000001m, S = "\uE000 before \U0001F600", Sn = "x", Bin = [0, 255, 128, 7],
                Ts = new DateTime(1969, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(9_999_995), TsMs = DateTimeOffset.UnixEpoch.AddTicks(-1),
                Day = new DateOnly(1969, 12, 31), DayN = new DateOnly(2024, 2, 29), Ints = [1, null, 3], Tags = ["only"],
                Amounts = [1.5m, -2.125m, 999999999.999m], Attrs = new Dictionary<string, long?> { ["k1"] = 1, ["k2"] = null, ["ключ"] = long.MinValue },
                Names = new Dictionary<int, string> { [3] = "three", [-1] = "minus one", [20] = string.Empty },
            },
        };

        for (int i = 0; i < 200; i++)
        {
            rows.Add(new AllTypes
            {
                B = i % 2 == 0, Bn = i % 5 == 0 ? null : i % 3 == 0, I = i * 7919 - 500_000, In = i % 4 == 0 ? null : i,
                L = (long)i * 1_000_000_007, Ln = i % 6 == 0 ? null : -i, F = i / 3f, Fn = i % 7 == 0 ? null : i * 1.5f, D = i / 7.0,
                Dn = i % 8 == 0 ? null : Math.PI * i, Dec9 = i * 1.25m, Dec18 = i % 9 == 0 ? null : i * -12345.6789m, Dec38 = i * 1234567890.012345678m,
                S = "page-" + (i % 13), Sn = i % 10 == 0 ? null : "v" + (i % 4), Bin = i % 11 == 0 ? null : BitConverter.GetBytes(i),
                Ts = new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(i * 12_345_678L),
                TsMs = i % 3 == 0 ? null : new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(i * 1001),
                Day = new DateOnly(2024, 1, 1).AddDays(i), DayN = i % 2 == 0 ? null : new DateOnly(2000, 1, 1).AddDays(-i),
                Ints = i % 5 == 0 ? null : Enumerable.Range(0, i % 4).Select(x => x % 2 == 0 ? (int?)x : null).ToList(),
                Tags = Enumerable.Range(0, i % 3).Select(x => "t" + x).ToList(),
                Amounts = i % 2 == 0 ? [i * 0.5m] : null,
                Attrs = i % 4 == 0 ? null : new Dictionary<string, long?> { ["a"] = i, ["b"] = i % 3 == 0 ? null : -i },
                Names = i % 3 == 0 ? null : new Dictionary<int, string> { [i] = "n" + i },
            });
        }

        return rows;
    }

    [Theory]
    [InlineData(ParquetCompression.Uncompressed)]
    [InlineData(ParquetCompression.Snappy)]
    [InlineData(ParquetCompression.Gzip)]
    [InlineData(ParquetCompression.Brotli)]
    [InlineData(ParquetCompression.Zstd)]
    public async Task Write_EveryTypeAndCodec_EveryReaderReadsEveryValueAndCodec(ParquetCompression codec)
    {
        var map = AllTypesMap();
        var rows = Sample();
        var options = new ParquetWriterOptions { Compression = codec, MaxRowsPerRowGroup = 64, MaxValuesPerPage = 50 };

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "all-" + codec, map, rows, options);

        ReadBack.AssertRows(map.Schema, rows.Select(Row).ToList(), answer);
        string expectedCodec = codec.ToString().ToUpperInvariant();
        foreach (var column in answer.GetProperty("duckdb").GetProperty("metadata").EnumerateArray())
        {
            Assert.Equal(expectedCodec, column.GetProperty("compression").GetString());
        }

        Assert.Equal(4, ReadBack.RowGroupCount(answer));
        Assert.Equal([expectedCodec], answer.GetProperty("parquetnet").GetProperty("metadata").GetProperty("codecs").EnumerateArray().Select(c => c.GetString()));
        if (answer.TryGetProperty("hyparquet", out var hyparquet))
        {
            foreach (var group in hyparquet.GetProperty("metadata").GetProperty("row_groups").EnumerateArray())
            {
                foreach (var column in group.GetProperty("columns").EnumerateArray())
                {
                    Assert.Equal(expectedCodec, column.GetProperty("codec").GetString());
                }
            }
        }
    }

    [Fact]
    public async Task Write_EveryType_SchemaHasRepetitionLogicalAndConvertedTypes()
    {
        var map = AllTypesMap();
        var answer = await ReadBack.WriteAndReadAsync(_fixture, "schema", map, Sample().Take(3).ToList());

        var schema = answer.GetProperty("duckdb").GetProperty("schema").EnumerateArray().ToList();
        JsonElement Element(string name) => schema.First(e => e.GetProperty("name").GetString() == name);
        string? Text(JsonElement e, string property) => e.GetProperty(property).ValueKind == JsonValueKind.Null ? null : e.GetProperty(property).ToString();

        Assert.Equal("REQUIRED", Text(Element("b"), "repetition_type"));
        Assert.Equal("OPTIONAL", Text(Element("bn"), "repetition_type"));
        Assert.Equal("INT64", Text(Element("l"), "type"));
        Assert.Equal("FLOAT", Text(Element("f"), "type"));
        Assert.Equal("INT32", Text(Element("dec9"), "type"));
        Assert.Equal("INT64", Text(Element("dec18"), "type"));
        Assert.Equal("FIXED_LEN_BYTE_ARRAY", Text(Element("dec38"), "type"));
        Assert.Equal("16", Text(Element("dec38"), "type_length"));
        Assert.Equal("DECIMAL", Text(Element("dec38"), "converted_type"));
        Assert.Equal("38", Text(Element("dec38"), "precision"));
        Assert.Equal("9", Text(Element("dec38"), "scale"));
        Assert.Equal("UTF8", Text(Element("s"), "converted_type"));
        Assert.Equal("REQUIRED", Text(Element("s"), "repetition_type"));
        Assert.Null(Text(Element("bin"), "converted_type"));
        Assert.Equal("TIMESTAMP_MICROS", Text(Element("ts"), "converted_type"));
        Assert.Equal("TIMESTAMP_MILLIS", Text(Element("ts_ms"), "converted_type"));
        Assert.Contains("isAdjustedToUTC=1", Text(Element("ts"), "logical_type")!.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("DATE", Text(Element("day"), "converted_type"));
        Assert.Equal("LIST", Text(Element("ints"), "converted_type"));
        Assert.Equal("REQUIRED", Text(Element("tags"), "repetition_type"));
        Assert.Equal("MAP", Text(Element("attrs"), "converted_type"));
        Assert.Equal("REPEATED", Text(Element("key_value"), "repetition_type"));
        Assert.Equal("REQUIRED", Text(Element("key"), "repetition_type"));

        // hyparquet sees the same tree: root + 20 primitives + 3 lists x 3 + 2 maps x 4.
        var hypSchema = answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("schema");
        Assert.Equal(1 + 20 + 9 + 8, hypSchema.GetArrayLength());
        Assert.Equal("3", answer.GetProperty("hyparquet").GetProperty("metadata").GetProperty("num_rows").ToString());
    }
}
