using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Emulators;

public sealed class KinesisEmulatorAdminTests(KinesaliteServer kinesalite, KinesisLocalServer kinesisLocal)
{
    [Fact]
    public async Task SplitShardInHalf_OnKinesalite_ClosesParentAndListsTwoChildren()
    {
        string stream = KinesaliteServer.NewStreamName("admin-split");
        await kinesalite.Admin.CreateStreamAsync(stream, 1, TestContext.Current.CancellationToken);

        await kinesalite.Admin.SplitShardInHalfAsync(stream, "shardId-000000000000", TestContext.Current.CancellationToken);

        var shards = await kinesalite.Admin.ListShardsAsync(stream, TestContext.Current.CancellationToken);
        Assert.Equal(3, shards.Count);
        Assert.True(shards[0].IsClosed);
        Assert.All(shards.Skip(1), s => Assert.Equal("shardId-000000000000", s.ParentShardId));
    }

    [Fact]
    public async Task CreateStream_OnKinesisLocal_ListsOpenShardsOnLoopback()
    {
        string stream = KinesaliteServer.NewStreamName("admin-local");
        await kinesisLocal.Admin.CreateStreamAsync(stream, 2, TestContext.Current.CancellationToken);

        var shards = await kinesisLocal.Admin.ListShardsAsync(stream, TestContext.Current.CancellationToken);

        Assert.Equal("127.0.0.1", kinesisLocal.Endpoint.Host);
        Assert.Equal(2, shards.Count);
        Assert.All(shards, s => Assert.False(s.IsClosed));
    }
}
