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
    public void Selections_WithTies_GiveOneResultWhateverTheOrderOfTheInputs()
    {
        // (value, item) pairs with ties on the value; every order of the inputs, split into two merged halves each way.
        (int Value, string Item)[] inputs = [(5, "c"), (7, "b"), (5, "a"), (7, "d"), (7, "a2"), (1, "z"), (1, "y")];
        var f = Aggregates.For<(int Value, string Item)>();
        var results = new HashSet<string>(StringComparer.Ordinal);
        var random = new Random(3);
        for (int round = 0; round < 200; round++)
        {
            var order = inputs.OrderBy(_ => random.Next()).ToArray();
            int split = random.Next(order.Length + 1);
            string Show<TAggregator, TAccumulator, TResult>(Aggregation<(int Value, string Item), TAggregator, TAccumulator, TResult> aggregation, Func<TResult, string> show)
                where TAggregator : struct, IAggregator<(int Value, string Item), TAccumulator, TResult>
            {
                var aggregator = aggregation.Aggregator;
                var left = aggregator.CreateAccumulator();
                var right = aggregator.CreateAccumulator();
                for (int i = 0; i < order.Length; i++)
                {
                    if (i < split)
                    {
                        aggregator.Add(ref left, order[i]);
                    }
                    else
                    {
                        aggregator.Add(ref right, order[i]);
                    }
                }

                aggregator.Merge(ref right, left);
                return show(aggregator.GetResult(right));
            }

            results.Add(string.Join(
                " | ",
                Show(f.MaxBy(x => x.Value, x => x.Item), e => $"{e.Value}:{e.Item}"),
                Show(f.MinBy(x => x.Value, x => x.Item), e => $"{e.Value}:{e.Item}"),
                Show(f.First(x => TestEvent.At(x.Value), x => x.Item), e => e.Item),
                Show(f.Last(x => TestEvent.At(x.Value), x => x.Item), e => e.Item),
                Show(f.TopN(4, x => x.Value, x => x.Item), top => string.Join(",", top.Select(e => $"{e.Value}:{e.Item}")))));
        }

        // The smaller item wins a tie (ordinal: "a" < "a2" < "b").
        Assert.Equal("7:a2 | 1:y | y | a2 | 7:a2,7:b,7:d,5:a", Assert.Single(results));
    }

    [Fact]
    public void MaxBy_ItemsWithoutAnOrder_KeepTheInputHeldFirst()
    {
        var f = Aggregates.For<(int Value, object Item)>();
        var aggregator = f.MaxBy(x => x.Value, x => x.Item).Aggregator;
        object first = new(), second = new();
        var accumulator = aggregator.CreateAccumulator();
        aggregator.Add(ref accumulator, (3, first));
        aggregator.Add(ref accumulator, (3, second));

        Assert.Same(first, aggregator.GetResult(accumulator).Item);
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
