using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

public sealed class OperatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 9, 0, 0, TimeSpan.Zero);

    private sealed record Click(string Page, string User, bool IsBot, int AdId, DateTimeOffset Time, long Price = 0, decimal Amount = 0);

    private sealed record Campaign(string Name);

    private sealed record CampaignClick(string Campaign, DateTimeOffset Time);

    private static Click At(int seconds, string page, string user = "u", bool bot = false, int ad = 0, long price = 0, decimal amount = 0)
        => new(page, user, bot, ad, T0.AddSeconds(seconds), price, amount);

    private static PipelineTestDriver<TSource, TKey, TResult> Drive<TSource, TKey, TResult>(AggregatedPipelineBuilder<TSource, TKey, TResult> builder)
        where TKey : notnull
        => new(builder.To(new CollectingSink<WindowResult<TKey, TResult>>()).Build(), new FakeTimeProvider(T0));

    [Fact]
    public void WhereThenSelect_BeforeTheWindow_FilterAndMapEachRecordAndCountFiltered()
    {
        var driver = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime(c => c.Time)
            .Where(c => !c.IsBot)
            .Select(c => c.Page.ToUpperInvariant())
            .KeyBy(p => p)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count()));

        var receipt = driver.Push(At(1, "/a"), At(2, "/a", bot: true), At(3, "/b"), At(4, "/a"));
        driver.Complete();

        Assert.Equal(3, receipt.Accepted);
        Assert.Equal(1, receipt.Filtered);
        Assert.Equal(4, receipt.Records);
        Assert.Equal([("/A", 2L), ("/B", 1L)], driver.Results.Select(r => (r.Key, r.Value)).OrderBy(r => r.Key));
    }

    [Fact]
    public void WithEventTime_AfterSelect_ReadsTheMappedTypeAndBeforeSelectIsCarriedThrough()
    {
        var after = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .Select(c => (c.Page, When: c.Time.AddMinutes(1)))
            .WithEventTime(p => p.When)
            .KeyBy(p => p.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count()));
        var before = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime(c => c.Time)
            .Select(c => c.Page)
            .KeyBy(p => p)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count()));

        after.Push(At(10, "/a"));
        before.Push(At(10, "/a"));
        after.Complete();
        before.Complete();

        Assert.Equal(T0.AddMinutes(1), Assert.Single(after.Results).Window.Start);
        Assert.Equal(T0, Assert.Single(before.Results).Window.Start);
    }

    [Fact]
    public void Enrich_InnerAndLeftJoins_UseTheCurrentVersionOfTheTable()
    {
        var campaigns = new LookupTable<int, Campaign>([new(1, new Campaign("spring")), new(2, new Campaign("summer"))]);
        var inner = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime(c => c.Time)
            .Enrich(campaigns, c => c.AdId, (c, campaign) => new CampaignClick(campaign.Name, c.Time))
            .KeyBy(c => c.Campaign)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count()));
        var left = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime(c => c.Time)
            .Enrich(campaigns, c => c.AdId, (c, campaign) => new CampaignClick(campaign.Name, c.Time), new Campaign("(none)"))
            .KeyBy(c => c.Campaign)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count()));

        Click[] first = [At(1, "/", ad: 1), At(2, "/", ad: 3), At(3, "/", ad: 2)];
        Assert.Equal(1, inner.Push(first).Filtered);
        left.Push(first);
        campaigns.Replace([new(1, new Campaign("spring")), new(3, new Campaign("autumn"))]);
        inner.Push(At(4, "/", ad: 3), At(5, "/", ad: 2));
        left.Push(At(4, "/", ad: 3), At(5, "/", ad: 2));
        inner.Complete();
        left.Complete();

        Assert.Equal([("autumn", 1L), ("spring", 1L), ("summer", 1L)], inner.Results.Select(r => (r.Key, r.Value)).OrderBy(r => r.Key));
        Assert.Equal([("(none)", 2L), ("autumn", 1L), ("spring", 1L), ("summer", 1L)], left.Results.Select(r => (r.Key, r.Value)).OrderBy(r => r.Key));
        Assert.Equal(1, campaigns.Version);
    }

    [Fact]
    public void WindowsFedByWindows_TopPagesPerMinute_MatchBruteForce()
    {
        var random = new Random(3);
        var clicks = Enumerable.Range(0, 3000).Select(i => At(i / 20, $"/p{(int)(Math.Pow(random.NextDouble(), 2) * 12)}")).ToArray();
        var driver = Drive(StreamPipeline.Create<Click>(new() { Name = "top-pages" })
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.TopN(3, r => r.Value, r => r.Key)));

        foreach (var batch in clicks.Chunk(50))
        {
            driver.Push(batch);
        }

        driver.Complete();

        var expected = clicks.GroupBy(c => c.Time.Subtract(T0).Ticks / TimeSpan.TicksPerMinute)
            .OrderBy(g => g.Key)
            .Select(g => g.GroupBy(c => c.Page).Select(p => (Count: (long)p.Count(), Page: p.Key)).OrderByDescending(p => p.Count).Take(3).Select(p => p.Count).ToArray())
            .ToArray();
        Assert.Equal(expected.Length, driver.Results.Count);
        Assert.All(driver.Results, r => Assert.Equal(TimeSpan.FromMinutes(1), r.Window.Duration));
        Assert.Equal(expected, driver.Results.OrderBy(r => r.Window.Start).Select(r => r.Value.Select(e => e.Value).ToArray()));
        Assert.All(driver.Results, r => Assert.Equal(r.Value.Select(e => e.Value).OrderDescending(), r.Value.Select(e => e.Value)));
    }

    [Fact]
    public void WindowsFedByWindows_HotAuctionPerSlide_IsTheMaxOfEachSlidingWindow()
    {
        // Nexmark Q5 shape: bids counted per auction over 10 s every 2 s, then the auction with the most bids per window.
        var random = new Random(5);
        var bids = Enumerable.Range(0, 2000).Select(i => At(i / 50, "bid", ad: random.Next(8) == 0 ? 7 : random.Next(30))).ToArray();
        var driver = Drive(StreamPipeline.Create<Click>(new() { Name = "q5" })
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.AdId)
            .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)))
            .Aggregate(a => a.Count())
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(2)))
            .Aggregate(a => a.MaxBy(r => r.Value, r => r.Key)));

        driver.Push(bids);
        driver.Complete();

        foreach (var result in driver.Results)
        {
            var end = result.Window.End;
            var counts = bids.Where(b => b.Time >= end.AddSeconds(-10) && b.Time < end).GroupBy(b => b.AdId).Select(g => (long)g.Count()).ToArray();
            Assert.Equal(counts.Max(), result.Value.Value);
        }

        Assert.Equal(24, driver.Results.Count);
    }

    [Fact]
    public void WindowsFedByWindows_RestoredFromACheckpoint_EndsLikeAnUninterruptedRun()
    {
        AggregatedPipelineBuilder<Click, GlobalKey, IReadOnlyList<Extreme<long, string>>> Builder()
            => StreamPipeline.Create<Click>(new() { Name = "top-pages" })
                .WithEventTime(c => c.Time)
                .KeyBy(c => c.Page)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
                .Aggregate(a => a.Count())
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(2)))
                .Aggregate(a => a.TopN(2, r => r.Value, r => r.Key));
        var random = new Random(9);
        var clicks = Enumerable.Range(0, 1200).Select(i => At(i / 4, $"/p{random.Next(6)}")).ToArray();
        var pipeline = Builder().To(new CollectingSink<WindowResult<GlobalKey, IReadOnlyList<Extreme<long, string>>>>()).Build();
        var whole = new PipelineTestDriver<Click, GlobalKey, IReadOnlyList<Extreme<long, string>>>(pipeline, new FakeTimeProvider(T0));
        var first = new PipelineTestDriver<Click, GlobalKey, IReadOnlyList<Extreme<long, string>>>(pipeline, new FakeTimeProvider(T0));
        foreach (var batch in clicks[..500].Chunk(40))
        {
            whole.Push(batch);
            first.Push(batch);
        }

        var checkpoint = PipelineCheckpoint.Parse(first.CreateCheckpoint().ToBytes());
        var second = new PipelineTestDriver<Click, GlobalKey, IReadOnlyList<Extreme<long, string>>>(pipeline, new FakeTimeProvider(T0), checkpoint);
        foreach (var batch in clicks[500..].Chunk(40))
        {
            whole.Push(batch);
            second.Push(batch);
        }

        whole.Complete();
        second.Complete();

        static string Show(WindowResult<GlobalKey, IReadOnlyList<Extreme<long, string>>> r) => $"{r.Id} {string.Join(",", r.Value.Select(e => $"{e.Item}:{e.Value}"))}";
        Assert.Equal(whole.Results.Select(Show), first.Results.Concat(second.Results).Select(Show));
        Assert.Equal(3, whole.Results.Count);
    }

    [Fact]
    public void Build_StageFeedingWindowsWithLateness_SaysToPutLatenessOnTheLastStage()
    {
        var builder = StreamPipeline.Create<Click>()
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .AllowedLateness(TimeSpan.FromSeconds(30))
            .Aggregate(a => a.Count())
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.MaxBy(r => r.Value, r => r.Key))
            .To(Sinks.Discard<WindowResult<GlobalKey, Extreme<long, string>>>());

        var error = Assert.Throws<ArgumentException>(builder.Build);

        Assert.Contains("last stage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Where_AfterTheLastWindow_KeepsOnlyMatchingResults()
    {
        var driver = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .Where(r => r.Value >= 2));

        driver.Push(At(1, "/a"), At(2, "/a"), At(3, "/b"));
        int emitted = driver.Processor.Complete(new DiscardingOutput());

        Assert.Equal(1, emitted);
        Assert.Empty(driver.Results);
    }

    [Fact]
    public void ExactExtremesAndSelections_OverSlidingSlices_MergeWithoutLoss()
    {
        var driver = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime(c => c.Time)
            .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Max(c => c.Price).And(a.Min(c => c.Amount)).And(a.First(c => c.Time, c => c.User)).And(a.Last(c => c.Time, c => c.User))));

        driver.Push(
            At(1, "/", user: "first", price: long.MaxValue - 1, amount: 0.30000000000000004m),
            At(12, "/", user: "middle", price: long.MaxValue - 2, amount: 0.1m),
            At(25, "/", user: "last", price: 9_007_199_254_740_993, amount: 0.2m));
        driver.Complete();

        var whole = Assert.Single(driver.Results, r => r.Window.Start == T0);
        Assert.Equal(long.MaxValue - 1, whole.Value.Item1);
        Assert.Equal(0.1m, whole.Value.Item2);
        Assert.Equal("first", whole.Value.Item3.Item);
        Assert.Equal("last", whole.Value.Item4.Item);
        var tail = Assert.Single(driver.Results, r => r.Window.Start == T0.AddSeconds(20));
        Assert.Equal(9_007_199_254_740_993, tail.Value.Item1);
    }

    private sealed class DiscardingOutput : IWindowOutput<Click, string, long>
    {
        public void OnResult(in WindowResult<string, long> result)
        {
        }

        public void OnLateRecord(in LateRecord<Click> record)
        {
        }

        public void OnDeadLetter(DeadLetter deadLetter)
        {
        }
    }

    [Fact]
    public void StaticSelectors_TimeFilterMapAndKey_GiveTheSameResultsAsLambdas()
    {
        var random = new Random(11);
        var clicks = Enumerable.Range(0, 500).Select(i => At(i / 5, $"/p{random.Next(5)}", bot: random.Next(10) == 0)).ToArray();
        var lambdas = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime(c => c.Time.ToUnixTimeMilliseconds())
            .Where(c => !c.IsBot)
            .Select(c => c.Page)
            .KeyBy(p => p)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count()));
        var statics = Drive(StreamPipeline.Create<Click>(new() { Name = "ops" })
            .WithEventTime<ClickTime>()
            .Where<NotBot>()
            .Select<PageOf, string>()
            .KeyBy<Itself, string>()
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(a => a.Count()));

        foreach (var batch in clicks.Chunk(25))
        {
            lambdas.Push(batch);
            statics.Push(batch);
        }

        lambdas.Complete();
        statics.Complete();

        Assert.Equal(lambdas.Results.Select(r => (r.Id, r.Value)).Order(), statics.Results.Select(r => (r.Id, r.Value)).Order());
        Assert.True(statics.Results.Count > 20);
    }

    private readonly struct ClickTime : IUnixTimeSelector<Click>
    {
        public static long Select(in Click value) => value.Time.ToUnixTimeMilliseconds();
    }

    private readonly struct NotBot : IEventFilter<Click>
    {
        public static bool Keep(in Click value) => !value.IsBot;
    }

    private readonly struct PageOf : IEventMap<Click, string>
    {
        public static string Map(in Click value) => value.Page;
    }

    private readonly struct Itself : IKeySelector<string, string>
    {
        public static string? Select(in string value) => value;
    }
}
