using Analytics.Streaming;
using Analytics.Streaming.Testing;

namespace ReadmeSnippets.Testing;

/// <summary>The click the Testing README counts.</summary>
/// <param name="Page">The page.</param>
/// <param name="Time">When.</param>
public sealed record Click(string Page, DateTimeOffset Time);

/// <summary>The Testing README's first block.</summary>
public static class TestingReadme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static void Drive(DateTimeOffset t0)
    {
        // <readme file="src/Analytics.Streaming.Testing/README.md" block="1">
        var pipeline = StreamPipeline.Create<Click>()
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .To(new CollectingSink<WindowResult<string, long>>())
            .Build();

        var driver = new PipelineTestDriver<Click, string, long>(pipeline);   // synchronous, no channels
        driver.Push(new Click("/", t0), new Click("/", t0.AddSeconds(70)));  // one batch of partition "0"
        driver.AdvanceTime(TimeSpan.FromMinutes(1));                          // manual clock: idleness, processing time
        driver.AdvanceWatermark(t0.AddMinutes(5));                            // close windows explicitly
        driver.Complete();                                                    // end of input

        var all = driver.Results;                  // every emission in order
        var latest = driver.LatestResults;         // what an idempotent sink would hold (newest per identity, superseded sessions removed)
        var late = driver.LateRecords;             // with positions and the watermark at arrival
        var deadLetters = driver.DeadLetters;      // with reasons
        var checkpoint = driver.CreateCheckpoint();  // what a pipeline would save now (positions, watermark, window state)
        // </readme>
    }
}
