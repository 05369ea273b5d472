using System.Collections.Frozen;
using System.Reflection;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.StaticFiles;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>
/// The dashboard: the page (<c>/</c>), its live feed (<c>/api/stream</c>, server-sent events), a snapshot
/// (<c>/api/metrics</c>), sign-in and sign-out, and the static files (embedded in the assembly, Chart.js among them).
/// Everything but sign-in and the static files needs a signed-in user: the page redirects to sign-in, the API
/// answers 401.
/// </summary>
public static class DashboardEndpoints
{
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>Maps the dashboard's endpoints.</summary>
    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => Page(http, "dashboard.html")).RequireAuthorization();
        app.MapGet("/signin", SignInForm).AllowAnonymous();
        app.MapPost("/signin", SignInAsync).AllowAnonymous();
        app.MapPost("/signout", SignOutAsync).RequireAuthorization();
        app.MapGet("/api/metrics", (DashboardState state) => TypedResults.Json(state.Snapshot(), DashboardJson.Default.DashboardSnapshot)).RequireAuthorization();
        app.MapGet("/api/stream", StreamAsync).RequireAuthorization();
        app.MapGet("/static/{**file}", StaticFile).AllowAnonymous();
    }

    private static IResult Page(HttpContext http, string name)
    {
        Secure(http.Response);
        http.Response.Headers.CacheControl = "no-store";
        return Embedded(name) is { } bytes ? Results.Bytes(bytes, "text/html; charset=utf-8") : Results.NotFound();
    }

    private static IResult StaticFile(HttpContext http, string file)
    {
        if (file.Contains("..", StringComparison.Ordinal) || Embedded(file) is not { } bytes)
        {
            return Results.NotFound();
        }

        http.Response.Headers.CacheControl = "public, max-age=300";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Bytes(bytes, ContentTypes.TryGetContentType(file, out string? type) ? type : "application/octet-stream");
    }

    private static IResult SignInForm(HttpContext http, IAntiforgery antiforgery, string? returnUrl = null, string? error = null)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        Secure(http.Response);
        http.Response.Headers.CacheControl = "no-store";
        var html = HtmlEncoder.Default;
        string message = error is null ? string.Empty : "<p class=\"error\" role=\"alert\">Wrong user name or password.</p>";
        string page = $$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>Sign in · Web analytics</title>
              <link rel="icon" href="data:,">
              <link rel="stylesheet" href="/static/dashboard.css">
            </head>
            <body class="signin">
              <form method="post" action="/signin" class="card signin-card">
                <h1>Web analytics</h1>
                <p>Sign in to see the live dashboard.</p>
                {{message}}
                <input type="hidden" name="{{html.Encode(tokens.FormFieldName)}}" value="{{html.Encode(tokens.RequestToken ?? string.Empty)}}">
                <input type="hidden" name="returnUrl" value="{{html.Encode(LocalUrl(returnUrl))}}">
                <label>User <input id="user" name="user" autocomplete="username" required></label>
                <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
                <button type="submit" id="signin">Sign in</button>
              </form>
            </body>
            </html>
            """;
        return Results.Content(page, "text/html; charset=utf-8", statusCode: error is null ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized);
    }

    private static async Task<IResult> SignInAsync(HttpContext http, IAntiforgery antiforgery, DashboardCredentials credentials)
    {
        if (!http.Request.HasFormContentType)
        {
            return TypedResults.Problem("Post the sign-in form.", statusCode: StatusCodes.Status400BadRequest, title: "Not a form.");
        }

        try
        {
            await antiforgery.ValidateRequestAsync(http).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return TypedResults.Problem("Reload the sign-in page and try again.", statusCode: StatusCodes.Status400BadRequest, title: "The sign-in form expired.");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        string returnUrl = LocalUrl(form["returnUrl"]);
        if (!credentials.Check(form["user"], form["password"]))
        {
            // A little wait makes guessing slower; the answer is the form again, with the error.
            await Task.Delay(TimeSpan.FromMilliseconds(300), http.RequestAborted).ConfigureAwait(false);
            return SignInForm(http, antiforgery, returnUrl, error: "wrong");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, credentials.User)], CookieAuthenticationDefaults.AuthenticationScheme);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity)).ConfigureAwait(false);
        return Results.Redirect(returnUrl);
    }

    // The session cookie is SameSite=Strict: a cross-site form cannot sign anyone out.
    private static async Task SignOutAsync(HttpContext http)
    {
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        http.Response.Redirect("/signin");
    }

    /// <summary>Server-sent events: a snapshot at once, then one after every change (at most ten a second) and at least one a second (watermark and lag move).</summary>
    private static async Task StreamAsync(HttpContext http, DashboardState state, IHostApplicationLifetime lifetime)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.WriteAsync("retry: 2000\n\n", stop.Token).ConfigureAwait(false);
            while (!stop.IsCancellationRequested)
            {
                var snapshot = state.Snapshot();
                await response.WriteAsync("event: metrics\ndata: ", stop.Token).ConfigureAwait(false);
                await JsonSerializer.SerializeAsync(response.Body, snapshot, DashboardJson.Default.DashboardSnapshot, stop.Token).ConfigureAwait(false);
                await response.WriteAsync("\n\n", stop.Token).ConfigureAwait(false);
                await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMilliseconds(100), stop.Token).ConfigureAwait(false);
                await state.WaitForChangeAsync(snapshot.Version, TimeSpan.FromSeconds(1), stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    /// <summary>
    /// The return address if it stays on this site, else the dashboard: a path, not "//host" or "/\\host", and no control
    /// characters (browsers drop tabs and line breaks from a Location, so "/\t/host" would become "//host").
    /// </summary>
    private static string LocalUrl(string? url)
        => url is ['/', ..] && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) && !url.Any(char.IsControl) ? url : "/";

    /// <summary>The page's files, loaded once: a request for a name that is not there adds nothing.</summary>
    private static readonly FrozenDictionary<string, byte[]> EmbeddedFiles = LoadEmbedded();

    private static byte[]? Embedded(string name) => EmbeddedFiles.GetValueOrDefault(name);

    private static FrozenDictionary<string, byte[]> LoadEmbedded()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            files[resource["wwwroot/".Length..]] = bytes;
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
