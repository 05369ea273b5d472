using Analytics.Streaming.Scoring;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Scoring.Tests;

public sealed class MaintenancePriorityScorerTests
{
    private static readonly MaintenancePriorityScorer Scorer = new();

    private static Gen<double> Field(int low, int high) =>
        Gen.Frequency((9, Gen.Choose(low * 100, high * 100).Select(i => i / 100.0)), (1, Gen.Elements(double.NaN, double.PositiveInfinity)));

    private static Gen<MachineReading> Readings =>
        from t in Field(40, 120)
        from v in Field(0, 20)
        from p in Field(80, 120)
        from h in Field(10, 90)
        from e in Field(50, 150)
        from errors in Field(-1, 10)
        from anomaly in Field(0, 1)
        from life in Field(-10, 2_000)
        from risk in Field(0, 1)
        select new MachineReading(t, v, p, h, e, errors, anomaly, life, risk);

    [Property(Arbitrary = [typeof(ReadingValues)])]
    public bool Score_AnyReading_InRangeDeterministicAndExplained(MachineReading reading)
    {
        MachineBaseline warmed = Warmed();
        MachineBaseline a = warmed;
        MachineBaseline b = warmed;
        var explanation = new FeatureContribution[MaintenancePriorityScorer.FeatureCount];
        MaintenancePriority first = Scorer.Score(reading, ref a, explanation);
        MaintenancePriority second = Scorer.Score(reading, ref b);
        double sum = explanation.Sum(c => c.Contribution);
        return first.Score >= 0 && first.Score <= 1 && first == second && Math.Abs(sum - first.Score) < 1e-12;
    }

    [Property(Arbitrary = [typeof(RiskIncreases)])]
    public bool Score_MoreRiskInAnyFeature_NeverLowersPriority((MachineReading Reading, int Feature, double Step) t)
    {
        MachineBaseline warmed = Warmed();
        (MachineReading r, int feature, double step) = t;
        MachineReading riskier = feature switch
        {
            // Sensors: move further from the baseline mean (two-sided deviation).
            0 => r with { Temperature = Away(r.Temperature, warmed.Temperature.Mean, step) },
            1 => r with { Vibration = Away(r.Vibration, warmed.Vibration.Mean, step) },
            2 => r with { Pressure = Away(r.Pressure, warmed.Pressure.Mean, step) },
            3 => r with { Humidity = Away(r.Humidity, warmed.Humidity.Mean, step) },
            4 => r with { EnergyUse = Away(r.EnergyUse, warmed.EnergyUse.Mean, step) },
            5 => r with { ErrorCount = r.ErrorCount + step },
            6 => r with { AnomalyFlag = r.AnomalyFlag + step },
            7 => r with { RemainingLifeHours = r.RemainingLifeHours - step },
            _ => r with { DowntimeRisk = r.DowntimeRisk + step },
        };
        MachineBaseline a = warmed;
        MachineBaseline b = warmed;
        return Scorer.Score(riskier, ref b).Score >= Scorer.Score(r, ref a).Score - 1e-12;
    }

    [Fact]
    public void Score_VibrationFarOffBaseline_IsTopFactorAndRaisesBand()
    {
        MachineBaseline baseline = Warmed();
        MachineReading normal = new(70, 5, 100, 50, 100, 0, 0, 2_000, 0.02);
        MaintenancePriority calm = Scorer.Score(normal, ref baseline);
        MaintenancePriority shaking = Scorer.Score(normal with { Vibration = 15, ErrorCount = 3, RemainingLifeHours = 48, DowntimeRisk = 0.9 }, ref baseline);

        Assert.Equal(MaintenanceBand.Low, calm.Band);
        Assert.Equal(MaintenanceFactor.Vibration, shaking.TopFactor);
        // 0.20 vibration (|z| >= 4) + 0.10 x 3/5 errors + 0.15 x (1 - 48/720) life + 0.10 x 0.9 downtime, other sensors near their means.
        Assert.InRange(shaking.Score, 0.49, 0.52);
        Assert.Equal(MaintenanceBand.Medium, shaking.Band);
        Assert.Equal(MaintenanceFactor.RemainingLife, shaking.SecondFactor);
        Assert.NotEqual(MaintenanceFactor.None, shaking.ThirdFactor);
    }

    [Fact]
    public void Score_NewMachine_UsesOnlyFieldsWithoutBaseline()
    {
        var baseline = default(MachineBaseline);
        MaintenancePriority first = Scorer.Score(new MachineReading(70, 5, 100, 50, 100, 0, 0, 0, 1), ref baseline);
        Assert.Equal(1, baseline.Temperature.Count); // learned
        // Sensors are still warming up, so only errors (0), anomaly (0), remaining life (0 h: risk 1) and downtime (1) count.
        Assert.Equal((0.15 + 0.10) / (0.10 + 0.05 + 0.15 + 0.10), first.Score, 12);
        Assert.Equal(MaintenanceBand.High, first.Band);

        MaintenancePriority stateless = Scorer.ScoreWithoutBaseline(new MachineReading(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN));
        Assert.Equal(0, stateless.Score);
        Assert.Equal(MaintenanceFactor.None, stateless.TopFactor);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throw()
    {
        Assert.Throws<ArgumentException>(() => new MaintenancePriorityScorer(new MaintenancePriorityOptions { HighThreshold = 0.9 }));
        Assert.Throws<ArgumentException>(() => new MaintenancePriorityScorer(new MaintenancePriorityOptions { DeviationAtMax = 0 }));
        Assert.Throws<ArgumentException>(() => new MaintenancePriorityScorer(new MaintenancePriorityOptions { VibrationWeight = -1 }));
    }

    private static double Away(double value, double mean, double step) => value >= mean ? value + step : value - step;

    private static MachineBaseline Warmed()
    {
        var baseline = default(MachineBaseline);
        var random = new Random(42);
        for (int i = 0; i < 300; i++)
        {
            var reading = new MachineReading(
                70 + (random.NextDouble() * 4) - 2,
                5 + random.NextDouble() - 0.5,
                100 + (random.NextDouble() * 2) - 1,
                50 + (random.NextDouble() * 10) - 5,
                100 + (random.NextDouble() * 6) - 3);
            Scorer.Score(reading, ref baseline);
        }

        return baseline;
    }

    public static class ReadingValues
    {
        public static Arbitrary<MachineReading> Values() => Readings.ToArbitrary();
    }

    public static class RiskIncreases
    {
        public static Arbitrary<(MachineReading Reading, int Feature, double Step)> Values()
            => (from reading in Readings
                from feature in Gen.Choose(0, 8)
                from step in Gen.Choose(1, 5_000)
                select (reading, feature, step / 100.0)).ToArbitrary();
    }
}
