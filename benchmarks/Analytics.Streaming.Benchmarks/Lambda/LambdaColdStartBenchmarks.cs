using Analytics.Streaming.Lambda;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;

namespace Analytics.Streaming.Benchmarks.Lambda;

/// <summary>
/// The work of a cold start: build the pipeline and the handler, then the first invocation (100 records, no checkpoint
/// yet). The <c>ColdStart</c> job runs it once per fresh process, so JIT compilation of everything the first invocation
/// touches is included; the configuration's own job (warm, repeated) shows what the same work costs once compiled.
/// Not included: the Lambda service's own start-up and loading the .NET runtime.
/// </summary>
[SimpleJob(RunStrategy.ColdStart, launchCount: 5, warmupCount: 0, iterationCount: 1, id: "ColdStart")]
public class LambdaColdStartBenchmarks
{
    private byte[] _event = [];

    /// <summary>Builds the event.</summary>
    [GlobalSetup]
    public void Setup() => _event = LambdaBench.EventJson(LambdaBench.Views(0, 100), 0);

    /// <summary>Build pipeline and handler, handle the first event.</summary>
    /// <returns>The response length.</returns>
    [Benchmark]
    public long FirstInvocation()
    {
        var handler = KinesisEventHandler.Create(LambdaBench.Pipeline(new InMemoryCheckpointStore()), new JsonEventDecoder<PageView>(LambdaBenchJsonContext.Default.PageView));
        using var response = handler.HandleAsync(new MemoryStream(_event, writable: false), CancellationToken.None).GetAwaiter().GetResult();
        return response.Length;
    }
}
