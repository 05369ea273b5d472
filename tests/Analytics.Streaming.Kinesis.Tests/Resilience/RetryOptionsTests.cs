namespace Analytics.Streaming.Kinesis.Tests.Resilience;

public sealed class RetryOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnesAndValid()
    {
        var options = new RetryOptions();

        options.Validate();

        Assert.Equal(20, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), options.MaxDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), options.MaxElapsed);
    }

    [Theory]
    [InlineData(0, 200, 20_000, 120, "MaxAttempts")]
    [InlineData(5, -1, 20_000, 120, "BaseDelay")]
    [InlineData(5, 500, 100, 120, "MaxDelay")]
    [InlineData(5, 200, 20_000, 0, "MaxElapsed")]
    public void Validate_OutOfRange_NamesTheSettingUnderItsPath(int attempts, int baseMs, int maxMs, int elapsedSeconds, string setting)
    {
        var options = new RetryOptions
        {
            MaxAttempts = attempts,
            BaseDelay = TimeSpan.FromMilliseconds(baseMs),
            MaxDelay = TimeSpan.FromMilliseconds(maxMs),
            MaxElapsed = TimeSpan.FromSeconds(elapsedSeconds),
        };

        var error = Assert.Throws<ArgumentException>(() => options.Validate("KinesisClientOptions.Retry"));

        Assert.StartsWith($"KinesisClientOptions.Retry.{setting} ", error.Message, StringComparison.Ordinal);
        Assert.Equal(setting, error.ParamName);
    }
}
