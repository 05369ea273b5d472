namespace Analytics.Streaming.Kinesis.Tests.Consumer;

public sealed class ShardReaderBaseTests
{
    [Theory]
    [InlineData(0, 50, 100)]
    [InlineData(1, 50, 200)]
    [InlineData(3, 50, 800)]
    [InlineData(30, 50, 1000)]
    public void BackOffDelay_FailuresInARow_StaysBetweenHalfBaseAndExponentialCeiling(int failures, double minMs, double maxMs)
    {
        var options = new KinesisConsumerOptions
        {
            StreamName = "s",
            RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            RetryMaxDelay = TimeSpan.FromSeconds(1),
        };

        for (int i = 0; i < 200; i++)
        {
            var delay = ShardReaderBase.BackOffDelay(options, failures);

            Assert.InRange(delay.TotalMilliseconds, minMs, maxMs);
        }
    }

    [Theory]
    [InlineData("ProvisionedThroughputExceededException", 400, true)]
    [InlineData("InternalFailure", 500, true)]
    [InlineData("ResourceNotFoundException", 400, false)]
    [InlineData("AccessDeniedException", 400, false)]
    public void IsTransient_KinesisErrors_RetriesOnlyThrottlingAndServerFailures(string code, int status, bool expected)
    {
        var error = new KinesisException("test", code, (System.Net.HttpStatusCode)status, requestId: null);

        Assert.Equal(expected, ShardReaderBase.IsTransient(error, CancellationToken.None));
    }

    [Fact]
    public void IsTransient_CancellationRequestedByCaller_IsNotRetried()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.False(ShardReaderBase.IsTransient(new OperationCanceledException(cancelled.Token), cancelled.Token));
        Assert.True(ShardReaderBase.IsTransient(new TaskCanceledException("HTTP timeout"), CancellationToken.None));
    }
}
