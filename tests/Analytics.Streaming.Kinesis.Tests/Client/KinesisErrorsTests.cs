using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Kinesis.Tests.Client;

public sealed class KinesisErrorsTests
{
    [Theory]
    [InlineData("ProvisionedThroughputExceededException", 400, true)]
    [InlineData("InternalFailure", 500, true)]
    [InlineData("ResourceNotFoundException", 400, false)]
    [InlineData("AccessDeniedException", 400, false)]
    [InlineData("ExpiredIteratorException", 400, false)]
    public void IsTransient_KinesisErrors_RetriesOnlyThrottlingAndServerFailures(string code, int status, bool expected)
    {
        var error = new KinesisException("test", code, (System.Net.HttpStatusCode)status, requestId: null);

        Assert.Equal(expected, KinesisErrors.IsTransient(error));
    }

    [Fact]
    public void IsTransientOrInUse_ResourceInUse_IsRetriedOnlyWhereAsked()
    {
        var inUse = new KinesisResourceInUseException("stream CREATING");

        Assert.False(KinesisErrors.IsTransient(inUse));
        Assert.True(KinesisErrors.IsTransientOrInUse(inUse));
    }

    [Fact]
    public async Task Retry_TimeoutVersusCancellationByTheCaller_RetriesOnlyTheTimeout()
    {
        var options = new KinesisConsumerOptions { StreamName = "s", Retry = { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero } };
        var pipeline = RetryPipelineFactory.Create(options.Retry, new FakeTimeProvider(), KinesisErrors.IsTransient);
        int timeouts = 0, cancelled = 0;
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        await Assert.ThrowsAsync<TaskCanceledException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            timeouts++;
            throw new TaskCanceledException("HTTP timeout");
        }, caller.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pipeline.ExecuteAsync(token =>
        {
            cancelled++;
            caller.Cancel();
            token.ThrowIfCancellationRequested();
            return ValueTask.CompletedTask;
        }, caller.Token));

        Assert.Equal(3, timeouts);
        Assert.Equal(1, cancelled);
    }
}
