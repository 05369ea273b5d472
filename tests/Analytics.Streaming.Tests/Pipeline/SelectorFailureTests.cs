using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Globalization;
using System.Text;
using Analytics.Streaming.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Pipeline;

/// <summary>
/// Operators and selectors in front of the window that throw: the record becomes a dead letter with the exception, the
/// stream goes on, the windows hold exactly the other records, and that stays true across restarts (replays included).
/// An aggregator that throws still stops the pipeline.
/// </summary>
public sealed class SelectorFailureTests
{
    private static readonly TimeSpan TenSeconds = TimeSpan.FromSeconds(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("tumbling")]
    [InlineData("sliding")]
    [InlineData("session")]
    public void ThrowingTimeWhereSelectOrKey_RecordIsADeadLetterAndTheWindowsHoldTheOthers(string window)
    {
        var views = Views(count: 600, seed: 3);
        var pipeline = Pipeline(window, new() { Name = "views" }, new CollectingSink<WindowResult<string, (long, long)>>(), null);
        var driver = new PipelineTestDriver<View, string, (long Count, long Amount)>(pipeline);

        var receipts = views.Chunk(37).Select(batch => driver.Push(batch)).ToArray();
        driver.Complete();

        // Counted as the records went: the filtered and dead letters before a failure in a batch count too.
        var bad = views.Where(IsBad).ToArray();
        Assert.Equal(bad.Length, receipts.Sum(r => r.DeadLetters));
        Assert.Equal(views.Count(v => !IsBad(v) && v.Id % 13 == 0), receipts.Sum(r => r.Filtered));
        Assert.Equal(views.Count(v => !IsBad(v) && v.Id % 13 != 0), receipts.Sum(r => r.Accepted));
        Assert.Equal(0, receipts.Sum(r => r.Late));
        Assert.True(bad.Length > 40, $"Only {bad.Length} bad views.");
        Assert.Equal(bad.Select(v => (long)v.Id + 1), driver.DeadLetters.Select(d => d.Position.Sequence.TryToInt64(out long s) ? s : -1));
        Assert.All(driver.DeadLetters, d => Assert.Equal(DeadLetterReason.SelectorFailed, d.Reason));
        Assert.Contains(driver.DeadLetters, d => d.Message.Contains("System.FormatException", StringComparison.Ordinal));
        Assert.Contains(driver.DeadLetters, d => d.Message.Contains("System.NullReferenceException", StringComparison.Ordinal));
        Assert.Contains(driver.DeadLetters, d => d.Message.Contains("System.ArgumentOutOfRangeException", StringComparison.Ordinal));
        Assert.Contains(driver.DeadLetters, d => d.Message.Contains("where-failed", StringComparison.Ordinal));
        Assert.Equal(Expected(views, window), Table(driver.LatestResults.Values));
    }

    [Theory]
    [InlineData("tumbling", WindowStateMode.Always)]
    [InlineData("tumbling", WindowStateMode.Never)]
    [InlineData("sliding", WindowStateMode.Never)]
    [InlineData("session", WindowStateMode.Always)]
    public async Task StoppedAndResumed_TheTableIsThatOfOneRunAndEveryBadRecordIsADeadLetter(string window, WindowStateMode state)
    {
        // Without window state, the resumed run replays the records of the open windows, bad ones included.
        var batches = Batches(partitions: 3, batchesPerPartition: 40, seed: 5);
        var (oneRun, oneRunDeadLetters, first, table, deadLetters, resumed) = await OneRunAndStoppedAndResumedAsync(batches, state, (options, sink, dead) => Pipeline(window, options, sink, dead));

        var bad = batches.SelectMany(b => b.Records.ToArray().Where(r => IsBad(r.Value)).Select(r => $"{b.PartitionId}/{r.Sequence}")).ToHashSet();
        Assert.True(bad.Count > 40, $"Only {bad.Count} bad views.");
        Assert.Equal(bad.Order(StringComparer.Ordinal), oneRunDeadLetters.Items.Select(Name).Order(StringComparer.Ordinal));
        Assert.Equal(bad.Order(StringComparer.Ordinal), deadLetters.Items.Select(Name).Distinct().Order(StringComparer.Ordinal));
        Assert.NotNull(resumed.Statistics.RestoredFrom);
        Assert.True(oneRun.Rows.Count > 15, $"Only {oneRun.Rows.Count} windows.");
        Assert.Equal(oneRun.Rows, table.Rows);

        var stats = first.Statistics;
        Assert.Equal(bad.Count, stats.DeadLetters);
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.RecordsFiltered + stats.DeadLetters + stats.LateRecords);

        static string Name(DeadLetter d) => $"{d.Position.PartitionId}/{d.Position.Sequence}";
    }

    [Fact]
    public void PerEvent_ThrowingSelect_RecordIsADeadLetterAndTheOthersAreResults()
    {
        var pipeline = StreamPipeline.Create<View>(new() { Name = "amounts" })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .Select(v => int.Parse(v.Amount, CultureInfo.InvariantCulture))
            .PerEvent()
            .To(new CollectingSink<WindowResult<StreamPosition, int>>())
            .Build();
        var driver = new PipelineTestDriver<View, StreamPosition, int>(pipeline);

        var receipt = driver.Push(new View(0, "a", 1, "5"), new View(1, "a", 2, "n/a"), new View(2, "b", 3, "7"));

        Assert.Equal([5, 7], driver.Results.Select(r => r.Value));
        var deadLetter = Assert.Single(driver.DeadLetters);
        Assert.Equal((DeadLetterReason.SelectorFailed, "2"), (deadLetter.Reason, deadLetter.Position.Sequence.ToString()));
        Assert.Equal((2, 1), (receipt.Accepted, receipt.DeadLetters));
    }

    [Fact]
    public void SelectMany_ExpansionThrowsPartWay_TheRecordIsOneDeadLetterAndNoneOfItsItemsCount()
    {
        var pipeline = StreamPipeline.Create<View>(new() { Name = "letters" })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .SelectMany(Letters)
            .KeyBy(c => c.ToString())
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count())
            .To(new CollectingSink<WindowResult<string, long>>())
            .Build();
        var driver = new PipelineTestDriver<View, string, long>(pipeline);

        // "ab!" yields 'a' and 'b' before it throws at '!': neither counts.
        var receipt = driver.Push(new View(0, "ab", 1, "0"), new View(1, "ab!", 2, "0"), new View(2, "b", 3, "0"));
        driver.Complete();

        Assert.Equal(["a 1", "b 2"], driver.Results.Select(r => $"{r.Key} {r.Value}").Order(StringComparer.Ordinal));
        var deadLetter = Assert.Single(driver.DeadLetters);
        Assert.Equal((DeadLetterReason.SelectorFailed, "2"), (deadLetter.Reason, deadLetter.Position.Sequence.ToString()));
        Assert.Contains("not a letter", deadLetter.Message, StringComparison.Ordinal);
        Assert.Equal((3, 1), (receipt.Accepted, receipt.DeadLetters));

        static IEnumerable<char> Letters(View v)
        {
            foreach (char c in v.Page!)
            {
                yield return char.IsLetter(c) ? c : throw new FormatException($"'{c}' is not a letter.");
            }
        }
    }

    [Fact]
    public void WindowsFedByWindows_ThrowingKeyOfTheFurtherStage_ResultIsADeadLetterAndTheOthersCount()
    {
        var pipeline = StreamPipeline.Create<View>(new() { Name = "top" })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .KeyBy(v => v.Page!)
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count())
            .KeyBy(r => r.Key == "broken" ? throw new InvalidOperationException("no section") : r.Key[..1])
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(20)))
            .Aggregate(a => a.Sum(r => r.Value))
            .To(new CollectingSink<WindowResult<string, long>>())
            .Build();
        var driver = new PipelineTestDriver<View, string, long>(pipeline);

        driver.Push(new View(0, "ab", 1, "0"), new View(1, "broken", 2, "0"), new View(2, "ac", 3, "0"), new View(3, "ab", 12, "0"), new View(4, "bc", 13, "0"));
        driver.Complete();

        Assert.Equal(["a 3", "b 1"], driver.Results.Select(r => $"{r.Key} {r.Value}").Order(StringComparer.Ordinal));
        var deadLetter = Assert.Single(driver.DeadLetters);
        Assert.Equal(DeadLetterReason.SelectorFailed, deadLetter.Reason);
        Assert.Contains("no section", deadLetter.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WindowsFedByWindows_ResultDeadLettersAreCountedApartFromRecordsAndInTheMetric()
    {
        string name = $"sections-{Guid.NewGuid():N}";
        using var measured = new MetricCollector<long>(null, StreamingTelemetry.Name, "analytics.streaming.dead_letters");

        // Every 10-second window of "broken" views makes a result whose section key throws, and every one of "help" a
        // result whose section key is null: both are dead letters of the second stage, not of the records read.
        string[] pages = ["home", "cart", "broken", "help", "search"];
        var views = Enumerable.Range(0, 600).Select(i => new View(i, pages[(i * 7) % pages.Length], 1 + (i / 4), "0")).ToArray();
        var deadLetters = new CollectingSink<DeadLetter>();
        var sections = new CollectingSink<WindowResult<string, long>>();
        var pipeline = StreamPipeline.Create<View>(new() { Name = name })
            .WithEventTime(v => TestEvent.At(v.Seconds), maxOutOfOrderness: TimeSpan.FromSeconds(30))
            .KeyBy(v => v.Page!)
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count())
            .KeyBy(r => r.Key switch { "broken" => throw new InvalidOperationException("no section"), "help" => null!, _ => r.Key[..1] })
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(20)))
            .Aggregate(a => a.Sum(r => r.Value))
            .To(sections)
            .DeadLettersTo(deadLetters)
            .Build();

        await pipeline.RunAsync(new InMemorySource<View>(InterleavedBatches.Of(views, partitions: 3, batchesPerPartition: 40)), Token);

        int expected = views.Where(v => v.Page is "broken" or "help").Select(v => (v.Page, v.Seconds / 10)).Distinct().Count();
        var stats = pipeline.Statistics;
        Assert.True(expected > 20, $"Only {expected} failing results.");
        Assert.Equal(expected, stats.ResultDeadLetters);
        Assert.Equal(expected, deadLetters.Items.Count);
        Assert.Equal((0, views.Length, views.Length), (stats.DeadLetters, stats.RecordsIn, stats.RecordsAccepted));
        Assert.Equal(views.Count(v => v.Page is not ("broken" or "help")), sections.Items.Sum(r => r.Value));
        Assert.Equal(expected, measured.GetMeasurementSnapshot().Where(m => Equals(m.Tags.GetValueOrDefault("pipeline"), name)).Sum(m => m.Value));
    }

    [Fact]
    public async Task WhereAfterTheLastStage_ThrowsOnAResult_TheResultIsADeadLetterWithItsIdAndTheOthersGoOn()
    {
        var results = new CollectingSink<WindowResult<string, long>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<View>(new() { Name = "pages" })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .KeyBy(v => v.Page!)
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count())
            .Where(r => r.Key == "broken" ? throw new InvalidOperationException("no rule for broken") : r.Value > 1)
            .To(results)
            .DeadLettersTo(deadLetters)
            .Build();
        View[] views = [new(1, "a", 1, "0"), new(2, "a", 2, "0"), new(3, "broken", 3, "0"), new(4, "b", 4, "0"), new(5, "broken", 14, "0"), new(6, "a", 15, "0"), new(7, "a", 16, "0")];

        await pipeline.RunAsync(new InMemorySource<View>([new RecordBatch<View>("0", views.Select((v, i) => new StreamRecord<View>(v, SequenceNumber.FromInt64(i + 1))).ToArray())]), Token);

        Assert.Equal(["a 0 2", "a 10 2"], results.Items.Select(r => $"{r.Key} {(r.Window.Start - TestEvent.At(0)).TotalSeconds} {r.Value}"));
        Assert.Equal(2, deadLetters.Items.Count);
        Assert.All(deadLetters.Items, d => Assert.Equal(DeadLetterReason.SelectorFailed, d.Reason));
        Assert.Contains("no rule for broken", deadLetters.Items[0].Message, StringComparison.Ordinal);
        var ids = deadLetters.Items.Select(d => Encoding.UTF8.GetString(d.Payload.Span)).Distinct().ToArray();
        Assert.Equal(2, ids.Length);
        Assert.All(ids, id => Assert.StartsWith("pages|broken|", id, StringComparison.Ordinal));
        var stats = pipeline.Statistics;
        Assert.Equal((2L, 0L, 7L), (stats.ResultDeadLetters, stats.DeadLetters, stats.RecordsAccepted));
    }

    [Theory]
    [InlineData("tumbling", WindowStateMode.Always)]
    [InlineData("tumbling", WindowStateMode.Never)]
    [InlineData("sliding", WindowStateMode.Never)]
    [InlineData("sliding", WindowStateMode.Always)]
    [InlineData("session", WindowStateMode.Always)]
    public async Task ThrowingProjection_TheWindowIsADeadLetterWithItsId_TheOthersAreEmitted_AcrossARestart(string window, WindowStateMode state)
    {
        // The projection throws for every window whose count is a multiple of 3: it depends on the window alone.
        var batches = Batches(partitions: 3, batchesPerPartition: 40, seed: 7);
        var (oneRun, oneRunDeadLetters, first, table, deadLetters, resumed) = await OneRunAndStoppedAndResumedAsync(batches, state, (options, sink, dead) => ProjectionPipeline(window, options, sink, dead));

        // Brute force: the windows of every view, those with a count that is a multiple of 3 are dead letters.
        var views = batches.SelectMany(b => b.Records.ToArray().Select(r => r.Value)).ToArray();
        var windows = ExpectedWindows(views, window);
        string[] failed = [.. windows.Where(w => w.Count % 3 == 0).Select(w => $"views|{w.Page}|{w.Start}|{w.End}").Order(StringComparer.Ordinal)];
        string[] emitted = [.. windows.Where(w => w.Count % 3 != 0).Select(w => $"views|{w.Page}|{w.Start}|{w.End} {w.Count} {w.Sum}").Order(StringComparer.Ordinal)];
        Assert.True(failed.Length > 5 && emitted.Length > 5, $"{failed.Length} windows fail, {emitted.Length} do not.");
        Assert.Equal(emitted, oneRun.Rows.Select(r => $"{r.Key} {r.Value.Item1} {r.Value.Item2}"));
        Assert.Equal(failed, oneRunDeadLetters.Items.Select(PayloadText).Order(StringComparer.Ordinal));
        Assert.All(oneRunDeadLetters.Items, d =>
        {
            Assert.Equal(DeadLetterReason.AggregatorFailed, d.Reason);
            Assert.Equal("window-results", d.Position.PartitionId);
            Assert.Contains("InvalidOperationException: a multiple of 3", d.Message, StringComparison.Ordinal);
        });
        var stats = first.Statistics;
        Assert.Equal((failed.LongLength, 0L, 0L), (stats.ResultDeadLetters, stats.DeadLetters, stats.LateRecords));
        Assert.Equal(stats.RecordsIn, stats.RecordsAccepted + stats.RecordsFiltered + stats.DeadLetters + stats.LateRecords);

        // Stopped and resumed: the same table, every failed window a dead letter (at least once), and nothing else.
        Assert.NotNull(resumed.Statistics.RestoredFrom);
        Assert.Equal(oneRun.Rows, table.Rows);
        Assert.Equal(failed, deadLetters.Items.Select(PayloadText).Distinct().Order(StringComparer.Ordinal));

        static string PayloadText(DeadLetter d) => Encoding.UTF8.GetString(d.Payload.Span);
    }

    [Fact]
    public async Task WindowsFedByWindows_ThrowingProjectionInEitherStage_TheWindowIsOneResultDeadLetter()
    {
        // The first stage's projection throws for a window of "broken" views (so the second stage never sees it), the
        // second stage's for a section sum of exactly 7.
        View[] views =
        [
            new(0, "ab", 1, "0"), new(1, "broken", 2, "0"), new(2, "ac", 3, "0"), new(3, "ab", 4, "0"),
            new(4, "bc", 12, "0"), new(5, "bc", 13, "0"), new(6, "bd", 14, "0"), new(7, "bd", 15, "0"), new(8, "bd", 16, "0"), new(9, "bd", 17, "0"), new(10, "bd", 18, "0"),
            new(11, "ab", 45, "0"),
        ];
        var deadLetters = new CollectingSink<DeadLetter>();
        var sections = new CollectingSink<WindowResult<string, long>>();
        var pipeline = StreamPipeline.Create<View>(new() { Name = "top" })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .KeyBy(v => v.Page!)
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count().And(a.Max(v => v.Id)).Select(r => r.Item2 == 1 ? throw new InvalidOperationException("broken window") : r.Item1))
            .KeyBy(r => r.Key[..1])
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(20)))
            .Aggregate(a => a.Sum(r => r.Value).Select(sum => sum == 7 ? throw new InvalidOperationException("seven") : sum))
            .To(sections)
            .DeadLettersTo(deadLetters)
            .Build();

        await pipeline.RunAsync(new InMemorySource<View>([new RecordBatch<View>("0", views.Select((v, i) => new StreamRecord<View>(v, SequenceNumber.FromInt64(i + 1))).ToArray())]), Token);

        Assert.Equal(["a 0 3", "a 40 1"], sections.Items.Select(r => $"{r.Key} {(r.Window.Start - TestEvent.At(0)).TotalSeconds} {r.Value}").Order(StringComparer.Ordinal));
        var start = TestEvent.At(0).ToUnixTimeMilliseconds();
        Assert.Equal(
            [$"top|broken|{start}|{start + 10_000} broken window", $"top|b|{start}|{start + 20_000} seven"],
            deadLetters.Items.Select(d => $"{Encoding.UTF8.GetString(d.Payload.Span)} {d.Message.Split(": ")[1].Split(" for ")[0]}").Order(StringComparer.Ordinal));
        Assert.All(deadLetters.Items, d => Assert.Equal(DeadLetterReason.AggregatorFailed, d.Reason));
        var stats = pipeline.Statistics;
        Assert.Equal((2L, 0L, (long)views.Length), (stats.ResultDeadLetters, stats.DeadLetters, stats.RecordsAccepted));
    }

    [Fact]
    public void ThrowingAggregatorSelector_StopsTheBatchNamingTheRecord()
    {
        var pipeline = StreamPipeline.Create<View>(new() { Name = "sums" })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .KeyBy(v => v.Page ?? "none")
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count().And(a.Sum(v => (long)int.Parse(v.Amount, CultureInfo.InvariantCulture))))
            .To(new CollectingSink<WindowResult<string, (long, long)>>())
            .Build();
        var driver = new PipelineTestDriver<View, string, (long, long)>(pipeline);

        // The count of the window already holds the record when the sum throws: the batch cannot go on, and the
        // exception names the record so that a pipeline's next run sets it aside.
        var failure = Assert.Throws<AggregationFailedException>(() => driver.Push(new View(0, "a", 1, "5"), new View(1, "a", 2, "n/a")));
        Assert.Equal(("0", "2"), (failure.Position.PartitionId, failure.Position.Sequence.ToString()));
        Assert.IsType<FormatException>(failure.InnerException);
        Assert.Empty(driver.DeadLetters);
    }

    [Fact]
    public async Task ThrowingAggregatorSelector_InAFanOut_TheFanOutStopsAndItsNextRunSetsTheRecordAside()
    {
        var batches = Batches(partitions: 2, batchesPerPartition: 20, seed: 13);
        var store = new InMemoryCheckpointStore();
        var sums = new ResultTable<string, (long, long)>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var throwing = AggregatorPipeline("tumbling", new() { Name = "sums", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(10) }, Writer(sums), deadLetters);
        var counts = new CollectingSink<WindowResult<string, long>>();
        var counting = CountingPipeline(new() { Name = "counts", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(10) }, counts);
        int bad = batches.Sum(b => b.Records.ToArray().Count(r => IsBadAmount(r.Value)));

        // A pipeline of a fan-out reads its share once per run: the fan-out stops, and each of its runs gets past one more.
        int runs = 0;
        while (true)
        {
            runs++;
            try
            {
                await StreamPipeline.RunAsync(new InMemorySource<View>(batches), [throwing, counting], Token);
                break;
            }
            catch (AggregationFailedException)
            {
                Assert.True(runs <= bad, "The runs do not get past the failing records.");
            }
        }

        Assert.True(bad >= 2, $"Only {bad} bad amounts.");
        Assert.Equal(bad + 1, runs);
        Assert.Equal(bad, deadLetters.Items.Select(d => d.Position).Distinct().Count());

        // The other pipeline of the fan-out stopped and resumed with it, and its table is that of one run.
        var oneRun = new CollectingSink<WindowResult<string, long>>();
        await CountingPipeline(new() { Name = "counts" }, oneRun).RunAsync(new InMemorySource<View>(batches), Token);
        Assert.Equal(Final(oneRun), Final(counts));

        static StreamPipeline<View, string, long> CountingPipeline(StreamPipelineOptions options, ISink<WindowResult<string, long>> sink)
            => StreamPipeline.Create<View>(options)
                .WithEventTime(v => TestEvent.At(Math.Max(1, v.Seconds)), maxOutOfOrderness: TimeSpan.FromSeconds(5))
                .KeyBy(v => v.Page ?? "none")
                .Window(WindowSpec.Tumbling(TenSeconds))
                .Aggregate(a => a.Count())
                .To(sink)
                .Build();

        static string[] Final(CollectingSink<WindowResult<string, long>> sink)
            => [.. sink.Items.GroupBy(r => r.Id).Select(g => $"{g.Key} {g.Last().Value}").Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task ThrowingAggregatorSelector_AfterSelectMany_TheWholeRecordIsSetAsideWithAllItsItems()
    {
        var results = new CollectingSink<WindowResult<string, (long, long)>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<View>(new() { Name = "letters", CheckpointStore = new InMemoryCheckpointStore(), CheckpointInterval = TimeSpan.FromMilliseconds(10) })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .SelectMany(v => v.Page!.ToCharArray())
            .KeyBy(c => char.IsUpper(c) ? "upper" : "lower")
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count().And(a.Sum(c => c == '!' ? throw new InvalidOperationException("not a letter") : 1L)))
            .To(results)
            .DeadLettersTo(deadLetters)
            .Build();

        // "aB!c" gives 'a' and 'B' before its '!' throws in the sum: none of its four letters may count.
        View[] views = [new(1, "ab", 1, "0"), new(2, "aB!c", 2, "0"), new(3, "Cd", 3, "0")];
        await pipeline.RunAsync(new InMemorySource<View>([new RecordBatch<View>("0", views.Select((v, i) => new StreamRecord<View>(v, SequenceNumber.FromInt64(i + 1))).ToArray())]), Token);

        Assert.Equal(["lower (3, 3)", "upper (1, 1)"], results.Items.Select(r => $"{r.Key} {r.Value}").Order(StringComparer.Ordinal));
        var deadLetter = Assert.Single(deadLetters.Items);
        Assert.Equal((DeadLetterReason.AggregatorFailed, "2"), (deadLetter.Reason, deadLetter.Position.Sequence.ToString()));
    }

    [Fact]
    public void AggregatorThatFailsOnlyWithState_IsNotBlamedOnTheRecord()
    {
        var pipeline = StreamPipeline.Create<View>(new() { Name = "checked" })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .KeyBy(v => v.Page!)
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(Aggregates.Custom<View, CheckedSum, long, long>(default))
            .To(new CollectingSink<WindowResult<string, long>>())
            .Build();
        var driver = new PipelineTestDriver<View, string, long>(pipeline);

        // Each amount alone adds up; the two together overflow: no record is to blame, so nothing is set aside.
        Assert.Throws<OverflowException>(() => driver.Push(new View(0, "a", 1, $"{long.MaxValue}"), new View(1, "a", 2, "1")));
    }

    [Theory]
    [InlineData("tumbling", WindowStateMode.Always, true)]
    [InlineData("tumbling", WindowStateMode.Never, true)]
    [InlineData("sliding", WindowStateMode.Never, true)]
    [InlineData("session", WindowStateMode.Always, true)]
    [InlineData("tumbling", WindowStateMode.Auto, false)]
    [InlineData("session", WindowStateMode.Auto, false)]
    public async Task ThrowingAggregatorSelector_TheRecordIsSetAsideWhenReadAgainAndTheTableIsThatOfTheOtherRecords(string window, WindowStateMode state, bool withStore)
    {
        var batches = Batches(partitions: 3, batchesPerPartition: 40, seed: 11);
        var table = new ResultTable<string, (long, long)>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var options = new StreamPipelineOptions
        {
            Name = "sums",
            WindowState = state,
            CheckpointStore = withStore ? new InMemoryCheckpointStore() : null,
            CheckpointInterval = TimeSpan.FromMilliseconds(10),
        };

        var pipeline = AggregatorPipeline(window, options, Writer(table), deadLetters);

        var failures = await RunPastFailuresAsync(pipeline, batches, withStore);

        var views = batches.SelectMany(b => b.Records.ToArray().Select(r => (Position: $"{b.PartitionId}/{r.Sequence}", View: r.Value))).ToArray();
        var bad = views.Where(v => IsBadAmount(v.View)).Select(v => v.Position).Order(StringComparer.Ordinal).ToArray();
        Assert.True(bad.Length > 20, $"Only {bad.Length} bad amounts.");
        if (!withStore)
        {
            Assert.Equal(bad, failures.Select(f => $"{f.Position.PartitionId}/{f.Position.Sequence}").Order(StringComparer.Ordinal));
        }

        Assert.Equal(bad, deadLetters.Items.Where(d => d.Reason == DeadLetterReason.AggregatorFailed).Select(d => $"{d.Position.PartitionId}/{d.Position.Sequence}").Distinct().Order(StringComparer.Ordinal));
        Assert.DoesNotContain(deadLetters.Items, d => d.Reason != DeadLetterReason.AggregatorFailed);

        var oneRun = new ResultTable<string, (long, long)>();
        var clean = batches.Select(b => new RecordBatch<View>(b.PartitionId, b.Records.ToArray().Where(r => !IsBadAmount(r.Value)).ToArray(), endPosition: b.EndPosition)).ToArray();
        await AggregatorPipeline(window, new() { Name = "sums" }, Writer(oneRun), null).RunAsync(new InMemorySource<View>(clean), Token);
        Assert.True(oneRun.Rows.Count > 15, $"Only {oneRun.Rows.Count} windows.");
        Assert.Equal(oneRun.Rows, table.Rows);
    }

    [Theory]
    [InlineData(WindowStateMode.Always, true)]
    [InlineData(WindowStateMode.Never, true)]
    [InlineData(WindowStateMode.Always, false)]
    public async Task ThrowingAggregatorOfAStageFedByWindows_TheResultIsSetAsideWhenMadeAgainAndTheTableIsThatOfTheOtherResults(WindowStateMode state, bool withStore)
    {
        // The sections' sum throws on a page count that is a multiple of 7, after the count of the section took it.
        var batches = Batches(partitions: 3, batchesPerPartition: 40, seed: 13);
        var table = new ResultTable<string, (long, long)>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var options = new StreamPipelineOptions
        {
            Name = "sections",
            WindowState = state,
            CheckpointStore = withStore ? new InMemoryCheckpointStore() : null,
            CheckpointInterval = TimeSpan.FromMilliseconds(10),
        };
        var pipeline = SectionsPipeline(options, Writer(table), deadLetters, poisoned: true);
        var failures = await RunPastFailuresAsync(pipeline, batches, withStore);

        var oneRun = new ResultTable<string, (long, long)>();
        await SectionsPipeline(new() { Name = "sections" }, Writer(oneRun), null, poisoned: false).RunAsync(new InMemorySource<View>(batches), Token);
        Assert.True(oneRun.Rows.Count > 10, $"Only {oneRun.Rows.Count} windows.");
        Assert.Equal(oneRun.Rows, table.Rows);

        // Each page window with a count that is a multiple of 7 is a dead letter with its id.
        var pages = new CollectingSink<WindowResult<string, long>>();
        await StreamPipeline.Create<View>(new() { Name = "sections" })
            .WithEventTime(v => TestEvent.At(Math.Max(1, v.Seconds)), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .KeyBy(v => v.Page ?? "none")
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count())
            .To(pages)
            .Build()
            .RunAsync(new InMemorySource<View>(batches), Token);
        string[] poisoned = [.. pages.Items.Where(r => r.Value % 7 == 0).Select(r => r.Id).Order(StringComparer.Ordinal)];
        Assert.True(poisoned.Length >= 3, $"Only {poisoned.Length} poisoned page windows.");
        Assert.Equal(poisoned, deadLetters.Items.Select(d => Encoding.UTF8.GetString(d.Payload.Span)).Distinct().Order(StringComparer.Ordinal));
        Assert.All(deadLetters.Items, d => Assert.Equal((DeadLetterReason.AggregatorFailed, DeadLetter.WindowResultsPartition), (d.Reason, d.Position.PartitionId)));
        Assert.Contains("a multiple of 7", deadLetters.Items[0].Message, StringComparison.Ordinal);
        if (!withStore)
        {
            Assert.Equal(poisoned.Length, failures.Count);
            Assert.All(failures, f => Assert.Equal(DeadLetter.WindowResultsPartition, f.Position.PartitionId));
            Assert.Equal(poisoned.Length, pipeline.Statistics.ResultDeadLetters);
        }
    }

    [Fact]
    public async Task ThrowingAggregatorOfAStageFedByWindows_OnAWindowClosedWhenTheSourceEnds_TheRunStartsAgainAndSetsItAside()
    {
        // The last page window (7 views of "help") closes only when the source ends, and the sections' sum throws on it.
        View[] views = [.. Enumerable.Range(0, 3).Select(i => new View(i, "home", 1 + i, "0")), .. Enumerable.Range(3, 7).Select(i => new View(i, "help", 9 + i, "0"))];
        var table = new ResultTable<string, (long, long)>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var options = new StreamPipelineOptions { Name = "sections", CheckpointStore = new InMemoryCheckpointStore(), CheckpointInterval = TimeSpan.FromMilliseconds(10) };
        var pipeline = SectionsPipeline(options, Writer(table), deadLetters, poisoned: true);

        await pipeline.RunAsync(new InMemorySource<View>([new RecordBatch<View>("0", views.Select((v, i) => new StreamRecord<View>(v, SequenceNumber.FromInt64(i + 1))).ToArray())]), Token);

        var start = TestEvent.At(0).ToUnixTimeMilliseconds();
        Assert.Equal([$"sections|h|{start}|{start + 20_000}"], table.Rows.Keys);
        Assert.Equal((1L, 3L), table.Rows.Values.Single());
        Assert.Equal([$"sections|help|{start + 10_000}|{start + 20_000}"], deadLetters.Items.Select(d => Encoding.UTF8.GetString(d.Payload.Span)));
        Assert.Equal(1, pipeline.Statistics.ResultDeadLetters);
    }

    [Fact]
    public async Task ThrowingAggregatorOfTheThirdStage_OnAResultWhoseIdAnEarlierStageAlsoMade_OnlyThatStageSetsItAside()
    {
        // Sliding page counts (10 s every 5 s), summed per page in 10-second windows, then counted and summed in
        // 20-second windows, whose sum throws on the second stage's result for "home" from 10 s to 20 s. The first
        // stage also made a result with that id (its window [10 s, 20 s) of "home"), which must still reach the second
        // stage: only the second stage's result is set aside.
        View[] views = [new(0, "cart", 3, "0"), new(1, "home", 11, "0"), new(2, "home", 12, "0")];
        var table = new ResultTable<string, (long, long)>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<View>(new() { Name = "three", CheckpointStore = new InMemoryCheckpointStore(), CheckpointInterval = TimeSpan.FromMilliseconds(10) })
            .WithEventTime(v => TestEvent.At(v.Seconds))
            .KeyBy(v => v.Page!)
            .Window(WindowSpec.Sliding(TenSeconds, TimeSpan.FromSeconds(5)))
            .Aggregate(a => a.Count())
            .KeyBy(r => r.Key)
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Sum(r => r.Value))
            .KeyBy(_ => "all")
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(20)))
            .Aggregate(a => a.Count().And(a.Sum(r => r.Key == "home" && r.Window.Start == TestEvent.At(10) ? throw new InvalidOperationException("home") : r.Value)))
            .To(Writer(table))
            .DeadLettersTo(deadLetters)
            .Build();

        await pipeline.RunAsync(new InMemorySource<View>([new RecordBatch<View>("0", views.Select((v, i) => new StreamRecord<View>(v, SequenceNumber.FromInt64(i + 1))).ToArray())]), Token);

        var start = TestEvent.At(0).ToUnixTimeMilliseconds();
        Assert.Equal([$"three|all|{start}|{start + 20_000}"], table.Rows.Keys);
        Assert.Equal((1L, 2L), table.Rows.Values.Single());
        var deadLetter = Assert.Single(deadLetters.Items);
        Assert.Equal($"three|home|{start + 10_000}|{start + 20_000}", Encoding.UTF8.GetString(deadLetter.Payload.Span));
        Assert.Equal(1, pipeline.Statistics.ResultDeadLetters);
    }

    /// <summary>
    /// Page views counted per page in 10-second windows, then per section (the page's first letter) in 20-second
    /// windows: the count of page windows and the sum of their counts. Poisoned, the sum throws on a page count that is
    /// a multiple of 7; clean, such page windows are filtered out before the sections.
    /// </summary>
    private static StreamPipeline<View, string, (long Windows, long Views)> SectionsPipeline(
        StreamPipelineOptions options, ISink<WindowResult<string, (long, long)>> sink, ISink<DeadLetter>? deadLetters, bool poisoned)
    {
        var pages = StreamPipeline.Create<View>(options)
            .WithEventTime(v => TestEvent.At(Math.Max(1, v.Seconds)), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .KeyBy(v => v.Page ?? "none")
            .Window(WindowSpec.Tumbling(TenSeconds))
            .Aggregate(a => a.Count());
        var builder = (poisoned ? pages : pages.Where(r => r.Value % 7 != 0))
            .KeyBy(r => r.Key[..1])
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(20)))
            .Aggregate(a => a.Count().And(a.Sum(r => r.Value % 7 == 0 ? throw new InvalidOperationException("a multiple of 7") : r.Value)))
            .To(sink);
        return (deadLetters is null ? builder : builder.DeadLettersTo(deadLetters)).Build();
    }

    /// <summary>
    /// Runs the pipeline over the batches to their end. With a checkpoint store the run starts over from its last
    /// checkpoint by itself after each record or result an aggregator throws on; without one, the exception reaches the
    /// caller, and the next run of the same pipeline (here from the start) sets that record or result aside.
    /// </summary>
    /// <returns>The failures that reached the caller.</returns>
    private static async Task<List<AggregationFailedException>> RunPastFailuresAsync<TKey, TResult>(StreamPipeline<View, TKey, TResult> pipeline, RecordBatch<View>[] batches, bool withStore)
        where TKey : notnull
    {
        var failures = new List<AggregationFailedException>();
        while (true)
        {
            try
            {
                await pipeline.RunAsync(new InMemorySource<View>(batches), Token);
                return failures;
            }
            catch (AggregationFailedException ex) when (!withStore)
            {
                failures.Add(ex);
                Assert.True(failures.Count < 200, "The runs do not get past the failing records.");
            }
        }
    }

    /// <summary>
    /// Runs a pipeline named <c>views</c> over the batches once, then again with a checkpoint store: stopped after 50 of
    /// them and resumed from its checkpoint by a new pipeline writing to the same table and dead letters.
    /// </summary>
    private static async Task<(ResultTable<string, (long, long)> OneRun, CollectingSink<DeadLetter> OneRunDeadLetters, StreamPipeline<View, string, (long, long)> First,
        ResultTable<string, (long, long)> Table, CollectingSink<DeadLetter> DeadLetters, StreamPipeline<View, string, (long, long)> Resumed)>
        OneRunAndStoppedAndResumedAsync(
            RecordBatch<View>[] batches,
            WindowStateMode state,
            Func<StreamPipelineOptions, ISink<WindowResult<string, (long, long)>>, ISink<DeadLetter>, StreamPipeline<View, string, (long, long)>> build)
    {
        var oneRun = new ResultTable<string, (long, long)>();
        var oneRunDeadLetters = new CollectingSink<DeadLetter>();
        var first = build(new() { Name = "views" }, Writer(oneRun), oneRunDeadLetters);
        await first.RunAsync(new InMemorySource<View>(batches), Token);

        var table = new ResultTable<string, (long, long)>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var options = new StreamPipelineOptions { Name = "views", CheckpointStore = new InMemoryCheckpointStore(), CheckpointInterval = TimeSpan.FromMilliseconds(10), WindowState = state };
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(Token))
        {
            await build(options, Writer(table), deadLetters).RunAsync(new StoppingSource<View>(batches, stopAfter: 50, stop), stop.Token);
        }

        var resumed = build(options, Writer(table), deadLetters);
        await resumed.RunAsync(new InMemorySource<View>(batches), Token);
        return (oneRun, oneRunDeadLetters, first, table, deadLetters, resumed);
    }

    /// <summary>
    /// Every operator and selector in front of the window throws for some views: the time for a negative second
    /// (<see cref="ArgumentOutOfRangeException"/>), the <c>Where</c> for ids divisible by 41, the <c>Select</c> for an
    /// amount that is not a number (<see cref="FormatException"/>), the key for a view without a page
    /// (<see cref="NullReferenceException"/>).
    /// </summary>
    private static StreamPipeline<View, string, (long Count, long Amount)> Pipeline(
        string window, StreamPipelineOptions options, ISink<WindowResult<string, (long, long)>> sink, ISink<DeadLetter>? deadLetters)
    {
        var builder = StreamPipeline.Create<View>(options)
            .WithEventTime(v => TestEvent.At(v.Seconds >= 0 ? v.Seconds : throw new ArgumentOutOfRangeException(nameof(v), "negative second")), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .Where(v => v.Id % 41 != 0 || v.Id % 2 == 0 ? v.Id % 13 != 0 : throw new InvalidOperationException("where-failed"))
            .Select(v => new Amounted(v.Page, int.Parse(v.Amount, CultureInfo.InvariantCulture)))
            .KeyBy(v => v.Page!.ToUpperInvariant())
            .Window(window switch
            {
                "tumbling" => WindowSpec.Tumbling(TenSeconds),
                "sliding" => WindowSpec.Sliding(TenSeconds, TimeSpan.FromSeconds(5)),
                _ => WindowSpec.Session(TimeSpan.FromSeconds(4)),
            })
            .Aggregate(a => a.Count().And(a.Sum(v => (long)v.Amount)))
            .To(sink);
        return (deadLetters is null ? builder : builder.DeadLettersTo(deadLetters)).Build();
    }

    private static bool IsBad(View v)
        => v.Seconds < 0 || (v.Id % 41 == 0 && v.Id % 2 != 0) || (v.Id % 13 != 0 && (!int.TryParse(v.Amount, CultureInfo.InvariantCulture, out _) || v.Page is null));

    /// <summary>What the windows must hold: the views that are neither bad nor filtered, aggregated by brute force.</summary>
    private static string[] Expected(View[] views, string window)
    {
        var kept = views.Where(v => !IsBad(v) && v.Id % 13 != 0).Select(v => (Page: v.Page!.ToUpperInvariant(), v.Seconds, Amount: int.Parse(v.Amount, CultureInfo.InvariantCulture))).ToArray();
        if (window == "session")
        {
            var rows = new List<string>();
            foreach (var page in kept.GroupBy(v => v.Page))
            {
                var ordered = page.OrderBy(v => v.Seconds).ToArray();
                int start = 0;
                for (int i = 1; i <= ordered.Length; i++)
                {
                    if (i == ordered.Length || ordered[i].Seconds - ordered[i - 1].Seconds >= 4)
                    {
                        var session = ordered[start..i];
                        rows.Add($"{page.Key} {session[0].Seconds} {session.Length} {session.Sum(v => (long)v.Amount)}");
                        start = i;
                    }
                }
            }

            return [.. rows.Order(StringComparer.Ordinal)];
        }

        int slide = window == "tumbling" ? 10 : 5;
        return
        [
            .. kept
                .SelectMany(v => Enumerable.Range(0, 10 / slide).Select(k => (v.Page, Start: ((v.Seconds / slide) - k) * slide, v.Amount)))
                .GroupBy(x => (x.Page, x.Start))
                .Select(g => $"{g.Key.Page} {g.Key.Start} {g.Count()} {g.Sum(x => (long)x.Amount)}")
                .Order(StringComparer.Ordinal),
        ];
    }

    private static string[] Table(IEnumerable<WindowResult<string, (long Count, long Amount)>> results)
        => [.. results.Select(r => $"{r.Key} {(long)(r.Window.Start - TestEvent.At(0)).TotalSeconds} {r.Value.Count} {r.Value.Amount}").Order(StringComparer.Ordinal)];

    private static ISink<WindowResult<string, (long, long)>> Writer(ResultTable<string, (long, long)> table)
        => Sinks.Callback<WindowResult<string, (long, long)>>((results, _) =>
        {
            foreach (var r in results.Span)
            {
                table.Write(r);
            }

            return ValueTask.CompletedTask;
        });

    /// <summary>Page views over 4 pages, times growing with small disorder; about one in ten is bad in some way.</summary>
    private static View[] Views(int count, int seed)
    {
        var random = new Random(seed);
        string[] pages = ["home", "cart", "search", "help"];
        return
        [
            .. Enumerable.Range(0, count).Select(i => new View(
                i,
                random.Next(25) == 0 ? null : pages[random.Next(pages.Length)],
                random.Next(60) == 0 ? -1 : 1 + (i / 5) + random.Next(3),
                random.Next(30) == 0 ? "n/a" : random.Next(100).ToString(CultureInfo.InvariantCulture))),
        ];
    }

    /// <summary>Counts and sums the amounts per page; the sum throws <see cref="FormatException"/> on an amount that is not a number.</summary>
    private static StreamPipeline<View, string, (long Count, long Amount)> AggregatorPipeline(
        string window, StreamPipelineOptions options, ISink<WindowResult<string, (long, long)>> sink, ISink<DeadLetter>? deadLetters)
    {
        var builder = StreamPipeline.Create<View>(options)
            .WithEventTime(v => TestEvent.At(Math.Max(1, v.Seconds)), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .KeyBy(v => v.Page ?? "none")
            .Window(window switch
            {
                "tumbling" => WindowSpec.Tumbling(TenSeconds),
                "sliding" => WindowSpec.Sliding(TenSeconds, TimeSpan.FromSeconds(5)),
                _ => WindowSpec.Session(TimeSpan.FromSeconds(4)),
            })
            .Aggregate(a => a.Count().And(a.Sum(v => (long)int.Parse(v.Amount, CultureInfo.InvariantCulture))))
            .To(sink);
        return (deadLetters is null ? builder : builder.DeadLettersTo(deadLetters)).Build();
    }

    /// <summary>Counts and sums the ids per page (views at a negative second filtered out); the projection throws for a window whose count is a multiple of 3.</summary>
    private static StreamPipeline<View, string, (long Count, long Amount)> ProjectionPipeline(
        string window, StreamPipelineOptions options, ISink<WindowResult<string, (long, long)>> sink, ISink<DeadLetter> deadLetters)
        => StreamPipeline.Create<View>(options)
            .WithEventTime(v => TestEvent.At(Math.Max(1, v.Seconds)), maxOutOfOrderness: TimeSpan.FromSeconds(5))
            .Where(v => v.Seconds > 0)
            .KeyBy(v => v.Page ?? "none")
            .Window(window switch
            {
                "tumbling" => WindowSpec.Tumbling(TenSeconds),
                "sliding" => WindowSpec.Sliding(TenSeconds, TimeSpan.FromSeconds(5)),
                _ => WindowSpec.Session(TimeSpan.FromSeconds(4)),
            })
            .Aggregate(a => a.Count().And(a.Sum(v => (long)v.Id)).Select(r => r.Item1 % 3 == 0 ? throw new InvalidOperationException("a multiple of 3") : r))
            .To(sink)
            .DeadLettersTo(deadLetters)
            .Build();

    /// <summary>Every window of <see cref="ProjectionPipeline"/> by brute force: page, start and end in Unix milliseconds, count, sum of ids.</summary>
    private static (string Page, long Start, long End, long Count, long Sum)[] ExpectedWindows(View[] views, string window)
    {
        long origin = TestEvent.At(0).ToUnixTimeMilliseconds();
        var timed = views.Where(v => v.Seconds > 0).Select(v => (Page: v.Page ?? "none", v.Seconds, Id: (long)v.Id)).ToArray();
        if (window == "session")
        {
            var sessions = new List<(string, long, long, long, long)>();
            foreach (var page in timed.GroupBy(v => v.Page))
            {
                var ordered = page.OrderBy(v => v.Seconds).ToArray();
                int start = 0;
                for (int i = 1; i <= ordered.Length; i++)
                {
                    if (i == ordered.Length || ordered[i].Seconds - ordered[i - 1].Seconds >= 4)
                    {
                        var session = ordered[start..i];
                        sessions.Add((page.Key, origin + (session[0].Seconds * 1000), origin + ((session[^1].Seconds + 4) * 1000), session.Length, session.Sum(v => v.Id)));
                        start = i;
                    }
                }
            }

            return [.. sessions];
        }

        int slide = window == "tumbling" ? 10 : 5;
        return
        [
            .. timed
                .SelectMany(v => Enumerable.Range(0, 10 / slide).Select(k => (v.Page, Start: ((v.Seconds / slide) - k) * slide, v.Id)))
                .GroupBy(x => (x.Page, x.Start))
                .Select(g => (g.Key.Page, origin + (g.Key.Start * 1000), origin + ((g.Key.Start + 10) * 1000), (long)g.Count(), g.Sum(x => x.Id))),
        ];
    }

    private static bool IsBadAmount(View v) => !int.TryParse(v.Amount, CultureInfo.InvariantCulture, out _);

    private static RecordBatch<View>[] Batches(int partitions, int batchesPerPartition, int seed)
        => InterleavedBatches.Of(Views(partitions * batchesPerPartition * 5, seed), partitions, batchesPerPartition);

    /// <summary>A page view; <see cref="Amount"/> is text, as a decoder that keeps strings would give it.</summary>
    private sealed record View(int Id, string? Page, long Seconds, string Amount);

    private readonly record struct Amounted(string? Page, int Amount);

    /// <summary>A sum that throws on overflow: it fails on the accumulated state, not on one record.</summary>
    private readonly struct CheckedSum : IAggregator<View, long, long>
    {
        public long CreateAccumulator() => 0;

        public void Add(ref long accumulator, in View input) => accumulator = checked(accumulator + long.Parse(input.Amount, CultureInfo.InvariantCulture));

        public void Merge(ref long accumulator, in long other) => accumulator = checked(accumulator + other);

        public long GetResult(in long accumulator) => accumulator;
    }
}
