using Analytics.Streaming.Scoring;

namespace Analytics.Streaming.Scoring.Tests;

/// <summary>
/// The scorers' hot paths (fused z-score and baseline update, the maintenance scorer's own combine and top factors,
/// reciprocal scales) against a straightforward reference computation built from the public pieces, over random inputs.
/// </summary>
public sealed class ScoringFastPathTests
{
    public static TheoryData<MissingValuePolicy, double> Settings => new()
    {
        { MissingValuePolicy.Redistribute, 4 },
        { MissingValuePolicy.Zero, 4 },
        { MissingValuePolicy.Worst, 4 },
        { MissingValuePolicy.Redistribute, 3 },
        { MissingValuePolicy.Worst, 2.7 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void MaintenanceScore_RandomReadings_MatchesReferenceComputation(MissingValuePolicy missing, double deviationAtMax)
    {
        var options = new MaintenancePriorityOptions { Missing = missing, DeviationAtMax = deviationAtMax, MinBaselineSamples = 5, BaselineHalfLife = 20 };
        var scorer = new MaintenancePriorityScorer(options);
        var random = new Random(11 + (int)missing);
        var fast = default(MachineBaseline);
        var reference = new RollingBaseline[MaintenancePriorityScorer.FeatureCount];
        var explanation = new FeatureContribution[MaintenancePriorityScorer.FeatureCount];
        var expectedExplanation = new FeatureContribution[MaintenancePriorityScorer.FeatureCount];
        for (int i = 0; i < 5_000; i++)
        {
            MachineReading reading = RandomReading(random);
            MaintenancePriority expected = Reference(scorer, options, reading, reference, expectedExplanation);
            bool explain = (i & 1) == 0;
            MaintenancePriority actual = explain ? scorer.Score(reading, ref fast, explanation) : scorer.Score(reading, ref fast);

            // The baselines are updated with the same arithmetic: bit for bit.
            AssertSame(reference[0], fast.Temperature);
            AssertSame(reference[1], fast.Vibration);
            AssertSame(reference[2], fast.Pressure);
            AssertSame(reference[3], fast.Humidity);
            AssertSame(reference[4], fast.EnergyUse);

            Assert.Equal(expected.Score, actual.Score, 1e-12);
            if (NearThreshold(actual.Score, options))
            {
                continue;
            }

            Assert.Equal(expected.Band, actual.Band);
            if (!HasNearTie(expectedExplanation))
            {
                Assert.Equal((expected.TopFactor, expected.SecondFactor, expected.ThirdFactor), (actual.TopFactor, actual.SecondFactor, actual.ThirdFactor));
            }

            if (explain)
            {
                for (int f = 0; f < MaintenancePriorityScorer.FeatureCount; f++)
                {
                    Assert.Equal(expectedExplanation[f].Feature, explanation[f].Feature);
                    Assert.Equal(expectedExplanation[f].IsMissing, explanation[f].IsMissing);
                    Assert.Equal(expectedExplanation[f].Normalized, explanation[f].Normalized, 1e-12);
                    Assert.Equal(expectedExplanation[f].Weight, explanation[f].Weight, 1e-15);
                    Assert.Equal(expectedExplanation[f].Contribution, explanation[f].Contribution, 1e-12);
                }
            }
        }
    }

    [Fact]
    public void MaintenanceScore_ExactTies_GoToTheLowerFactor()
    {
        // Humidity and anomaly both weigh 0.05, errors, pressure, energy use and downtime 0.10: saturated, they tie exactly.
        var scorer = new MaintenancePriorityScorer();
        var baseline = default(MachineBaseline);
        MaintenancePriority p = scorer.Score(new MachineReading(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 5, 1, double.NaN, 1), ref baseline);
        Assert.Equal((MaintenanceFactor.Errors, MaintenanceFactor.DowntimeRisk, MaintenanceFactor.Anomaly), (p.TopFactor, p.SecondFactor, p.ThirdFactor));
        Assert.Equal(1, p.Score, 12);

        p = scorer.Score(new MachineReading(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 1, double.NaN, double.NaN), ref baseline);
        Assert.Equal((MaintenanceFactor.Anomaly, MaintenanceFactor.None, MaintenanceFactor.None), (p.TopFactor, p.SecondFactor, p.ThirdFactor));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(1)]
    [InlineData(7.5)]
    [InlineData(69.31)]
    public void RollingBaseline_FusedZScoreThenUpdate_MatchesZScoreThenUpdate(double halfLife)
    {
        double alpha = RollingBaseline.AlphaFromHalfLife(halfLife);
        var random = new Random(3);
        var separate = default(RollingBaseline);
        var fused = default(RollingBaseline);
        var manual = (Count: 0L, Mean: 0.0, Variance: 0.0);
        for (int i = 0; i < 3_000; i++)
        {
            double value = random.Next(20) == 0 ? double.NaN : (random.NextDouble() * 50) - 10;
            double expected = separate.ZScore(value, 10, 1e-6);
            separate.Update(value, alpha);
            double actual = fused.ZScoreThenUpdate(value, alpha, 10, 1e-6);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual));
            AssertSame(separate, fused);

            // The documented rule with the division every time: a = max(alpha, 1 / n).
            if (double.IsFinite(value))
            {
                manual = ReferenceUpdate(manual, value, alpha);
            }

            Assert.Equal(manual, (separate.Count, separate.Mean, separate.Variance));
        }
    }

    [Fact]
    public void RollingBaseline_AlphaAtOneOverN_SameWeightAsTheDivision()
    {
        // Alphas equal to, just above and just below 1 / n for small n, where the multiplication shortcut must agree with max(alpha, 1 / n).
        for (int n = 1; n <= 200; n++)
        {
            foreach (double alpha in new[] { 1.0 / n, Math.BitIncrement(1.0 / n), Math.BitDecrement(1.0 / n) })
            {
                var baseline = default(RollingBaseline);
                var manual = (Count: 0L, Mean: 0.0, Variance: 0.0);
                for (int i = 0; i < n + 3; i++)
                {
                    double value = (i * 7 % 13) + 0.25;
                    baseline.Update(value, alpha);
                    manual = ReferenceUpdate(manual, value, alpha);
                    Assert.Equal(manual, (baseline.Count, baseline.Mean, baseline.Variance));
                }
            }
        }
    }

    /// <summary>The documented rolling update with the division every time: <c>a = max(alpha, 1 / n)</c>.</summary>
    private static (long Count, double Mean, double Variance) ReferenceUpdate((long Count, double Mean, double Variance) state, double value, double alpha)
    {
        long count = state.Count + 1;
        double a = Math.Max(alpha, 1.0 / count);
        double d = value - state.Mean;
        return (count, state.Mean + (a * d), (1 - a) * (state.Variance + (a * d * d)));
    }

    [Theory]
    [InlineData(MissingValuePolicy.Redistribute)]
    [InlineData(MissingValuePolicy.Worst)]
    public void CustomerScore_RandomActivities_MatchesDocumentedFormula(MissingValuePolicy missing)
    {
        var options = new CustomerValueOptions { Missing = missing };
        var scorer = new CustomerValueScorer(options);
        var random = new Random(5);
        var explanation = new FeatureContribution[CustomerValueScorer.FeatureCount];
        Span<double> values = stackalloc double[CustomerValueScorer.FeatureCount];
        for (int i = 0; i < 5_000; i++)
        {
            var activity = new CustomerActivity(
                Maybe(random, random.Next(-5, 400)),
                Maybe(random, random.Next(-2, 40)),
                Maybe(random, (random.NextDouble() * 8_000) - 100),
                Maybe(random, random.NextDouble() * 6),
                Maybe(random, random.Next(-10, 1_000)),
                Maybe(random, (random.NextDouble() * 1.2) - 0.1));
            values[0] = double.IsFinite(activity.DaysSinceLastPurchase) ? Math.Pow(2, -Math.Max(0, activity.DaysSinceLastPurchase) / 30) : double.NaN;
            values[1] = double.IsFinite(activity.PurchaseCount) ? Math.Min(Math.Log(1 + Math.Max(0, activity.PurchaseCount)) / Math.Log(21), 1) : double.NaN;
            values[2] = double.IsFinite(activity.MonetaryValue) ? Math.Min(Math.Log(1 + Math.Max(0, activity.MonetaryValue)) / Math.Log(5001), 1) : double.NaN;
            values[3] = double.IsFinite(activity.Satisfaction) ? Math.Clamp((activity.Satisfaction - 1) / 4, 0, 1) : double.NaN;
            values[4] = double.IsFinite(activity.TenureDays) ? Math.Clamp(activity.TenureDays / 730, 0, 1) : double.NaN;
            values[5] = double.IsFinite(activity.ReturnRate) ? 1 - Math.Clamp(activity.ReturnRate, 0, 1) : double.NaN;
            double expected = scorer.Model.Combine(values, default).Score;
            Assert.Equal(expected, scorer.Score(activity, explanation), 1e-12);
            Assert.Equal(expected, explanation.Sum(c => c.Contribution), 1e-12);
        }
    }

    [Fact]
    public void CustomerScore_OptionsChangedAfterConstruction_ScorerUnchanged()
    {
        var options = new CustomerValueOptions();
        var scorer = new CustomerValueScorer(options);
        var activity = new CustomerActivity(30, 5, 500, 4, 365, 0.1);
        double before = scorer.Score(activity);
        options.RecencyHalfLifeDays = 1;
        options.SatisfactionMax = 1; // invalid now; the scorer validated and kept the values it was built with
        options.LoyaltyAtMaxDays = 1;
        Assert.Equal(before, scorer.Score(activity));
    }

    private static double Maybe(Random random, double value) => random.Next(12) switch
    {
        0 => double.NaN,
        1 => double.PositiveInfinity,
        _ => value,
    };

    private static MachineReading RandomReading(Random random)
    {
        // Mostly normal values with rare excursions (so that deviations saturate sometimes), and missing fields.
        double Sensor(double mean, double spread) => random.Next(15) switch
        {
            0 => double.NaN,
            1 => double.NegativeInfinity,
            2 => mean + (spread * ((random.NextDouble() * 20) - 10)),
            _ => mean + (spread * (random.NextDouble() - 0.5)),
        };

        return new MachineReading(
            Sensor(70, 4),
            Sensor(5, 1),
            Sensor(100, 2),
            Sensor(50, 10),
            Sensor(100, 6),
            Maybe(random, random.Next(-1, 8)),
            Maybe(random, random.Next(10) == 0 ? 1 : random.NextDouble() * 0.5),
            Maybe(random, random.Next(-10, 1_500)),
            Maybe(random, (random.NextDouble() * 1.2) - 0.1));
    }

    /// <summary>The scorer as documented, from the public pieces: ZScore then Update per sensor, the model's Combine, the three largest contributions.</summary>
    private static MaintenancePriority Reference(
        MaintenancePriorityScorer scorer, MaintenancePriorityOptions options, MachineReading reading, RollingBaseline[] baselines, FeatureContribution[] explanation)
    {
        WeightedScoreModel model = scorer.Model;
        double[] sensors = [reading.Temperature, reading.Vibration, reading.Pressure, reading.Humidity, reading.EnergyUse];
        var risk = new double[MaintenancePriorityScorer.FeatureCount];
        for (int s = 0; s < sensors.Length; s++)
        {
            double z = baselines[s].ZScore(sensors[s], model.MinBaselineSamples, model.MinStandardDeviation);
            baselines[s].Update(sensors[s], model.BaselineAlpha);
            risk[s] = double.IsNaN(z) ? double.NaN : Math.Min(Math.Abs(z) / options.DeviationAtMax, 1);
        }

        risk[5] = double.IsFinite(reading.ErrorCount) ? Math.Clamp(reading.ErrorCount / options.ErrorCountAtMax, 0, 1) : double.NaN;
        risk[6] = double.IsFinite(reading.AnomalyFlag) ? Math.Clamp(reading.AnomalyFlag, 0, 1) : double.NaN;
        risk[7] = double.IsFinite(reading.RemainingLifeHours) ? 1 - Math.Clamp(reading.RemainingLifeHours / options.RemainingLifeHorizonHours, 0, 1) : double.NaN;
        risk[8] = double.IsFinite(reading.DowntimeRisk) ? Math.Clamp(reading.DowntimeRisk, 0, 1) : double.NaN;
        ScoreResult result = model.Combine(risk, explanation);

        FeatureContribution[] ranked = [.. explanation.Where(c => c.Contribution > 0)];
        ScoreExplanation.SortByContribution(ranked);
        MaintenanceFactor At(int i) => i < ranked.Length ? (MaintenanceFactor)ranked[i].Feature : MaintenanceFactor.None;
        return new MaintenancePriority(result.Score, (MaintenanceBand)result.Band, At(0), At(1), At(2));
    }

    private static bool NearThreshold(double score, MaintenancePriorityOptions options)
        => new[] { options.MediumThreshold, options.HighThreshold, options.CriticalThreshold }.Any(t => Math.Abs(score - t) < 1e-12);

    /// <summary>Whether two positive contributions differ by a rounding only (not exactly equal): their order is noise.</summary>
    private static bool HasNearTie(FeatureContribution[] explanation)
    {
        for (int i = 0; i < explanation.Length; i++)
        {
            for (int j = i + 1; j < explanation.Length; j++)
            {
                double a = explanation[i].Contribution, b = explanation[j].Contribution;
                if (a > 0 && b > 0 && a != b && Math.Abs(a - b) <= 1e-12 * Math.Max(a, b))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void AssertSame(RollingBaseline expected, RollingBaseline actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Mean), BitConverter.DoubleToInt64Bits(actual.Mean));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Variance), BitConverter.DoubleToInt64Bits(actual.Variance));
    }
}
