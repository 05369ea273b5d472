using Microsoft.IdentityModel.JsonWebTokens;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Analytics.Streaming.Samples.Clickstream.Web;

/// <summary>Source-generated JSON of what the dashboard receives.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(AcceptedBeacons))]
internal sealed partial class DashboardJson : JsonSerializerContext;

/// <summary>The answer to an accepted JSON batch.</summary>
/// <param name="Accepted">Events accepted.</param>
public sealed record AcceptedBeacons(int Accepted);

/// <summary>Builds the web-analytics service: beacon ingest, the stream, the pipelines, the lake and the signed-in dashboard.</summary>
public static class WebAnalyticsApp
{
    /// <summary>The authentication scheme that picks the cookie or, with an <c>Authorization: Bearer</c> header and a configured issuer, JWT bearer.</summary>
    public const string Scheme = "dashboard";

    /// <summary>Where the service listens unless configured otherwise (<c>--urls</c>, <c>ASPNETCORE_URLS</c>): loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Creates the application (Kestrel on 127.0.0.1 by default, see appsettings.json).</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        // Defaults under every other source (appsettings.json, environment, command line): loopback only, quiet logs.
        ((IConfigurationBuilder)builder.Configuration).Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                ["urls"] = DefaultUrl,
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            },
        });
        // Options are read from the final configuration when first needed (tests override it after this method runs).
        // AWS credentials come from AWSSDK.Core's default chain unless an AWSCredentials service is registered.
        var services = builder.Services;
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IConfiguration>().Get<ServiceOptions>() ?? new ServiceOptions();
            if (!string.IsNullOrWhiteSpace(options.Jwt.Authority) && string.IsNullOrWhiteSpace(options.Jwt.Audience))
            {
                throw new InvalidOperationException(
                    "Jwt:Authority is set without Jwt:Audience: set Jwt:Audience to the dashboard's app client id, or any client of the issuer could open the dashboard.");
            }

            return options;
        });
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new DashboardCredentials(sp.GetRequiredService<ServiceOptions>().Dashboard));
        services.AddSingleton<IngestStatistics>();
        services.AddSingleton(sp => new BeaconParser(sp.GetRequiredService<ServiceOptions>().Ingest.Limits, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new DashboardState(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IngestStatistics>(), Math.Clamp(sp.GetRequiredService<ServiceOptions>().Dashboard.RecentEvents, 1, 500)));
        services.AddSingleton(sp => new ClickStreams(sp.GetRequiredService<ServiceOptions>().Ingest, sp.GetRequiredService<ILoggerFactory>(), sp.GetService<Amazon.Runtime.AWSCredentials>()));
        services.AddSingleton<IClickWriter>(sp => sp.GetRequiredService<ClickStreams>());
        services.AddSingleton(sp =>
        {
            var lake = sp.GetRequiredService<ServiceOptions>().Lake;
            return new LakeHolder(lake.Enabled ? new DataLake(lake, sp.GetRequiredService<TimeProvider>(), sp.GetService<Amazon.Runtime.AWSCredentials>()) : null);
        });
        services.AddSingleton(sp =>
        {
            var dynamo = sp.GetRequiredService<ServiceOptions>().Outputs.DynamoDb;
            return new DynamoDbHolder(string.IsNullOrWhiteSpace(dynamo.TableName)
                ? null
                : new DynamoDbOutput(dynamo, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetService<Amazon.Runtime.AWSCredentials>()));
        });
        services.AddHostedService(sp => new AnalyticsService(
            sp.GetRequiredService<ClickStreams>(),
            sp.GetRequiredService<DashboardState>(),
            sp.GetRequiredService<LakeHolder>().Lake,
            sp.GetRequiredService<DynamoDbHolder>().Output,
            sp.GetRequiredService<ServiceOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<ILogger<AnalyticsService>>()));
        services.AddHostedService(sp => new GeneratorFeeder(sp.GetRequiredService<ServiceOptions>().Generators, sp.GetRequiredService<IClickWriter>(), sp.GetRequiredService<IngestStatistics>(), sp.GetRequiredService<TimeProvider>()));
        services.AddProblemDetails();
        services.AddAntiforgery(o => o.Cookie.Name = "dashboard-antiforgery");
        services.AddCors(o => o.AddPolicy("beacons", p => p.AllowAnyOrigin().WithMethods("GET", "POST").WithHeaders("Content-Type")));
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, DashboardJson.Default));

        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Cookie or bearer token", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                && !string.IsNullOrWhiteSpace(context.RequestServices.GetRequiredService<ServiceOptions>().Jwt.Authority)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/signin";
                o.LogoutPath = "/signout";
                o.Cookie.Name = "dashboard";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = context => ApiOrRedirect(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => ApiOrRedirect(context, StatusCodes.Status403Forbidden);
            })
            .AddJwtBearer();

        // JWT bearer (an OIDC issuer such as Cognito) is only used when Jwt:Authority is set.
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<ServiceOptions>((o, options) =>
        {
            o.Authority = options.Jwt.Authority;
            o.RequireHttpsMetadata = options.Jwt.RequireHttpsMetadata;

            // The dashboard's own app client only: an ID token names it in aud, a Cognito access token in client_id.
            // Any other client of the issuer (a shop's customers signing themselves up) is refused.
            string? audience = options.Jwt.Audience;
            o.TokenValidationParameters.AudienceValidator = (audiences, token, _) =>
                audiences.Contains(audience, StringComparer.Ordinal)
                || (token is JsonWebToken jwt && jwt.TryGetPayloadValue("client_id", out string clientId) && string.Equals(clientId, audience, StringComparison.Ordinal));
        });

        services.AddAuthorization();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapIngest();
        app.MapDashboard();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (app.Configuration.GetValue("PrintStartup", true))
            {
                PrintStartup(app, app.Services.GetRequiredService<ServiceOptions>());
            }
        });

        app.Lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<ClickStreams>().Complete());
        return app;
    }

    private static Task ApiOrRedirect(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.Ordinal))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    private static void PrintStartup(WebApplication app, ServiceOptions options)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        string url = (addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal)) ?? addresses.FirstOrDefault() ?? DefaultUrl).TrimEnd('/');
        var credentials = app.Services.GetRequiredService<DashboardCredentials>();
        var streams = app.Services.GetRequiredService<ClickStreams>();
        var lake = app.Services.GetRequiredService<LakeHolder>().Lake;
        var output = Console.Out;
        output.WriteLine();
        output.WriteLine($"Web analytics service: {streams.Mode}; generated traffic {options.Generators.ShopPerSecond} shop + {options.Generators.MenuPerSecond} restaurant-menu page views per second.");
        output.WriteLine($"  Dashboard: {url}/");
        output.WriteLine($"  Sign in:   user '{credentials.User}', password '{credentials.Password}'{(credentials.GeneratedPassword ? " (made for this run; set Dashboard__Password to choose one)" : string.Empty)}");
        output.WriteLine($"  Beacons:   GET {url}/collect.gif?page=/menu&vid=visitor-1   POST {url}/collect  {{\"events\":[{{\"page\":\"/menu\",\"visitorId\":\"visitor-1\"}}]}}");
        if (lake is not null)
        {
            output.WriteLine($"  Data lake: {lake.Location} (Parquet; Athena DDL below, DuckDB reads the folder as is)");
            output.WriteLine();
            output.WriteLine(lake.AthenaDdl());
        }

        if (app.Services.GetRequiredService<DynamoDbHolder>().Output is { } dynamo)
        {
            output.WriteLine($"  Per-minute results: {dynamo.Location}");
        }

        output.WriteLine("Press Ctrl+C to stop.");
        output.Flush();
    }
}

/// <summary>The data lake, or <see langword="null"/> when <c>Lake:Enabled</c> is false.</summary>
/// <param name="Lake">The lake.</param>
public sealed record LakeHolder(DataLake? Lake);

/// <summary>The DynamoDB output, or <see langword="null"/> when <c>Outputs:DynamoDb:TableName</c> is not set.</summary>
/// <param name="Output">The output.</param>
public sealed record DynamoDbHolder(DynamoDbOutput? Output);
