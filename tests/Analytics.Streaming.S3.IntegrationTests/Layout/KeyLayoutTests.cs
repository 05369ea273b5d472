namespace Analytics.Streaming.S3.IntegrationTests.Layout;

public sealed class KeyLayoutTests
{
    private static readonly DateTimeOffset Arrival = new(2030, 12, 31, 23, 59, 0, TimeSpan.Zero);

    [Fact]
    public void GetPartitionPath_HiveHourWithField_FieldThenYearMonthDayHour()
    {
        var layout = KeyLayout<Click>.Hive(TimePartitioning.Hour, c => c.Time).PartitionBy("page", c => c.Page);
        var click = new Click(new DateTimeOffset(2024, 5, 1, 10, 30, 0, TimeSpan.FromHours(2)), "home", 1, null, null);

        Assert.Equal("page=home/year=2024/month=05/day=01/hour=08/", layout.GetPartitionPath(click, Arrival));
    }

    [Fact]
    public void GetPartitionPath_FirehoseDefaultWithoutSelector_UsesArrivalTimeInUtc()
    {
        var layout = KeyLayout<Click>.FirehoseDefault();
        var click = new Click(Clicks.Start, "home", 1, null, null);

        Assert.True(layout.UsesArrivalTime);
        Assert.Equal("2030/12/31/23/", layout.GetPartitionPath(click, Arrival));
    }

    [Theory]
    [InlineData(TimePartitioning.Year, "year=2024/")]
    [InlineData(TimePartitioning.Month, "year=2024/month=05/")]
    [InlineData(TimePartitioning.Day, "year=2024/month=05/day=01/")]
    [InlineData(TimePartitioning.None, "")]
    public void GetPartitionPath_HiveGranularity_StopsAtDepth(TimePartitioning time, string expected)
    {
        var layout = KeyLayout<Click>.Hive(time, c => c.Time);

        Assert.Equal(expected, layout.GetPartitionPath(new Click(Clicks.Start, "x", 1, null, null), Arrival));
    }

    [Fact]
    public void GetPartitionPath_PlainWithTwoFields_BareValuesInOrder()
    {
        var layout = KeyLayout<Click>.Plain(TimePartitioning.Day, c => c.Time)
            .PartitionBy("page", c => c.Page)
            .PartitionBy("ref", c => c.Referrer);

        Assert.Equal("home/__HIVE_DEFAULT_PARTITION__/2024/05/01/", layout.GetPartitionPath(new Click(Clicks.Start, "home", 1, null, null), Arrival));
    }

    [Theory]
    [InlineData("product/42", "product%2F42")]
    [InlineData("a=b", "a%3Db")]
    [InlineData("50%", "50%25")]
    [InlineData("10:30", "10%3A30")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("plain value-1.2_x", "plain value-1.2_x")]
    [InlineData("", "__HIVE_DEFAULT_PARTITION__")]
    [InlineData(null, "__HIVE_DEFAULT_PARTITION__")]
    public void EscapeValue_Value_EscapedAsHiveDoes(string? value, string expected)
    {
        Assert.Equal(expected, KeyLayout<Click>.EscapeValue(value));
    }

    [Theory]
    [InlineData("Page")]
    [InlineData("1page")]
    [InlineData("pa-ge")]
    public void PartitionBy_InvalidColumnName_Throws(string column)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => KeyLayout<Click>.Hive().PartitionBy(column, c => c.Page));

        Assert.Contains("lower-case letters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PartitionBy_NameOfTimeColumn_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => KeyLayout<Click>.Hive().PartitionBy("year", c => c.Page));

        Assert.Contains("already part of the layout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildColumns_HiveHour_IntegerProjectionsWithPadding()
    {
        var columns = KeyLayout<Click>.Hive().PartitionBy("page", c => c.Page).BuildColumns(2021);

        Assert.Equal(["page", "year", "month", "day", "hour"], columns.Select(c => c.Name));
        Assert.Equal(["string", "int", "int", "int", "int"], columns.Select(c => c.AthenaType));
        var properties = columns.SelectMany(c => c.Projection.ToProperties(c.Name)).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("injected", properties["projection.page.type"]);
        Assert.Equal("2021,2099", properties["projection.year.range"]);
        Assert.Equal("1,12", properties["projection.month.range"]);
        Assert.Equal("2", properties["projection.hour.digits"]);
        Assert.Equal("hour=${hour}", columns[^1].LocationSegment);
    }

    [Fact]
    public void BuildColumns_FirehoseDefault_OneDateHourColumnWithDateProjection()
    {
        var column = Assert.Single(KeyLayout<Click>.FirehoseDefault().BuildColumns(2024));

        Assert.Equal("datehour", column.Name);
        var properties = column.Projection.ToProperties(column.Name).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("date", properties["projection.datehour.type"]);
        Assert.Equal("yyyy/MM/dd/HH", properties["projection.datehour.format"]);
        Assert.Equal("2024/01/01/00,NOW", properties["projection.datehour.range"]);
        Assert.Equal("HOURS", properties["projection.datehour.interval.unit"]);
    }
}
