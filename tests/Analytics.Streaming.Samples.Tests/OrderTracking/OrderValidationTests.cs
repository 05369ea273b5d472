using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.Samples.Tests.OrderTracking;

/// <summary>The service on its embedded defaults (in-process stream, in-memory table, pickup folder), started once for the class.</summary>
public sealed class OrderTrackingEmbeddedFixture : IAsyncLifetime
{
    public string Data { get; } = Directory.CreateTempSubdirectory("order-tracking-embedded-").FullName;

    public OrderTrackingHost Host { get; private set; } = null!;

    public string MailFolder => Path.Combine(Data, "mail");

    public async ValueTask InitializeAsync() =>
        Host = await OrderTrackingHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Email:PickupFolder"] = MailFolder,
                ["Lake:Folder"] = Path.Combine(Data, "lake"),
                ["Lake:FlushInterval"] = "00:00:01",
            },
            TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(Data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Invalid orders get clear refusals (RFC 9457 problems naming the fields at fault); nothing crashes on garbage.</summary>
public sealed class OrderValidationTests(OrderTrackingEmbeddedFixture fixture) : IClassFixture<OrderTrackingEmbeddedFixture>
{
    private const string ValidItems = "[{\"sku\":\"tea\",\"quantity\":2,\"unitPrice\":4.5}]";

    public static TheoryData<string, string> InvalidOrders => new()
    {
        { "{\"email\":\"a@example.com\",\"items\":" + ValidItems + "}", "customerId" },
        { "{\"customerId\":\"c-1\",\"items\":" + ValidItems + "}", "email" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\"}", "items" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":[]}", "items" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":[{\"sku\":\"tea\",\"quantity\":1,\"unitPrice\":-4.5}]}", "items[0].unitPrice" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":" + ValidItems + ",\"amount\":-9}", "amount" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":" + ValidItems + ",\"amount\":10}", "amount" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":[{\"sku\":\"tea\",\"quantity\":0,\"unitPrice\":1}]}", "items[0].quantity" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":[{\"sku\":\"tea\",\"quantity\":1.5,\"unitPrice\":1}]}", "items[0].quantity" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":[{\"quantity\":1,\"unitPrice\":1}]}", "items[0].sku" },
        { "{\"customerId\":\"c-1\",\"email\":\"not an address\",\"items\":" + ValidItems + "}", "email" },
        { "{\"customerId\":\"c 1/../x\",\"email\":\"a@example.com\",\"items\":" + ValidItems + "}", "customerId" },
        { "{\"customerId\":42,\"email\":\"a@example.com\",\"items\":" + ValidItems + "}", "customerId" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":" + ValidItems + ",\"discount\":100}", "discount" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":[{\"sku\":\"tea\",\"quantity\":1,\"unitPrice\":1e400}]}", "items[0].unitPrice" },
        { "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":" + ValidItems, "$" },
        { "{\"customerId\":\"c-1\",}", "$" },
        { "not json at all", "$" },
        { "[1,2,3]", "$" },
        { "\"just a string\"", "$" },
        { "", "$" },
        { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "$" },
    };

    [Theory]
    [MemberData(nameof(InvalidOrders))]
    public async Task PlaceOrder_Invalid_Returns400NamingTheField(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await fixture.Host.Client.PostAsync(new Uri("orders", UriKind.Relative), content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var reasons), problem.ToString());
        Assert.False(string.IsNullOrWhiteSpace(reasons[0].GetString()));
    }

    [Fact]
    public async Task PlaceOrder_BinaryGarbage_Returns400()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        using var response = await fixture.Host.Client.PostAsync(new Uri("orders", UriKind.Relative), content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task PlaceOrder_OversizedBody_Returns413WithTheLimit()
    {
        string body = "{\"customerId\":\"c-1\",\"email\":\"a@example.com\",\"items\":" + ValidItems + ",\"pad\":\"" + new string('x', 70_000) + "\"}";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await fixture.Host.Client.PostAsync(new Uri("orders", UriKind.Relative), content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Contains("65536", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlaceOrder_TooManyItems_Returns400()
    {
        var items = Enumerable.Range(0, 101).Select(i => new { sku = $"s{i}", quantity = 1, unitPrice = 1 });
        using var response = await fixture.Host.Client.PostAsJsonAsync("orders", new { customerId = "c-1", email = "a@example.com", items }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task PlaceOrder_NotJson_Returns415()
    {
        using var content = new StringContent("customerId=c-1", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await fixture.Host.Client.PostAsync(new Uri("orders", UriKind.Relative), content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task ChangeStatus_Invalid_IsRefusedWithTheReason()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = fixture.Host.Client;
        string orderId = $"v-{Guid.NewGuid():N}";
        using (var placed = await client.PostAsJsonAsync("orders", new { orderId, customerId = "c-9", email = "b@example.com", items = new[] { new { sku = "tea", quantity = 1, unitPrice = 3 } } }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        }

        using (var unknown = await client.PostAsJsonAsync($"orders/{orderId}/status", new { status = "Teleported" }, ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        }

        using (var skip = await client.PostAsJsonAsync($"orders/{orderId}/status", new { status = "Delivered" }, ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, skip.StatusCode);
            var problem = await skip.Content.ReadFromJsonAsync<JsonElement>(ct);
            Assert.Contains("Placed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var missing = await client.PostAsJsonAsync("orders/no-such-order/status", new { status = "Confirmed" }, ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var badId = await client.GetAsync(new Uri("orders/" + Uri.EscapeDataString("bad id!"), UriKind.Relative), ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        }
    }

    [Fact]
    public async Task PlaceOrder_Valid_IsStoredAndConfirmedOnce_EvenWhenPlacedAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = fixture.Host.Client;
        string orderId = $"ok-{Guid.NewGuid():N}";
        var order = new { orderId, customerId = "c-7", email = "carol@example.com", items = new[] { new { sku = "tea", quantity = 2, unitPrice = 4.5 } } };
        using (var placed = await client.PostAsJsonAsync("orders", order, ct))
        {
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
            var accepted = await placed.Content.ReadFromJsonAsync<JsonElement>(ct);
            Assert.Equal(9m, accepted.GetProperty("amount").GetDecimal());
        }

        using (var again = await client.PostAsJsonAsync("orders", order, ct))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        using (var confirmed = await client.PostAsJsonAsync($"orders/{orderId}/status", new { status = "Confirmed" }, ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, confirmed.StatusCode);
        }

        string file = Path.Combine(fixture.MailFolder, $"order-{orderId}.confirmation@orders.shop.example.eml");
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        JsonElement view;
        while (true)
        {
            view = await client.GetFromJsonAsync<JsonElement>(new Uri($"orders/{orderId}", UriKind.Relative), ct);
            if (view.GetProperty("status").GetString() == "Confirmed" && view.GetProperty("confirmationSentAt").ValueKind == JsonValueKind.String && File.Exists(file))
            {
                break;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"order not stored and confirmed in time: {view}");
            await Task.Delay(50, ct);
        }

        Assert.Equal(2, view.GetProperty("version").GetInt64());
        Assert.Single(Directory.GetFiles(fixture.MailFolder, $"order-{orderId}*"));
        Assert.Contains("carol@example.com", await File.ReadAllTextAsync(file, ct), StringComparison.Ordinal);
    }
}
