using System.Buffers;
using System.Text;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Tests.Checkpoints;

/// <summary>Strings in saved state: any .NET string (lone surrogates included) comes back as it was, and text is plain UTF-8.</summary>
public sealed class StringStateTests
{
    [Property(MaxTest = 500)]
    public void StringCodec_AnyCodeUnits_RoundTripAndTextIsPlainUtf8(char[] units)
    {
        string value = new(units);
        var buffer = new ArrayBufferWriter<byte>();
        StateCodec.String.Write(buffer, value);
        ReadOnlySpan<byte> bytes = buffer.WrittenSpan;

        Assert.Equal(value, StateCodec.String.Read(ref bytes));
        Assert.Equal(0, bytes.Length);
        bool isText = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value)) == value;
        if (isText)
        {
            Assert.EndsWith(Convert.ToHexString(Encoding.UTF8.GetBytes(value)), Convert.ToHexString(buffer.WrittenSpan), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StringCodec_LoneSurrogates_AreTheThreeBytesOfTheirCodePoint()
    {
        // Built here: test data strings with lone surrogates would not survive the runner's serialization.
        (string Value, string Hex)[] cases = [("\uD83D", "EDA0BD"), ("a\uDE00b", "61EDB88062"), ("\uD83D\uDE00", "F09F9880"), ("\uDE00\uD83D", "EDB880EDA0BD")];
        foreach (var (value, hex) in cases)
        {
            var buffer = new ArrayBufferWriter<byte>();
            StateCodec.String.Write(buffer, value);

            Assert.Equal(hex, Convert.ToHexString(buffer.WrittenSpan[1..]));
        }
    }

    [Theory]
    [InlineData("FF")]
    [InlineData("EDA0")]
    [InlineData("C0AF")]
    public void StringCodec_BytesThatAreNotUtf8_AreAFormatError(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        ReadOnlySpan<byte> state = [(byte)(bytes.Length + 1), .. bytes];

        try
        {
            StateCodec.String.Read(ref state);
            Assert.Fail("Read accepted bytes that are not UTF-8.");
        }
        catch (FormatException ex)
        {
            Assert.Contains("not valid UTF-8", ex.Message, StringComparison.Ordinal);
        }
    }
}
