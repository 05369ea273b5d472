using Analytics.Streaming.Samples.Clickstream;

// The clickstream web-analytics sample: no AWS account needed.
//   dotnet run -c Release --project samples/Analytics.Streaming.Samples.Clickstream -- --duration 30s
ClickstreamOptions options;
try
{
    options = ClickstreamOptions.Parse(args);
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
