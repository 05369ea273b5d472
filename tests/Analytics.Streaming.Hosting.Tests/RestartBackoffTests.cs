namespace Analytics.Streaming.Hosting.Tests;

public sealed class RestartBackoffTests
{
    [Fact]
    public void Ceiling_FailuresInARow_DoublesFromBaseDelayUpToMaxDelay()
    {
        var options = new StreamPipelineRestartOptions();
        double[] seconds = [.. Enumerable.Range(1, 9).Select(n => RestartBackoff.Ceiling(options, n).TotalSeconds)];
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60], seconds);
        Assert.Equal(TimeSpan.FromMinutes(1), RestartBackoff.Ceiling(options, int.MaxValue));
    }

    [Theory]
    [InlineData(1, 0.0, 500)]
    [InlineData(1, 0.999999, 999)]
    [InlineData(3, 0.0, 2000)]
    [InlineData(3, 0.5, 3000)]
    [InlineData(30, 0.0, 30000)]
    [InlineData(30, 1.0, 60000)]
    public void Delay_Jitter_StaysBetweenHalfTheCeilingAndTheCeiling(int failuresInARow, double jitter, double milliseconds)
    {
        var delay = RestartBackoff.Delay(new StreamPipelineRestartOptions(), failuresInARow, jitter);
        Assert.Equal(milliseconds, Math.Floor(delay.TotalMilliseconds));
    }
}
