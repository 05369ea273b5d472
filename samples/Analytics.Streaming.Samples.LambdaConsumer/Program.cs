using Analytics.Streaming.Samples.LambdaConsumer;

// The function's Handler setting (passed as _HANDLER) picks the function: "kinesis" (default) or "firehose".
string runtimeApi = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API")
    ?? throw new InvalidOperationException("AWS_LAMBDA_RUNTIME_API is not set: run this bootstrap inside Lambda (provided.al2023) or a runtime interface emulator.");
string checkpoints = Environment.GetEnvironmentVariable("CHECKPOINT_DIR") ?? Path.Combine(Path.GetTempPath(), "checkpoints");
var functions = new ClickstreamFunctions(checkpoints, Console.Out);
Func<Stream, CancellationToken, Task<Stream>> handler = Environment.GetEnvironmentVariable("_HANDLER") switch
{
    "firehose" => functions.HandleFirehoseAsync,
    _ => functions.HandleKinesisAsync,
};
await LambdaRuntimeLoop.RunAsync(runtimeApi, handler, TimeProvider.System, CancellationToken.None);
