using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;

namespace Analytics.Streaming.Kinesis.Tests.Telemetry;

public sealed partial class KinesisTelemetryTests
{
    [Fact]
    public void Instruments_OfThePackage_ShareOneMeterAndOneNamingScheme()
    {
        Assert.Equal(KinesisTelemetry.Name, KinesisTelemetry.Meter.Name);
        Assert.Equal(KinesisTelemetry.Name, KinesisTelemetry.ActivitySource.Name);
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == KinesisTelemetry.Name)
                {
                    lock (instruments)
                    {
                        instruments.Add(instrument);
                    }
                }
            },
        };
        listener.Start();

        Assert.NotEmpty(instruments);
        Assert.All(instruments, i => Assert.Same(KinesisTelemetry.Meter, i.Meter));
        Assert.All(instruments, i => Assert.Matches(InstrumentName(), i.Name));
        Assert.All(instruments, i => Assert.False(string.IsNullOrEmpty(i.Unit), i.Name + " has no unit"));
        Assert.All(instruments.Where(i => i.Name.EndsWith(".duration", StringComparison.Ordinal) || i.Name.EndsWith("behind_latest", StringComparison.Ordinal)), i => Assert.Equal("s", i.Unit));
        Assert.Equal(instruments.Count, instruments.Select(i => i.Name).Distinct().Count());
    }

    [GeneratedRegex("^analytics\\.streaming\\.kinesis\\.(client|producer|consumer|firehose)(\\.[a-z]+(_[a-z]+)*)+$")]
    private static partial Regex InstrumentName();
}
