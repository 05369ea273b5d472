namespace Analytics.Streaming.Parquet.Tests;

public sealed class ParquetRecordMapTests
{
    public sealed record Row(long Id, string Name, int? Count, decimal Price, DateTime Time);

    private static readonly ParquetSchema TableSchema = new(
        ParquetField.Int64("id"),
        ParquetField.String("name", nullable: false),
        ParquetField.Int32("count", nullable: true),
        ParquetField.Decimal("price", 12, 2),
        ParquetField.Timestamp("time", ParquetTimestampUnit.Milliseconds));

    [Fact]
    public void Build_ExplicitSchemaInAnyOrder_KeepsSchemaOrderAndFieldSettings()
    {
        var map = ParquetRecordMap.For<Row>(TableSchema)
            .Timestamp("time", r => r.Time)
            .String("name", r => r.Name)
            .Int64("id", r => r.Id)
            .Int32("count", r => r.Count)
            .Decimal("price", 12, 2, r => r.Price)
            .Build();

        Assert.Same(TableSchema, map.Schema);
        Assert.Equal(ParquetTimestampUnit.Milliseconds, map.Schema.Find("time")!.TimestampUnit);
        Assert.False(map.Schema.Find("name")!.IsNullable);
    }

    [Fact]
    public void Build_ExplicitSchemaWithWrongKind_ThrowsSchemaMismatch()
    {
        var builder = ParquetRecordMap.For<Row>(TableSchema);

        var error = Assert.Throws<ParquetSchemaException>(() => builder.String("id", r => r.Name));

        Assert.Contains("'id' is Int64 in the schema", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ExplicitSchemaWithUnknownColumn_ThrowsListingFields()
    {
        var error = Assert.Throws<ParquetSchemaException>(() => ParquetRecordMap.For<Row>(TableSchema).Int64("ident", r => r.Id));

        Assert.Contains("no field 'ident'", error.Message, StringComparison.Ordinal);
        Assert.Contains("id, name, count, price, time", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ExplicitSchemaFieldUnbound_Throws()
    {
        var builder = ParquetRecordMap.For<Row>(TableSchema).Int64("id", r => r.Id);

        var error = Assert.Throws<ParquetSchemaException>(builder.Build);

        Assert.Contains("'name' has no accessor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ExplicitSchemaDecimalPrecisionDiffers_Throws()
    {
        var error = Assert.Throws<ParquetSchemaException>(() => ParquetRecordMap.For<Row>(TableSchema).Decimal("price", 10, 2, r => r.Price));

        Assert.Contains("DECIMAL(12,2)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Column_AccessorTypeDoesNotSuitField_Throws()
    {
        var error = Assert.Throws<ParquetSchemaException>(() => ParquetRecordMap.For<Row>().Column(ParquetField.Date("day"), r => r.Time));

        Assert.Contains("Date", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DuplicateNameIgnoringCase_Throws()
    {
        var builder = ParquetRecordMap.For<Row>().Int64("id", r => r.Id);

        Assert.Throws<ParquetSchemaException>(() => builder.Int64("ID", r => r.Id));
    }

    [Fact]
    public void Build_NoColumns_Throws() => Assert.Throws<ParquetSchemaException>(ParquetRecordMap.For<Row>().Build);

    [Fact]
    public void List_UnsupportedElementType_Throws()
    {
        var error = Assert.Throws<ParquetSchemaException>(() => ParquetRecordMap.For<Row>().List("x", r => (IReadOnlyList<Guid>)[]));

        Assert.Contains("System.Guid", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(39, 2)]
    [InlineData(10, 11)]
    [InlineData(38, 29)]
    public void Decimal_PrecisionOrScaleOutOfRange_Throws(int precision, int scale) =>
        Assert.Throws<ParquetSchemaException>(() => ParquetField.Decimal("d", precision, scale));

    [Fact]
    public void ToHiveType_EveryKind_GivesAthenaTypeNames()
    {
        Assert.Equal("bigint", ParquetField.Int64("a").ToHiveType());
        Assert.Equal("decimal(18,2)", ParquetField.Decimal("a", 18, 2).ToHiveType());
        Assert.Equal("array<string>", ParquetField.List("a", ParquetField.String("e")).ToHiveType());
        Assert.Equal("map<string,double>", ParquetField.Map("a", ParquetField.String("k"), ParquetField.Double("v")).ToHiveType());
        Assert.Equal("timestamp", ParquetField.Timestamp("a").ToHiveType());
        Assert.Equal("date", ParquetField.Date("a").ToHiveType());
    }
}

public sealed class ParquetRecordMapFromPropertiesTests
{
    private readonly ReadersFixture _fixture;

    public ParquetRecordMapFromPropertiesTests(ReadersFixture fixture) => _fixture = fixture;

    public sealed record PageView(DateTime EventTime, string PageUrl, string? Referrer, long UserId, int? DurationMs, decimal Revenue, DateOnly Day, bool IsBot, byte[]? Payload);

    public sealed record WithList(IReadOnlyList<string> Tags);

    [Theory]
    [InlineData("UserId", "user_id")]
    [InlineData("HTTPStatusCode", "http_status_code")]
    [InlineData("eventTime", "event_time")]
    [InlineData("Page2Url", "page2_url")]
    [InlineData("id", "id")]
    public void SnakeCase_Names_AreLowerSnakeCase(string name, string expected) => Assert.Equal(expected, ParquetRecordMap.SnakeCase(name));

    [Fact]
    public async Task FromProperties_Record_MapsEveryPropertyAndReadsBack()
    {
        var map = ParquetRecordMap.FromProperties<PageView>(decimalPrecision: 18, decimalScale: 2);
        var rows = Enumerable.Range(0, 50).Select(i => new PageView(
            new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i), "/p/" + (i % 4), i % 3 == 0 ? null : "ref", i, i % 2 == 0 ? null : i * 10,
            i * 0.25m, new DateOnly(2024, 5, 1), i % 5 == 0, i % 4 == 0 ? null : [(byte)i])).ToList();

        Assert.Equal(["event_time", "page_url", "referrer", "user_id", "duration_ms", "revenue", "day", "is_bot", "payload"], map.Schema.Fields.Select(f => f.Name));
        Assert.False(map.Schema.Find("page_url")!.IsNullable);
        Assert.True(map.Schema.Find("referrer")!.IsNullable);
        Assert.True(map.Schema.Find("duration_ms")!.IsNullable);
        Assert.False(map.Schema.Find("user_id")!.IsNullable);

        var answer = await ReadBack.WriteAndReadAsync(_fixture, "from-properties", map, rows);

        ReadBack.AssertRows(map.Schema, rows.Select(r => new object?[] { r.EventTime, r.PageUrl, r.Referrer, r.UserId, r.DurationMs, r.Revenue, r.Day, r.IsBot, r.Payload }).ToList(), answer);
    }

    [Fact]
    public void FromProperties_UnsupportedProperty_ThrowsNamingIt()
    {
        var error = Assert.Throws<ParquetSchemaException>(() => ParquetRecordMap.FromProperties<WithList>());

        Assert.Contains("WithList.Tags", error.Message, StringComparison.Ordinal);
    }
}
