using Analytics.Streaming.Scoring;

namespace Analytics.Streaming.Scoring.Tests;

public sealed class EwmaZScoreDetectorTests
{
    [Fact]
    public void Update_NoisySignalWithSpikes_FlagsSpikesOnly()
    {
        var detector = new EwmaZScoreDetector();
        var random = new Random(12);
        int falsePositives = 0, detected = 0, spikes = 0;
        for (int i = 0; i < 5_000; i++)
        {
            bool spike = i > 100 && i % 250 == 0;
            double value = 100 + Normal(random) + (spike ? 12 : 0);
            AnomalyResult result = detector.Update(value);
            if (spike)
            {
                spikes++;
                detected += result.IsAnomaly ? 1 : 0;
            }
            else if (result.IsAnomaly)
            {
                falsePositives++;
            }
        }

        Assert.Equal(spikes, detected);
        Assert.True(falsePositives < 5_000 * 0.005, $"{falsePositives} false positives");
    }

    [Fact]
    public void Update_NaNAndWarmUp_FollowPolicyWithoutThrowing()
    {
        var detector = new EwmaZScoreDetector(warmUp: 5);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(AnomalyStatus.WarmingUp, detector.Update(i).Status);
        }

        RollingBaseline before = detector.Baseline;
        Assert.Equal(new AnomalyResult(0, false, AnomalyStatus.Missing), detector.Update(double.NaN));
        Assert.Equal(AnomalyStatus.Missing, detector.Update(double.NegativeInfinity).Status);
        Assert.Equal(before, detector.Baseline);
        Assert.Equal(AnomalyStatus.Scored, detector.Update(2).Status);
    }

    [Fact]
    public void Update_DefaultStruct_UsesDocumentedDefaults()
    {
        EwmaZScoreDetector detector = default;
        for (int i = 0; i < 100; i++)
        {
            detector.Update(10 + (i % 2));
        }

        Assert.True(detector.Update(30).IsAnomaly);

        // Exactly the detector built with the documented defaults (half-life 50, threshold 3, warm-up 30).
        EwmaZScoreDetector zero = default;
        var explicitDefaults = new EwmaZScoreDetector(halfLife: 50, threshold: 3, warmUp: 30, minStandardDeviation: 1e-9, winsorize: true);
        var random = new Random(4);
        for (int i = 0; i < 2_000; i++)
        {
            double value = (random.NextDouble() * 10) + (i % 97 == 0 ? 40 : 0);
            Assert.Equal(explicitDefaults.Update(value), zero.Update(value));
        }

        Assert.Equal(explicitDefaults.Baseline, zero.Baseline);
    }

    [Fact]
    public void Constructor_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EwmaZScoreDetector(halfLife: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EwmaZScoreDetector(threshold: -1));
    }

    internal static double Normal(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
