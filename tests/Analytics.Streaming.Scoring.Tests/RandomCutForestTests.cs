using Analytics.Streaming.Scoring;

namespace Analytics.Streaming.Scoring.Tests;

public sealed class RandomCutForestTests(ITestOutputHelper output)
{
    [Fact]
    public void Update_SyntheticStreamWithInjectedAnomalies_PrecisionAndRecallAtLeast90Percent()
    {
        (double[][] stream, bool[] labels) = Synthetic(6_000, seed: 2024);
        var forest = new RandomCutForest(new RandomCutForestOptions { Dimensions = 3 });
        var scores = new List<(double Score, bool Label)>();
        int truePositives = 0, falsePositives = 0, falseNegatives = 0;
        for (int t = 0; t < stream.Length; t++)
        {
            AnomalyResult result = forest.Update(stream[t]);
            if (result.Status != AnomalyStatus.Scored || t < 1_000)
            {
                continue; // evaluate once the samplers hold a representative sample
            }

            scores.Add((result.Score, labels[t]));
            if (result.IsAnomaly && labels[t])
            {
                truePositives++;
            }
            else if (result.IsAnomaly)
            {
                falsePositives++;
            }
            else if (labels[t])
            {
                falseNegatives++;
            }
        }

        double precision = truePositives / (double)(truePositives + falsePositives);
        double recall = truePositives / (double)(truePositives + falseNegatives);
        double auc = Auc(scores);
        double[] normalScores = [.. scores.Where(s => !s.Label).Select(s => s.Score).Order()];
        double[] anomalyScores = [.. scores.Where(s => s.Label).Select(s => s.Score).Order()];
        output.WriteLine("normal p50 {0:F2} p90 {1:F2} p99 {2:F2} p999 {3:F2} max {4:F2}; anomalies min {5:F2} p10 {6:F2} p50 {7:F2}", normalScores[normalScores.Length / 2], normalScores[(int)(normalScores.Length * 0.9)], normalScores[(int)(normalScores.Length * 0.99)], normalScores[(int)(normalScores.Length * 0.999)], normalScores[^1], anomalyScores[0], anomalyScores[anomalyScores.Length / 10], anomalyScores[anomalyScores.Length / 2]);
        foreach (double th in new[] { 1.2, 1.25, 1.3, 1.35, 1.4, 1.5 })
        {
            int tp = scores.Count(s => s.Label && s.Score >= th), fp = scores.Count(s => !s.Label && s.Score >= th);
            output.WriteLine($"sweep {th}: precision {tp / (double)(tp + fp):F3} recall {tp / (double)scores.Count(s => s.Label):F3}");
        }

        output.WriteLine($"threshold {forest.AnomalyThreshold}: precision {precision:F3}, recall {recall:F3}, AUC {auc:F4} ({truePositives + falseNegatives} anomalies in {scores.Count} points)");
        Assert.True(precision >= 0.9, $"precision {precision:F3}");
        Assert.True(recall >= 0.9, $"recall {recall:F3}");
        Assert.True(auc >= 0.95, $"AUC {auc:F4}");
    }

    [Fact]
    public void Update_SameSeed_IsReproducible()
    {
        (double[][] stream, _) = Synthetic(1_500, seed: 1);
        double[] a = Run(new RandomCutForest(new RandomCutForestOptions { Dimensions = 3, Seed = 7, TreeCount = 10 }), stream);
        double[] b = Run(new RandomCutForest(new RandomCutForestOptions { Dimensions = 3, Seed = 7, TreeCount = 10 }), stream);
        double[] c = Run(new RandomCutForest(new RandomCutForestOptions { Dimensions = 3, Seed = 8, TreeCount = 10 }), stream);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Update_AnomalyInOneDimension_AttributionSumsToScoreAndNamesThatDimension()
    {
        (double[][] stream, _) = Synthetic(2_000, seed: 5, anomalies: false);
        var forest = new RandomCutForest(new RandomCutForestOptions { Dimensions = 3 });
        Run(forest, stream);
        double[] spike = [.. stream[^1]];
        spike[2] += 25;
        var attribution = new double[3];
        AnomalyResult result = forest.Update(spike, attribution);
        Assert.True(result.IsAnomaly, $"score {result.Score}");
        Assert.Equal(result.Score, attribution.Sum(), 9);
        Assert.Equal(2, Array.IndexOf(attribution, attribution.Max()));
    }

    [Fact]
    public void Update_ShingledSineWithFastSection_FlagsTheContextualAnomaly()
    {
        // Values of the fast section are normal on their own; only their shape in time is abnormal.
        var forest = new RandomCutForest(new RandomCutForestOptions { Dimensions = 1, ShingleSize = 8, Seed = 3 });
        var random = new Random(4);
        double maxInside = 0, maxOutside = 0;
        for (int t = 0; t < 4_000; t++)
        {
            bool fast = t is >= 3_500 and < 3_520;
            double value = Math.Sin(t * 2 * Math.PI / (fast ? 10 : 50)) + (0.02 * EwmaZScoreDetectorTests.Normal(random));
            AnomalyResult result = forest.Update([value]);
            if (t < 1_000)
            {
                continue;
            }

            if (t is >= 3_500 and < 3_530)
            {
                maxInside = Math.Max(maxInside, result.Score);
            }
            else
            {
                maxOutside = Math.Max(maxOutside, result.Score);
            }
        }

        output.WriteLine($"max score in the fast section {maxInside:F2}, elsewhere {maxOutside:F2}");
        Assert.True(maxInside >= forest.AnomalyThreshold);
        Assert.True(maxInside > maxOutside);
    }

    [Fact]
    public void Update_BadInput_FollowsPolicy()
    {
        var forest = new RandomCutForest(new RandomCutForestOptions { Dimensions = 2, SampleSize = 16, TreeCount = 2 });
        Assert.Equal(AnomalyStatus.Missing, forest.Update([double.NaN, 1]).Status);
        Assert.Equal(0, forest.InputCount);
        Assert.Equal(AnomalyStatus.WarmingUp, forest.Update([1, 1]).Status);
        Assert.Throws<ArgumentException>(() => forest.Update([1, 2, 3]));
        Assert.Throws<ArgumentException>(() => new RandomCutForest(new RandomCutForestOptions()));
        Assert.Throws<ArgumentException>(() => new RandomCutForest(new RandomCutForestOptions { Dimensions = 2, SampleSize = 2 }));
    }

    [Fact]
    public void Update_RepeatedIdenticalPoints_StaysStableAndScoresLow()
    {
        var forest = new RandomCutForest(new RandomCutForestOptions { Dimensions = 2, SampleSize = 32, TreeCount = 5 });
        AnomalyResult last = default;
        for (int i = 0; i < 2_000; i++)
        {
            last = forest.Update([1, 2]);
        }

        Assert.Equal(AnomalyStatus.Scored, last.Status);
        Assert.False(last.IsAnomaly);
        Assert.True(forest.Update([50, 2]).IsAnomaly);
    }

    private static double[] Run(RandomCutForest forest, double[][] stream)
    {
        var scores = new double[stream.Length];
        for (int t = 0; t < stream.Length; t++)
        {
            scores[t] = forest.Update(stream[t]).Score;
        }

        return scores;
    }

    internal static (double[][] Stream, bool[] Labels) Synthetic(int length, int seed, bool anomalies = true)
    {
        // Three correlated dimensions on a slow cycle, (10 sin p, 10 cos p, 5 sin p + 20), with Gaussian noise of
        // sd 0.5 in each. About 1% of points (after the first 300) are anomalies: shifted in one dimension by 8 to 15
        // so that they end at least 6 (12 noise sd) from every point of the noise-free cycle, which makes the
        // labels unambiguous (a shift along the cycle could otherwise land on normal ground).
        var random = new Random(seed);
        var stream = new double[length][];
        var labels = new bool[length];
        for (int t = 0; t < length; t++)
        {
            double phase = t * 2 * Math.PI / 200;
            double x = (10 * Math.Sin(phase)) + (0.5 * EwmaZScoreDetectorTests.Normal(random));
            double y = (10 * Math.Cos(phase)) + (0.5 * EwmaZScoreDetectorTests.Normal(random));
            double z = (5 * Math.Sin(phase)) + 20 + (0.5 * EwmaZScoreDetectorTests.Normal(random));
            if (anomalies && t > 300 && random.NextDouble() < 0.01)
            {
                labels[t] = true;
                double[] shifted;
                do
                {
                    double shift = (8 + (random.NextDouble() * 7)) * (random.NextDouble() < 0.5 ? -1 : 1);
                    int dimension = random.Next(3);
                    shifted = [x + (dimension == 0 ? shift : 0), y + (dimension == 1 ? shift : 0), z + (dimension == 2 ? shift : 0)];
                }
                while (DistanceToCycle(shifted) < 6);
                (x, y, z) = (shifted[0], shifted[1], shifted[2]);
            }

            stream[t] = [x, y, z];
        }

        return (stream, labels);
    }

    private static double DistanceToCycle(double[] point)
    {
        double best = double.MaxValue;
        for (int i = 0; i < 720; i++)
        {
            double phase = i * 2 * Math.PI / 720;
            double dx = point[0] - (10 * Math.Sin(phase));
            double dy = point[1] - (10 * Math.Cos(phase));
            double dz = point[2] - ((5 * Math.Sin(phase)) + 20);
            best = Math.Min(best, Math.Sqrt((dx * dx) + (dy * dy) + (dz * dz)));
        }

        return best;
    }

    private static double Auc(List<(double Score, bool Label)> scores)
    {
        // Probability that a random anomaly outscores a random normal point (ties count half).
        double[] positives = [.. scores.Where(s => s.Label).Select(s => s.Score)];
        double[] negatives = [.. scores.Where(s => !s.Label).Select(s => s.Score).Order()];
        double wins = 0;
        foreach (double p in positives)
        {
            int below = LowerBound(negatives, p);
            int notAbove = UpperBound(negatives, p);
            wins += below + ((notAbove - below) / 2.0);
        }

        return wins / (positives.Length * (double)negatives.Length);
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (sorted[mid] < value) { lo = mid + 1; } else { hi = mid; }
        }

        return lo;
    }

    private static int UpperBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (sorted[mid] <= value) { lo = mid + 1; } else { hi = mid; }
        }

        return lo;
    }
}
