using Analytics.Streaming.Samples.DataLake;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    var options = DataLakeOptions.Parse(args);
    await DataLakeApp.RunAsync(options, Console.Out, TimeProvider.System, stop.Token);
    return 0;
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
catch (OperationCanceledException)
{
    return 130;
}
