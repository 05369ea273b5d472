using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>
/// The web-analytics service in process, on its embedded stream, with the generated traffic off (so every count
/// comes from the test's own beacons), the lake off unless a test turns it on, and a known password.
/// </summary>
public sealed partial class WebAnalyticsFactory(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) : WebApplicationFactory<Program>
{
    public const string User = "analyst";
    public const string Password = "correct horse battery staple";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("PrintStartup", "false");
        builder.UseSetting("Generators:ShopPerSecond", "0");
        builder.UseSetting("Generators:MenuPerSecond", "0");
        builder.UseSetting("Lake:Enabled", "false");
        builder.UseSetting("Dashboard:User", User);
        builder.UseSetting("Dashboard:Password", Password);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
    }

    /// <summary>A client that keeps cookies and does not follow redirects.</summary>
    public HttpClient CreateBrowserlikeClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Signs a client in through the form (anti-forgery token included).</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string user = User, string password = Password, string returnUrl = "/", CancellationToken cancellationToken = default)
    {
        string form = await client.GetStringAsync(new Uri("/signin", UriKind.Relative), cancellationToken);
        string token = AntiforgeryField().Match(form).Groups["token"].Value;
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            ["user"] = user,
            ["password"] = password,
            ["returnUrl"] = returnUrl,
        });
        return await client.PostAsync(new Uri("/signin", UriKind.Relative), content, cancellationToken);
    }

    /// <summary>The dashboard's current snapshot.</summary>
    public static async Task<JsonElement> MetricsAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(new Uri("/api/metrics", UriKind.Relative), cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    /// <summary>Polls the snapshot until <paramref name="condition"/> holds; a slow machine only makes it slower.</summary>
    public static async Task<JsonElement> WaitForMetricsAsync(HttpClient client, Func<JsonElement, bool> condition, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        JsonElement last = default;
        try
        {
            while (true)
            {
                last = await MetricsAsync(client, limit.Token);
                if (condition(last))
                {
                    return last;
                }

                await Task.Delay(50, limit.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The dashboard never showed what the test waited for. Last snapshot: {last}");
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
