using System.Net.Http.Json;
using System.Text.Json;
using Amazon.Runtime;
using Analytics.Streaming.Samples.OrderTracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Samples.Tests.OrderTracking;

/// <summary>
/// The order-tracking service started by its own builder on 127.0.0.1 (a port the OS picks), with the given
/// configuration, test AWS credentials, and no start-up lines; stopped and disposed at the end.
/// </summary>
public sealed class OrderTrackingHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OrderTrackingHost(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    /// <summary>Gets a client whose base address is the service.</summary>
    public HttpClient Client { get; }

    public static async Task<OrderTrackingHost> StartAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var args = new List<string> { "--urls=http://127.0.0.1:0", "--PrintStartup=false" };
        args.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
        var app = OrderTrackingApp.Build(args.ToArray(), services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTEST", "secret")));
        await app.StartAsync(cancellationToken);
        var client = new HttpClient { BaseAddress = new Uri(OrderTrackingApp.Address(app) + "/"), Timeout = TimeSpan.FromSeconds(60) };
        return new OrderTrackingHost(app, client);
    }

    /// <summary>The live snapshot (<c>/api/live</c>).</summary>
    public async Task<JsonElement> LiveAsync(CancellationToken cancellationToken) =>
        await Client.GetFromJsonAsync<JsonElement>(new Uri("api/live", UriKind.Relative), cancellationToken);

    /// <summary>Polls the live snapshot until <paramref name="condition"/> holds; a slow machine only makes it slower.</summary>
    public async Task<JsonElement> WaitForLiveAsync(Func<JsonElement, bool> condition, string what, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var live = await LiveAsync(cancellationToken);
            if (condition(live))
            {
                return live;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}; last snapshot: {live}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
