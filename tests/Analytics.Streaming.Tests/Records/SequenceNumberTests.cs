namespace Analytics.Streaming.Tests.Records;

public sealed class SequenceNumberTests
{
    [Fact]
    public void Parse_KinesisSequenceNumbers_CompareNumerically()
    {
        var small = SequenceNumber.Parse("49590338271490256608559692538361571095921575989136588898");
        var large = SequenceNumber.Parse("49590338271490256608559692540925702759324208523137515618");
        var shorter = SequenceNumber.Parse("9999999999999999999999");

        Assert.True(small < large);
        Assert.True(shorter < small);
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", small.ToString());
        Assert.False(small.IsInt64);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("007", 7L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Parse_ValuesThatFit_AreStoredAsInt64(string text, long expected)
    {
        var number = SequenceNumber.Parse(text);

        Assert.True(number.IsInt64);
        Assert.Equal(expected, number.ToInt64());
        Assert.Equal(SequenceNumber.FromInt64(expected), number);
    }

    [Fact]
    public void Parse_JustAboveInt64_KeepsTextAndSortsAfterEveryInt64()
    {
        var above = SequenceNumber.Parse("9223372036854775808");

        Assert.False(above.IsInt64);
        Assert.True(SequenceNumber.FromInt64(long.MaxValue) < above);
        Assert.Throws<OverflowException>(() => above.ToInt64());
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("12a")]
    [InlineData(" 1")]
    public void Parse_NotDigits_ThrowsWithTheText(string text)
    {
        var error = Assert.Throws<FormatException>(() => SequenceNumber.Parse(text));
        Assert.Contains("decimal digits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StreamPosition_OrdersBySequenceThenSubSequence()
    {
        var a = new StreamPosition("s", SequenceNumber.FromInt64(5), 1);
        var b = new StreamPosition("s", SequenceNumber.FromInt64(5), 2);
        var c = new StreamPosition("s", SequenceNumber.FromInt64(6));

        Assert.True(a < b && b < c);
        Assert.Equal("s/5/1", a.ToString());
    }
}
