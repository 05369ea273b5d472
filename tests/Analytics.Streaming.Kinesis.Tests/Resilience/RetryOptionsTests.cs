using FsCheck.Xunit;

namespace Analytics.Streaming.Kinesis.Tests.Resilience;

public sealed class RetryOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnesAndValid()
    {
        var options = new RetryOptions();

        options.Validate();

        Assert.Equal(40, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), options.MaxDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), options.MaxElapsed);
    }

    [Property(MaxTest = 20)]
    public bool Defaults_WaitsBetweenAllAttempts_OutlastAMinuteLongOutage(int seed)
    {
        // The 39 full-jitter waits of the default policy, drawn with any seed, add up to more than a minute.
        var options = new RetryOptions();
        var random = new Random(seed);
        double total = 0;
        for (int failed = 1; failed < options.MaxAttempts; failed++)
        {
            total += Analytics.Streaming.Resilience.RetryPipelineFactory.Delay(options.BaseDelay, options.MaxDelay, failed, random.NextDouble()).TotalSeconds;
        }

        return total > 60;
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
