using Analytics.Streaming.Samples.OrderTracking.Orders;
using Analytics.Streaming.Samples.OrderTracking.Processing;
using Analytics.Streaming.Samples.OrderTracking.Web;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Analytics.Streaming.Samples.OrderTracking;

/// <summary>Builds the order-tracking service: the orders API, the stream, the consumer, the e-mails, the lake and the live page.</summary>
public static class OrderTrackingApp
{
    /// <summary>Where the service listens unless configured otherwise (<c>--urls</c>): loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5090";

    /// <summary>Creates the application.</summary>
    /// <param name="args">Command-line arguments (configuration such as <c>--Kinesis:StreamName=orders</c>).</param>
    /// <param name="configureServices">Changes to the services after the defaults (tests: AWS credentials).</param>
    /// <returns>The application, not started.</returns>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        ((IConfigurationBuilder)builder.Configuration).Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                ["urls"] = DefaultUrl,
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            },
        });

        var services = builder.Services;
        services.AddSingleton(sp => sp.GetRequiredService<IConfiguration>().Get<OrderTrackingOptions>() ?? new OrderTrackingOptions());
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<LiveState>();
        services.AddSingleton(sp => new OrderRequests(sp.GetRequiredService<OrderTrackingOptions>().Limits));
        services.AddSingleton(sp => new OrderStreams(sp.GetRequiredService<OrderTrackingOptions>().Kinesis, sp.GetRequiredService<ILoggerFactory>(), sp.GetService<Amazon.Runtime.AWSCredentials>()));
        services.AddSingleton<IOrderStatusStore>(sp =>
        {
            var options = sp.GetRequiredService<OrderTrackingOptions>();
            return string.IsNullOrWhiteSpace(options.DynamoDb.TableName)
                ? new InMemoryOrderStatusStore()
                : new DynamoDbOrderStatusStore(options.DynamoDb, sp.GetRequiredService<TimeProvider>(), sp.GetService<Amazon.Runtime.AWSCredentials>());
        });
        services.AddSingleton<IMailTransport>(sp =>
        {
            var options = sp.GetRequiredService<OrderTrackingOptions>();
            return string.IsNullOrWhiteSpace(options.Smtp.Host) ? new PickupFolderTransport(options.Email.PickupFolder) : new SmtpTransport(options.Smtp);
        });
        services.AddSingleton(sp => new ConfirmationMessages(sp.GetRequiredService<OrderTrackingOptions>().Email));
        services.AddSingleton(sp =>
        {
            var lake = sp.GetRequiredService<OrderTrackingOptions>().Lake;
            return new OrderLakeHolder(lake.Enabled ? new OrderLake(lake, sp.GetRequiredService<TimeProvider>(), sp.GetService<Amazon.Runtime.AWSCredentials>()) : null);
        });
        services.AddSingleton<OrderService>();
        services.AddSingleton(sp => new OrderProcessor(
            sp.GetRequiredService<IOrderStatusStore>(),
            sp.GetRequiredService<IMailTransport>(),
            sp.GetRequiredService<ConfirmationMessages>(),
            sp.GetRequiredService<OrderTrackingOptions>().Email,
            sp.GetRequiredService<LiveState>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OrderProcessor>>()));
        services.AddHostedService<OrderStatusStoreInitializer>();
        services.AddHostedService<OrderConsumer>();
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, OrderJson.Default));
        configureServices?.Invoke(services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOrders();
        app.MapLive();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var live = app.Services.GetRequiredService<LiveState>();
            live.Mode = Describe(app);
            if (app.Configuration.GetValue("PrintStartup", true))
            {
                PrintStartup(app);
            }
        });
        app.Lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<OrderStreams>().Complete());
        return app;
    }

    /// <summary>The first http address the server listens on.</summary>
    /// <param name="app">The started application.</param>
    /// <returns>The address without a trailing slash.</returns>
    public static string Address(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return (addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal)) ?? addresses.FirstOrDefault() ?? DefaultUrl).TrimEnd('/');
    }

    private static string Describe(WebApplication app) =>
        $"{app.Services.GetRequiredService<OrderStreams>().Mode}; {app.Services.GetRequiredService<IOrderStatusStore>().Location}; e-mails to {app.Services.GetRequiredService<IMailTransport>().Location}";

    private static void PrintStartup(WebApplication app)
    {
        string url = Address(app);
        var output = Console.Out;
        output.WriteLine();
        output.WriteLine($"Order tracking: {Describe(app)}.");
        output.WriteLine($"  Live page: {url}/");
        output.WriteLine($"  Place:     curl -s {url}/orders -H 'Content-Type: application/json' -d '{{\"customerId\":\"c-1\",\"email\":\"ada@example.com\",\"items\":[{{\"sku\":\"tea\",\"quantity\":2,\"unitPrice\":4.5}}]}}'");
        output.WriteLine($"  Status:    curl -s {url}/orders/{{orderId}}    move: curl -s {url}/orders/{{orderId}}/status -H 'Content-Type: application/json' -d '{{\"status\":\"Confirmed\"}}'");
        output.WriteLine($"  Customer:  curl -s {url}/customers/c-1/orders");
        if (app.Services.GetRequiredService<OrderLakeHolder>().Lake is { } lake)
        {
            output.WriteLine($"  Lake:      {lake.Location} (Parquet, Hive partitions by day)");
        }

        output.WriteLine("Press Ctrl+C to stop.");
        output.Flush();
    }
}
