using Analytics.Streaming.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

/// <summary>
/// Operator chains folded into delegates, as Native AOT builds them (<c>OperatorChains.Flatten</c> forces that path
/// under the JIT): every operator must give the results of the nested chain types.
/// </summary>
[Collection(nameof(FlatOperatorChainTests))]
[CollectionDefinition(nameof(FlatOperatorChainTests), DisableParallelization = true)]
public sealed class FlatOperatorChainTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FlatChains_GiveTheResultsOfNestedChains_ForEveryOperator()
    {
        var events = Events();
        var nested = await RunAll(events, flatten: false);
        var flat = await RunAll(events, flatten: true);

        Assert.Equal(5, nested.Length);
        Assert.All(nested, results => Assert.NotEmpty(results));
        Assert.Equal(nested, flat);
    }

    private static async Task<string[][]> RunAll(TestEvent[] events, bool flatten)
    {
        OperatorChains.Flatten = flatten;
        try
        {
            var table = new LookupTable<int, string>(new Dictionary<int, string> { [0] = "zero", [1] = "one", [2] = "two" });

            // Lambdas: time as DateTimeOffset, filter, map, lookup with a default, keyed windows, windows fed by windows.
            var lambdas = new CollectingSink<WindowResult<GlobalKey, Extreme<long, string>>>();
            await StreamPipeline.Create<TestEvent>(new() { Name = "lambdas" })
                .WithEventTime(e => e.Time)
                .Where(e => e.Value % 5 != 0)
                .Select(e => e with { Value = e.Value * 2 })
                .Enrich(table, e => e.Key, (e, name) => (Name: name, e.Value), missing: "other")
                .KeyBy(e => e.Name)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                .Aggregate(a => a.Sum(e => (long)e.Value))
                .Where(r => r.Value > 0)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                .Aggregate(a => a.MaxBy(r => r.Value, r => r.Key))
                .To(lambdas)
                .Build()
                .RunAsync(InMemorySource<TestEvent>.FromEvents(events, "p", 17), Token);

            // Time in Unix milliseconds, an inner join that drops misses.
            var unix = new CollectingSink<WindowResult<string, long>>();
            await StreamPipeline.Create<TestEvent>(new() { Name = "unix" })
                .Enrich(table, e => e.Key, (e, name) => (Name: name, Ms: e.Time.ToUnixTimeMilliseconds()))
                .WithEventTime(e => e.Ms)
                .KeyBy(e => e.Name)
                .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5)))
                .Aggregate(a => a.Count())
                .To(unix)
                .Build()
                .RunAsync(InMemorySource<TestEvent>.FromEvents(events, "p", 17), Token);

            // Static selectors.
            var statics = new CollectingSink<WindowResult<GlobalKey, long>>();
            await StreamPipeline.Create<TestEvent>(new() { Name = "static" })
                .WithEventTime<UnixTime>()
                .Where<EvenKey>()
                .Select<ValueOf, long>()
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                .Aggregate(a => a.Sum(v => v))
                .To(statics)
                .Build()
                .RunAsync(InMemorySource<TestEvent>.FromEvents(events, "p", 17), Token);

            // A pipeline without windows.
            var perEvent = new CollectingSink<WindowResult<StreamPosition, int>>();
            await StreamPipeline.Create<TestEvent>(new() { Name = "per-event" })
                .WithEventTime(e => e.Time)
                .Where(e => e.Key == 1)
                .Select(e => e.Value)
                .PerEvent()
                .To(perEvent)
                .Build()
                .RunAsync(InMemorySource<TestEvent>.FromEvents(events, "p", 17), Token);

            // A flat-map on each side of a time choice, two of them, and a window fed by windows after it.
            var expanded = new CollectingSink<WindowResult<GlobalKey, Extreme<long, int>>>();
            await StreamPipeline.Create<TestEvent>(new() { Name = "select-many" })
                .WithEventTime(e => e.Time)
                .Where(e => e.Value % 5 != 0)
                .SelectMany(e => Enumerable.Range(0, e.Key).Select(i => e with { Value = e.Value + i }))
                .SelectMany(e => new[] { e.Value, e.Value * 2 })
                .Where(v => v % 3 != 0)
                .KeyBy(v => v % 7)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                .Aggregate(a => a.Sum(v => (long)v))
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                .Aggregate(a => a.MaxBy(r => r.Value, r => r.Key))
                .To(expanded)
                .Build()
                .RunAsync(InMemorySource<TestEvent>.FromEvents(events, "p", 17), Token);

            return
            [
                [.. lambdas.Items.Select(r => $"{r.Window.Start:O} {r.Value.Value} {r.Value.Item}")],
                [.. unix.Items.Select(r => $"{r.Key} {r.Window.Start:O} {r.Value}")],
                [.. statics.Items.Select(r => $"{r.Window.Start:O} {r.Value}")],
                [.. perEvent.Items.Select(r => $"{r.Id} {r.Value}")],
                [.. expanded.Items.Select(r => $"{r.Window.Start:O} {r.Value.Value} {r.Value.Item}")],
            ];
        }
        finally
        {
            OperatorChains.Flatten = false;
        }
    }

    private static TestEvent[] Events()
    {
        var random = new Random(7);
        return [.. Enumerable.Range(0, 600).Select(i => new TestEvent(random.Next(4), 1 + (i / 10) + random.Next(3), random.Next(100)))];
    }

    private readonly struct UnixTime : IUnixTimeSelector<TestEvent>
    {
        public static long Select(in TestEvent value) => value.Time.ToUnixTimeMilliseconds();
    }

    private readonly struct EvenKey : IEventFilter<TestEvent>
    {
        public static bool Keep(in TestEvent value) => value.Key % 2 == 0;
    }

    private readonly struct ValueOf : IEventMap<TestEvent, long>
    {
        public static long Map(in TestEvent value) => value.Value;
    }
}
