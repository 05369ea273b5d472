using System.Reflection;
using System.Text.Json;
using Analytics.Streaming.Samples.OrderTracking.Orders;
using Analytics.Streaming.Samples.OrderTracking.Processing;
using Microsoft.AspNetCore.Http.Features;

namespace Analytics.Streaming.Samples.OrderTracking.Web;

/// <summary>
/// The live order-status page (<c>/</c>, embedded static files under <c>/static/</c>, Chart.js as
/// <c>/static/lib/chart.umd.min.js</c>), its snapshot
/// (<c>/api/live</c>) and its feed (<c>/api/stream</c>, server-sent events: a <c>snapshot</c> event whenever something
/// changed, at most every 250 ms, and a comment every 15 s to keep proxies from closing the connection).
/// </summary>
public static class LiveEndpoints
{
    private const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /// <summary>Maps the endpoints.</summary>
    /// <param name="app">The application.</param>
    public static void MapLive(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => Embedded(http, "index.html", "text/html; charset=utf-8"));
        app.MapGet("/static/{file}", (HttpContext http, string file) => file switch
        {
            "orders.js" => Embedded(http, file, "text/javascript; charset=utf-8"),
            "orders.css" => Embedded(http, file, "text/css; charset=utf-8"),
            _ => Results.NotFound(),
        });
        app.MapGet("/static/lib/chart.umd.min.js", (HttpContext http) => Embedded(http, "lib/chart.umd.min.js", "text/javascript; charset=utf-8"));
        app.MapGet("/api/live", (LiveState live) => TypedResults.Json(live.Snapshot(), OrderJson.Default.LiveSnapshot));
        app.MapGet("/api/stream", StreamAsync);
    }

    private static IResult Embedded(HttpContext http, string name, string type)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("wwwroot/" + name);
        if (stream is null)
        {
            return Results.NotFound();
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(copy.ToArray(), type);
    }

    private static async Task StreamAsync(HttpContext http, LiveState live, TimeProvider time)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        long sent = -1;
        long lastWrite = time.GetTimestamp();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                long changes = live.Changes;
                if (changes != sent)
                {
                    sent = changes;
                    await http.Response.WriteAsync("event: snapshot\ndata: ", ct).ConfigureAwait(false);
                    await JsonSerializer.SerializeAsync(http.Response.Body, live.Snapshot(), OrderJson.Default.LiveSnapshot, ct).ConfigureAwait(false);
                    await http.Response.WriteAsync("\n\n", ct).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    lastWrite = time.GetTimestamp();
                }
                else if (time.GetElapsedTime(lastWrite) > TimeSpan.FromSeconds(15))
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", ct).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    lastWrite = time.GetTimestamp();
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
    }
}
