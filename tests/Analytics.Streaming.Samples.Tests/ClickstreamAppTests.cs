using System.Text.RegularExpressions;
using Analytics.Streaming.Samples.Clickstream;

namespace Analytics.Streaming.Samples.Tests;

public sealed partial class ClickstreamAppTests
{
    [Fact]
    public async Task RunAsync_ForADuration_PrintsWindowsAndAccountsForEveryPageView()
    {
        using var output = new StringWriter();

        await ClickstreamApp.RunAsync(new ClickstreamOptions(TimeSpan.FromSeconds(2), 1_000), output, TimeProvider.System, TestContext.Current.CancellationToken);

        string text = output.ToString();
        Assert.Contains("top pages", text, StringComparison.Ordinal);
        Assert.Contains("minute closed", text, StringComparison.Ordinal);
        var done = DoneLine().Match(text);
        Assert.True(done.Success, text);
        long read = long.Parse(done.Groups["read"].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        long accepted = long.Parse(done.Groups["accepted"].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(read > 0);
        Assert.Equal(read, accepted);
        Assert.Equal("0", done.Groups["dead"].Value);
    }

    [Theory]
    [InlineData(new[] { "--duration", "30s" }, 30)]
    [InlineData(new[] { "--duration", "00:01:00", "--rate", "10" }, 60)]
    public void Parse_Duration_AcceptsSecondsAndTimeSpans(string[] args, int seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), ClickstreamOptions.Parse(args).Duration);

    [Fact]
    public void Parse_UnknownOption_SaysWhichOptionsExist()
        => Assert.Contains("--duration", Assert.Throws<ArgumentException>(() => ClickstreamOptions.Parse(["--fast"])).Message, StringComparison.Ordinal);

    [GeneratedRegex(@"Done: (?<read>[\d,]+) page views read, (?<accepted>[\d,]+) in windows, (?<late>[\d,]+) late, (?<dead>[\d,]+) dead letters")]
    private static partial Regex DoneLine();
}
