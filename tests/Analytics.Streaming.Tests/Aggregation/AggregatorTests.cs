namespace Analytics.Streaming.Tests.Aggregation;

public sealed class AggregatorTests
{
    private static TResult Run<TAggregator, TAccumulator, TResult>(Aggregation<double, TAggregator, TAccumulator, TResult> aggregation, params double[] values)
        where TAggregator : struct, IAggregator<double, TAccumulator, TResult>
    {
        var aggregator = aggregation.Aggregator;
        var left = aggregator.CreateAccumulator();
        var right = aggregator.CreateAccumulator();
        for (int i = 0; i < values.Length; i++)
        {
            if (i % 2 == 0)
            {
                aggregator.Add(ref left, values[i]);
            }
            else
            {
                aggregator.Add(ref right, values[i]);
            }
        }

        aggregator.Merge(ref left, right);
        return aggregator.GetResult(left);
    }

    private static readonly AggregateFactory<double> A = Aggregates.For<double>();

    [Fact]
    public void BuiltIns_MergedHalves_EqualTheWhole()
    {
        Assert.Equal(4, Run(A.Count(), 1, 2, 3, 4));
        Assert.Equal(10.0, Run(A.Sum(x => x), 1, 2, 3, 4));
        Assert.Equal(10L, Run(A.Sum(x => (long)x), 1, 2, 3, 4));
        Assert.Equal(-3.0, Run(A.Min(x => x), 1, -3, 3, 4));
        Assert.Equal(4.0, Run(A.Max(x => x), 1, 2, 3, 4));
        Assert.Equal(2.5, Run(A.Average(x => x), 1, 2, 3, 4));
        Assert.Equal((4L, 10.0), Run(A.Count().And(A.Sum(x => x)), 1, 2, 3, 4));
    }

    [Fact]
    public void MinMaxAverage_IgnoreNaN()
    {
        Assert.Equal(1.0, Run(A.Min(x => x), double.NaN, 1, double.NaN, 2));
        Assert.Equal(2.0, Run(A.Max(x => x), double.NaN, 1, double.NaN, 2));
        Assert.Equal(1.5, Run(A.Average(x => x), double.NaN, 1, double.NaN, 2));
    }

    [Fact]
    public void Empty_HaveDocumentedIdentities()
    {
        Assert.Equal(double.PositiveInfinity, Run(A.Min(x => x)));
        Assert.Equal(double.NegativeInfinity, Run(A.Max(x => x)));
        Assert.True(double.IsNaN(Run(A.Average(x => x))));
    }

    [Fact]
    public void Int64Sum_WrapsInsteadOfThrowing()
        => Assert.Equal(long.MinValue, Run(A.Sum(x => x > 0 ? long.MaxValue : 1L), 1, -1));

    [Fact]
    public void And_ThreeAndFour_GiveFlatTuples()
    {
        (long Count, double Sum, double Max) three = Run(A.Count().And(A.Sum(x => x)).And(A.Max(x => x)), 1, 2, 3, 4);
        (long, double, double, double) four = Run(A.Count().And(A.Sum(x => x)).And(A.Max(x => x)).And(A.Min(x => x)), 1, 2, 3, 4);

        Assert.Equal((4L, 10.0, 4.0), three);
        Assert.Equal((4L, 10.0, 4.0, 1.0), four);
    }

    [Fact]
    public void Select_TurnsTheResultIntoANamedType()
    {
        var stats = Run(A.Count().And(A.Average(x => x)).Select(r => new Stats(r.Item1, r.Item2)), 1, 2, 3, 4);

        Assert.Equal(new Stats(4, 2.5), stats);
    }

    private sealed record Stats(long Count, double Average);
}
