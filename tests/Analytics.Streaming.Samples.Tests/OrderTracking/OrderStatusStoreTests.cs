using Amazon.Runtime;
using Analytics.Streaming.Samples.OrderTracking;
using Analytics.Streaming.Samples.OrderTracking.Orders;
using Analytics.Streaming.Samples.OrderTracking.Processing;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Samples.Tests.OrderTracking;

/// <summary>The status table's rules, the same for the in-memory store and DynamoDB (dynalite): versions only move forward, and the confirmation claim.</summary>
public sealed class OrderStatusStoreTests(DynaliteServer dynalite)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Stores => ["memory", "dynamodb"];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Apply_KeepsTheHighestVersion_IgnoringEqualAndLower(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await CreateAsync(kind, ct);
        Assert.True(await store.ApplyAsync(Event("a", 3, OrderStatus.Shipped), ct));
        Assert.False(await store.ApplyAsync(Event("a", 1, OrderStatus.Placed), ct));
        Assert.False(await store.ApplyAsync(Event("a", 3, OrderStatus.Shipped), ct));
        Assert.False(await store.ApplyAsync(Event("a", 2, OrderStatus.Confirmed), ct));
        var stored = await store.GetAsync("a", ct);
        Assert.Equal((OrderStatus.Shipped, 3L), (stored!.Status, stored.Version));
        Assert.True(await store.ApplyAsync(Event("a", 4, OrderStatus.Delivered), ct));
        Assert.Equal(OrderStatus.Delivered, (await store.GetAsync("a", ct))!.Status);
        Assert.Equal(9m, (await store.GetAsync("a", ct))!.Amount);
        Assert.Null(await store.GetAsync("unknown", ct));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Claim_IsExclusiveUntilSentOrExpired_AndAnOwnerTakesItsOwnClaimOver(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await CreateAsync(kind, ct);
        await store.ApplyAsync(Event("b", 1, OrderStatus.Placed), ct);
        var lease = TimeSpan.FromMinutes(2);

        Assert.Equal(ConfirmationClaim.Claimed, await store.TryClaimConfirmationAsync("b", "w1", "m", Now, Now + lease, ct));
        Assert.Equal(ConfirmationClaim.HeldByOther, await store.TryClaimConfirmationAsync("b", "w2", "m", Now.AddSeconds(1), Now.AddSeconds(1) + lease, ct));

        // w1 restarted before marking the send: it takes its own claim over at once (at least once, same Message-Id).
        Assert.Equal(ConfirmationClaim.Claimed, await store.TryClaimConfirmationAsync("b", "w1", "m", Now.AddSeconds(2), Now.AddSeconds(2) + lease, ct));

        // After the lease another consumer may take it.
        var later = Now.AddSeconds(2) + lease + TimeSpan.FromSeconds(1);
        Assert.Equal(ConfirmationClaim.Claimed, await store.TryClaimConfirmationAsync("b", "w2", "m", later, later + lease, ct));

        // A mark by a consumer that lost the claim does nothing; the owner's mark makes it final for everyone.
        await store.MarkConfirmationSentAsync("b", "w1", later, ct);
        Assert.Null((await store.GetAsync("b", ct))!.ConfirmationSentAt);
        await store.MarkConfirmationSentAsync("b", "w2", later, ct);
        Assert.NotNull((await store.GetAsync("b", ct))!.ConfirmationSentAt);
        Assert.Equal(ConfirmationClaim.AlreadySent, await store.TryClaimConfirmationAsync("b", "w2", "m", later, later + lease, ct));
        Assert.Equal(ConfirmationClaim.AlreadySent, await store.TryClaimConfirmationAsync("b", "w3", "m", later.AddHours(1), later.AddHours(2), ct));

        // Status updates leave the claim alone.
        Assert.True(await store.ApplyAsync(Event("b", 2, OrderStatus.Confirmed), ct));
        Assert.NotNull((await store.GetAsync("b", ct))!.ConfirmationSentAt);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Release_AfterAFailedSend_LetsAnotherConsumerClaimAtOnce(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = await CreateAsync(kind, ct);
        await store.ApplyAsync(Event("c", 1, OrderStatus.Placed), ct);
        Assert.Equal(ConfirmationClaim.Claimed, await store.TryClaimConfirmationAsync("c", "w1", "m", Now, Now.AddMinutes(2), ct));
        await store.ReleaseConfirmationClaimAsync("c", "w1", ct);
        Assert.Equal(ConfirmationClaim.Claimed, await store.TryClaimConfirmationAsync("c", "w2", "m", Now, Now.AddMinutes(2), ct));
    }

    private static OrderEvent Event(string id, long version, OrderStatus status) =>
        new(id, "cust", "x@example.com", version, status, Now.AddSeconds(version), [new OrderItem("tea", 2, 4.5m)], 9m);

    private async Task<IOrderStatusStore> CreateAsync(string kind, CancellationToken ct)
    {
        IOrderStatusStore store = kind == "memory"
            ? new InMemoryOrderStatusStore()
            : new DynamoDbOrderStatusStore(
                new DynamoDbOptions { TableName = DynaliteServer.NewTableName("order-status"), ServiceUrl = dynalite.Endpoint },
                TimeProvider.System,
                new BasicAWSCredentials("AKIDTEST", "secret"));
        await store.InitializeAsync(ct);
        return store;
    }
}
