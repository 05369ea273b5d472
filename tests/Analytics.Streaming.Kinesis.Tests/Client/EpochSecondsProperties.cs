using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Kinesis.Tests.Client;

/// <summary>
/// Arrival timestamps in the form Kinesis writes them are read from their text without a <see cref="double"/>; the
/// result must be what the double gives, to the millisecond, and any other form must take the double's way.
/// </summary>
public sealed class EpochSecondsProperties
{
    public static class Inputs
    {
        /// <summary>
        /// Epoch seconds up to the year 9999 with 0 to 3 decimals, written plainly (<c>1441215410.867</c>, as emulators
        /// do) or in scientific notation (<c>1.441215410867E9</c>, as Kinesis does).
        /// </summary>
        public static Arbitrary<string> Texts() =>
            (from thousands in Gen.Choose(0, 253_402_299)
             from units in Gen.Choose(0, 999)
             from digits in Gen.Choose(1, 12)
             from decimals in Gen.Choose(0, 3)
             from fraction in Gen.Choose(0, 999)
             from scientific in Gen.Elements(false, true)
             let seconds = (((thousands * 1000L) + units) % (long)Math.Pow(10, digits)).ToString(CultureInfo.InvariantCulture)
             let decimalPart = decimals == 0 ? string.Empty : (fraction % (int)Math.Pow(10, decimals)).ToString(CultureInfo.InvariantCulture).PadLeft(decimals, '0')
             select scientific && seconds != "0"
                 ? $"{seconds[0]}.{(seconds[1..] + decimalPart).PadRight(1, '0')}E{seconds.Length - 1}"
                 : decimals == 0 ? seconds : $"{seconds}.{decimalPart}")
            .ToArbitrary();
    }

    [Property(MaxTest = 2_000, Arbitrary = [typeof(Inputs)])]
    public bool TryParseEpochMilliseconds_KinesisForm_GivesWhatTheDoubleGives(string text)
    {
        long expected = JsonReading.FromEpochSeconds(double.Parse(text, CultureInfo.InvariantCulture)).ToUnixTimeMilliseconds();

        return JsonReading.TryParseEpochMilliseconds(Encoding.ASCII.GetBytes(text), out long milliseconds) && milliseconds == expected;
    }

    [Theory]
    [InlineData("1.4412154108675E9")]
    [InlineData("1441215410.8675")]
    [InlineData("14412154108675e-4")]
    [InlineData("-1.5")]
    [InlineData("1234567890123")]
    [InlineData("1.0E13")]
    [InlineData("12345678901234567890")]
    [InlineData("1441215410.")]
    [InlineData(".5")]
    [InlineData("1e")]
    [InlineData("")]
    public void TryParseEpochMilliseconds_OtherForms_AreLeftToTheDouble(string text)
        => Assert.False(JsonReading.TryParseEpochMilliseconds(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("{\"t\":1441215410.867}", 1_441_215_410_867)]
    [InlineData("{\"t\":1441215410.8675}", 1_441_215_410_868)]
    [InlineData("{\"t\":1.441215410867E9}", 1_441_215_410_867)]
    [InlineData("{\"t\":1441215410}", 1_441_215_410_000)]
    [InlineData("{\"t\":1.4412154105E9}", 1_441_215_410_500)]
    [InlineData("{\"t\":14412154108670e-4}", 1_441_215_410_867)]
    [InlineData("{\"t\":1.4412154108675E9}", 1_441_215_410_868)]
    [InlineData("{\"t\":0.001}", 1)]
    public void Timestamp_EitherWay_ReadsTheMillisecond(string json, long milliseconds)
    {
        var reader = new System.Text.Json.Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        JsonReading.ExpectStartObject(ref reader);
        Assert.True(JsonReading.NextProperty(ref reader));

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds), JsonReading.Timestamp(ref reader));
    }
}
