namespace Analytics.Streaming.Samples.OrderTracking;

/// <summary>
/// The entry point (a named class in the sample's namespace rather than top-level statements, so that it does not
/// clash with the other samples' global <c>Program</c> in the tests that reference them all).
/// </summary>
public static class Program
{
    /// <summary>
    /// Runs the order-tracking service (no AWS account needed):
    /// <c>dotnet run -c Release --project samples/Analytics.Streaming.Samples.OrderTracking</c>.
    /// </summary>
    /// <param name="args">Configuration, such as <c>--Kinesis:StreamName=orders</c>.</param>
    /// <returns>A task that completes when the service stopped.</returns>
    public static async Task Main(string[] args)
    {
        var app = OrderTrackingApp.Build(args);
        await app.RunAsync().ConfigureAwait(false);
    }
}
