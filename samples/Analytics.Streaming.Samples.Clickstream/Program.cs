using Analytics.Streaming.Samples.Clickstream;
using Analytics.Streaming.Samples.Clickstream.Web;

// The web-analytics service (no AWS account needed):
//   dotnet run -c Release --project samples/Analytics.Streaming.Samples.Clickstream
// The console sample that prints windows as they close:
//   dotnet run -c Release --project samples/Analytics.Streaming.Samples.Clickstream -- console --duration 30s
if (args.Length > 0 && args[0] == "console")
{
    ClickstreamOptions options;
    try
    {
        options = ClickstreamOptions.Parse(args[1..]);
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
    {
        Console.Error.WriteLine(ex.Message);
        return 2;
    }

    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };

    await ClickstreamApp.RunAsync(options, Console.Out, TimeProvider.System, stop.Token);
    return 0;
}

// Beacon-to-dashboard latency at 1,000 and 20,000 beacons/s (or --rate N --batch N --duration 20s --warmup 3s):
//   dotnet run -c Release --project samples/Analytics.Streaming.Samples.Clickstream -- latency
if (args.Length > 0 && args[0] == "latency")
{
    IReadOnlyList<LatencyScenario> scenarios;
    try
    {
        scenarios = LatencyHarness.Parse(args[1..]);
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
    {
        Console.Error.WriteLine(ex.Message);
        return 2;
    }

    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };

    await LatencyHarness.RunAsync(scenarios, Console.Out, stop.Token);
    return 0;
}

var app = WebAnalyticsApp.Build(args);
await app.RunAsync();
return 0;

/// <summary>The entry point (public for the tests' WebApplicationFactory).</summary>
public partial class Program;
