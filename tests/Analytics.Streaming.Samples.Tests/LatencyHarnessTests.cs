using Analytics.Streaming.Samples.Clickstream.Web;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>
/// The latency harness (<c>-- latency</c>) runs end to end and produces figures. Only a smoke test at a low rate:
/// the machines are shared and noisy, so no latency is asserted here (the README records measured figures).
/// </summary>
public sealed class LatencyHarnessTests
{
    [Fact]
    public async Task LowRate_ProducesFigures()
    {
        var ct = TestContext.Current.CancellationToken;
        using var output = new StringWriter();
        var results = await LatencyHarness.RunAsync([new LatencyScenario(100, 1, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(0.5)), new LatencyScenario(500, 50, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(0.5))], output, ct);
        TestContext.Current.TestOutputHelper?.WriteLine(output.ToString());

        Assert.Equal(2, results.Count);
        foreach (var r in results)
        {
            Assert.Equal(0, r.Refused);
            Assert.Equal(0, r.Unseen);
            Assert.True(r.Beacons > 0);
            Assert.True(r.AchievedRate > 0);
            Assert.True(double.IsFinite(r.P50Ms) && r.P50Ms >= 0);
            Assert.True(r.P99Ms >= r.P50Ms && r.MaxMs >= r.P99Ms);
        }

        Assert.Contains("| p50 ms | p99 ms |", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_GivesTheTwoDefaultRates_OrTheOnesAsked()
    {
        Assert.Equal([1_000, 20_000], LatencyHarness.Parse([]).Select(s => s.Rate));
        var asked = LatencyHarness.Parse(["--rate", "5000", "--batch", "50", "--duration", "5s"]);
        Assert.Equal(new LatencyScenario(5_000, 50, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(3)), Assert.Single(asked));
        Assert.Throws<ArgumentException>(() => LatencyHarness.Parse(["--bogus", "1"]));
    }
}
