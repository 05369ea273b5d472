using Analytics.Streaming.Scoring;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Scoring.Tests;

public sealed class WeightedScoreModelTests
{
    private static readonly WeightedScoreModel Model = new(
    [
        new ScoreFeature("latency", 2, Normalization.MinMax(0, 1000)),
        new ScoreFeature("errors", 1, Normalization.Logistic(5, 1), Missing: MissingValuePolicy.Worst),
        new ScoreFeature("uptime", 1, Normalization.Identity, HigherIsBetter: true, Missing: MissingValuePolicy.Zero),
        new ScoreFeature("queue", 0.5, Normalization.MinMax(10, 20)),
    ]);

    private static Gen<double> RawValue =>
        Gen.Frequency(
            (8, Gen.Choose(-2_000, 2_000_000).Select(i => i / 1000.0)),
            (1, Gen.Elements(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.MaxValue)));

    [Property(Arbitrary = [typeof(ValueArrays)])]
    public bool Score_AnyValues_InRangeDeterministicAndExplanationSumsToScore(double[] values)
    {
        var explanation = new FeatureContribution[4];
        ScoreResult first = Model.Score(values, explanation);
        ScoreResult second = Model.Score(values);
        double sum = explanation.Sum(c => c.Contribution);
        return first.Score >= 0 && first.Score <= 1
            && first == second
            && Math.Abs(sum - first.Score) < 1e-12
            && first.Band == Model.Bands.Classify(first.Score);
    }

    [Property(Arbitrary = [typeof(Raises)])]
    public bool Score_RaisingOneRiskFeature_NeverLowersScore((double[] Values, int Feature, double Step) t)
    {
        (double[] values, int feature, double step) = t;
        if (!double.IsFinite(values[feature]))
        {
            return true;
        }

        double[] higher = (double[])values.Clone();
        higher[feature] += step;
        double before = Model.Score(values).Score;
        double after = Model.Score(higher).Score;
        return Model.FeatureAt(feature).HigherIsBetter ? after <= before + 1e-15 : after >= before - 1e-15;
    }

    [Fact]
    public void Score_MissingValues_FollowEachFeaturesPolicy()
    {
        var model = new WeightedScoreModel(
        [
            new ScoreFeature("a", 1, Normalization.Identity),
            new ScoreFeature("b", 1, Normalization.Identity, Missing: MissingValuePolicy.Redistribute),
            new ScoreFeature("c", 2, Normalization.Identity, Missing: MissingValuePolicy.Worst),
        ]);

        // b redistributes: a and c share the weight 1:2.
        Assert.Equal((0.5 * 1 / 3) + (1.0 * 2 / 3), model.Score([0.5, double.NaN, 1]).Score, 12);

        // c missing counts as 1 with its weight.
        Assert.Equal((0.5 + 0.5 + 2) / 4, model.Score([0.5, 0.5, double.NaN]).Score, 12);

        // Nothing present and only redistributing features: 0.
        var onlyRedistribute = new WeightedScoreModel([new ScoreFeature("a", 1, Normalization.Identity)]);
        Assert.Equal(new ScoreResult(0, 0, 0), onlyRedistribute.Score([double.NaN]));
    }

    [Fact]
    public void Score_ZScoreFeature_MeasuresAgainstRollingBaseline()
    {
        var model = new WeightedScoreModel([new ScoreFeature("temperature", 1, Normalization.ZScore(zAtMax: 4))], minBaselineSamples: 20);
        var baselines = new RollingBaseline[1];
        var random = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            ScoreResult warm = model.Score([50 + random.NextDouble() - 0.5], baselines, default);
            Assert.True(i >= 20 || warm.PresentFeatures == 0, "z-scores must wait for the baseline");
        }

        Assert.InRange(model.Score([50.1], baselines, default).Score, 0, 0.3);
        Assert.Equal(1, model.Score([70], baselines, default).Score);
        Assert.Equal(3, model.Score([20], baselines, default).Band); // two-sided: far below is critical too
    }

    [Fact]
    public void Constructor_InvalidConfiguration_ThrowsNamingTheProblem()
    {
        Assert.Contains("'x'", Assert.Throws<ArgumentException>(() => new WeightedScoreModel([new ScoreFeature("x", -1, Normalization.Identity)])).Message, StringComparison.Ordinal);
        Assert.Contains("MinMax", Assert.Throws<ArgumentException>(() => new WeightedScoreModel([new ScoreFeature("y", 1, Normalization.MinMax(5, 5))])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new WeightedScoreModel([new ScoreFeature("z", 0, Normalization.Identity)]));
        Assert.Contains("Logistic", Assert.Throws<ArgumentException>(() => new WeightedScoreModel([new ScoreFeature("w", 1, Normalization.Logistic(5, -1))])).Message, StringComparison.Ordinal); // a score non-decreasing in each risk
        Assert.Throws<ArgumentException>(() => new ScoreBands(["a", "b"], [0.5, 0.7]));
        Assert.Throws<ArgumentException>(() => new ScoreBands(["a", "b", "c"], [0.7, 0.5]));
    }

    [Fact]
    public void SortByContribution_MixedContributions_LargestFirst()
    {
        var explanation = new FeatureContribution[4];
        Model.Score([900, 2, 0.1, 15], explanation);
        ScoreExplanation.SortByContribution(explanation);
        for (int i = 1; i < explanation.Length; i++)
        {
            Assert.True(explanation[i - 1].Contribution >= explanation[i].Contribution);
        }

        Assert.Equal("latency", Model.FeatureAt(explanation[0].Feature).Name);
    }

    public static class ValueArrays
    {
        public static Arbitrary<double[]> Values() => Gen.ArrayOf(RawValue, 4).ToArbitrary();
    }

    public static class Raises
    {
        public static Arbitrary<(double[] Values, int Feature, double Step)> Values()
            => (from values in Gen.ArrayOf(RawValue, 4)
                from feature in Gen.Choose(0, 3)
                from step in Gen.Choose(1, 100_000)
                select (values, feature, step / 100.0)).ToArbitrary();
    }
}
