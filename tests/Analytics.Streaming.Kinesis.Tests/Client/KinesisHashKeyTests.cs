using System.Numerics;
using FsCheck.Xunit;

namespace Analytics.Streaming.Kinesis.Tests.Client;

public sealed class KinesisHashKeyTests
{
    [Fact]
    public void FromPartitionKey_KnownKey_IsMd5ReadBigEndian()
    {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
        var expected = BigInteger.Parse("16955237001963240173058271559858726497", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), KinesisHashKey.Format(KinesisHashKey.FromPartitionKey("a")));
    }

    [Fact]
    public void Parse_MaximumValue_RoundTrips()
    {
        const string max = "340282366920938463463374607431768211455";
        Assert.Equal(UInt128.MaxValue, KinesisHashKey.Parse(max));
        Assert.Equal(max, KinesisHashKey.Format(UInt128.MaxValue));
    }

    [Theory]
    [InlineData("340282366920938463463374607431768211456")]
    [InlineData("-1")]
    [InlineData("12a")]
    [InlineData("")]
    public void TryParse_Invalid_ReturnsFalse(string text) => Assert.False(KinesisHashKey.TryParse(text, out _));

    [Fact]
    public void HashKeyRange_Contains_IsInclusive()
    {
        var range = new KinesisHashKeyRange(10, 20);
        Assert.True(range.Contains(10));
        Assert.True(range.Contains(20));
        Assert.False(range.Contains(21));
        Assert.False(range.Contains(9));
    }

    [Property(MaxTest = 500)]
    public bool FormatThenParse_AnyHashKey_RoundTrips(ulong upper, ulong lower)
    {
        var key = new UInt128(upper, lower);
        string text = KinesisHashKey.Format(key);

        return KinesisHashKey.Parse(text) == key && text == ((BigInteger)key).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Property(MaxTest = 300)]
    public bool FromPartitionKey_AnyKey_IsTheMd5OfItsUtf8ReadAsAnUnsignedBigEndianNumber(FsCheck.NonEmptyString key)
    {
        byte[] digest = System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(key.Get));
        var expected = new BigInteger(digest, isUnsigned: true, isBigEndian: true);

        return (BigInteger)KinesisHashKey.FromPartitionKey(key.Get) == expected;
    }
}
