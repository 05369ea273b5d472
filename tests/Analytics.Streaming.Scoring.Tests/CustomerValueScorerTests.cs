using Analytics.Streaming.Scoring;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Scoring.Tests;

public sealed class CustomerValueScorerTests
{
    private static readonly CustomerValueScorer Scorer = new();

    private static Gen<double> Field(int low, int high) =>
        Gen.Frequency((9, Gen.Choose(low * 10, high * 10).Select(i => i / 10.0)), (1, Gen.Elements(double.NaN, double.NegativeInfinity)));

    private static Gen<CustomerActivity> Activities =>
        from recency in Field(0, 400)
        from frequency in Field(0, 60)
        from monetary in Field(-10, 20_000)
        from satisfaction in Field(0, 6)
        from tenure in Field(0, 2_000)
        from returns in Field(0, 1)
        select new CustomerActivity(recency, frequency, monetary, satisfaction, tenure, returns);

    [Property(Arbitrary = [typeof(ActivityValues)])]
    public bool Score_AnyActivity_InRangeDeterministicAndExplained(CustomerActivity activity)
    {
        var explanation = new FeatureContribution[CustomerValueScorer.FeatureCount];
        double score = Scorer.Score(activity, explanation);
        return score >= 0 && score <= 1 && score == Scorer.Score(activity) && Math.Abs(explanation.Sum(c => c.Contribution) - score) < 1e-12;
    }

    [Property(Arbitrary = [typeof(Improvements)])]
    public bool Score_BetterBehaviourInAnyFeature_NeverLowersValue((CustomerActivity Activity, int Feature, double Step) t)
    {
        (CustomerActivity a, int feature, double step) = t;
        CustomerActivity better = feature switch
        {
            0 => a with { DaysSinceLastPurchase = a.DaysSinceLastPurchase - step },
            1 => a with { PurchaseCount = a.PurchaseCount + step },
            2 => a with { MonetaryValue = a.MonetaryValue + step },
            3 => a with { Satisfaction = a.Satisfaction + step },
            4 => a with { TenureDays = a.TenureDays + step },
            _ => a with { ReturnRate = a.ReturnRate - step },
        };
        return Scorer.Score(better) >= Scorer.Score(a) - 1e-12;
    }

    [Fact]
    public void Score_KnownCustomer_MatchesDocumentedFormula()
    {
        var activity = new CustomerActivity(30, 20, 5000, 5, 730, 0);
        Assert.Equal((0.25 * 0.5) + 0.25 + 0.30 + 0.10 + 0.05 + 0.05, Scorer.Score(activity), 12);
        Assert.Equal(0, Scorer.Score(new CustomerActivity(double.NaN, double.NaN, double.NaN)));
    }

    [Fact]
    public void Segmentation_TenThousandCustomers_TopEightPercentAreHighValue()
    {
        var random = new Random(8);
        var scores = new double[10_000];
        var shards = new[] { new CustomerSegmentation(), new CustomerSegmentation() };
        for (int i = 0; i < scores.Length; i++)
        {
            var activity = new CustomerActivity(random.Next(0, 365), random.Next(0, 30), Math.Exp(random.NextDouble() * 9), 1 + (random.NextDouble() * 4), random.Next(0, 1_500), random.NextDouble() * 0.3);
            scores[i] = Scorer.Score(activity);
            shards[i % 2].Observe(scores[i]);
        }

        CustomerSegmentation segmentation = shards[0];
        segmentation.Merge(shards[1]);
        segmentation.UpdateThresholds();
        Assert.Equal(10_000, segmentation.ObservedCount);
        int[] counts = new int[segmentation.SegmentCount];
        foreach (double score in scores)
        {
            counts[segmentation.Classify(score)]++;
        }

        Assert.Equal("high-value", segmentation.SegmentAt(0).Name);
        Assert.InRange(counts[0], 700, 900);
        Assert.InRange(counts[1], 2_000, 2_400);
        Assert.InRange(counts[3], 2_800, 3_200);
        Assert.Equal(3, segmentation.Classify(double.NaN));
    }

    [Fact]
    public void Segmentation_InvalidShares_Throw()
    {
        Assert.Throws<ArgumentException>(() => new CustomerSegmentation([new CustomerSegment("a", 0.5), new CustomerSegment("b", 0.4)]));
        Assert.Throws<ArgumentException>(() => new CustomerSegmentation([]));
        Assert.Throws<ArgumentException>(() => new CustomerValueScorer(new CustomerValueOptions { SatisfactionMax = 1 }));
    }

    public static class ActivityValues
    {
        public static Arbitrary<CustomerActivity> Values() => Activities.ToArbitrary();
    }

    public static class Improvements
    {
        public static Arbitrary<(CustomerActivity Activity, int Feature, double Step)> Values()
            => (from a in Activities
                from feature in Gen.Choose(0, 5)
                from step in Gen.Choose(1, 1_000)
                select (a, feature, step / 10.0)).ToArbitrary();
    }
}
