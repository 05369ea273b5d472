namespace Analytics.Streaming.Testing.Tests;

public sealed class CollectingSinkTests
{
    [Fact]
    public async Task FlushedItems_OnlyIncludeWhatAFlushCovered()
    {
        await using var sink = new CollectingSink<int>();

        await sink.WriteAsync(new[] { 1, 2 }, TestContext.Current.CancellationToken);
        await sink.FlushAsync(TestContext.Current.CancellationToken);
        await sink.WriteAsync(new[] { 3 }, TestContext.Current.CancellationToken);

        Assert.Equal([1, 2, 3], sink.Items);
        Assert.Equal([1, 2], sink.FlushedItems);
        Assert.Equal(1, sink.FlushCount);
    }
}
