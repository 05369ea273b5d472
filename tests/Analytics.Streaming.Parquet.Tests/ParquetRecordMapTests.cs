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
