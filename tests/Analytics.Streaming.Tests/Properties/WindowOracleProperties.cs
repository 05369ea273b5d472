using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Analytics.Streaming.Tests.Properties;

/// <summary>
/// The engine against the brute-force oracle on random out-of-order streams: random keys, event times, batch
/// boundaries, window sizes and slides, out-of-orderness and allowed lateness. The final table an idempotent sink
/// would hold and the set of late records must be the same; every record is accounted for exactly once.
/// </summary>
public sealed class WindowOracleProperties
{
    public sealed record Scenario(TestEvent[][] Batches, long Size, long Slide, long OutOfOrderness, long Lateness)
    {
        public override string ToString()
            => $"size {Size}, slide {Slide}, ooo {OutOfOrderness}, lateness {Lateness}, batches [{string.Join(" | ", Batches.Select(b => string.Join(",", b.Select(e => $"k{e.Key}@{e.Seconds}"))))}]";
    }

    private static Gen<TestEvent[][]> Streams(int span) =>
        from count in Gen.Choose(0, 60)
        from events in Gen.ArrayOf(
            from key in Gen.Choose(1, 4)
            from jitter in Gen.Choose(-span, span)
            from value in Gen.Choose(1, 9)
            select (key, jitter, value), count)
        from cuts in Gen.ArrayOf(Gen.Choose(0, 3), count)
        select Split(events, cuts);

    private static TestEvent[][] Split((int Key, int Jitter, int Value)[] events, int[] cuts)
    {
        var batches = new List<TestEvent[]>();
        var current = new List<TestEvent>();
        for (int i = 0; i < events.Length; i++)
        {
            long seconds = Math.Max(1, 100 + (i * 3) + events[i].Jitter);
            current.Add(new TestEvent(events[i].Key, seconds, events[i].Value));
            if (cuts[i] == 0)
            {
                batches.Add([.. current]);
                current.Clear();
            }
        }

        batches.Add([.. current]);
        return [.. batches];
    }

    private static Gen<Scenario> SlidingScenarios(bool tumbling) =>
        from size in Gen.Choose(1, 40)
        from slide in tumbling ? Gen.Constant(size) : Gen.Choose(1, size)
        from ooo in Gen.Elements(0, 3, 10, 30)
        from lateness in Gen.Elements(0, 0, 5, 20)
        from batches in Streams(25)
        select new Scenario(batches, size, slide, ooo, lateness);

    [Property(MaxTest = 300, Arbitrary = [typeof(TumblingScenarios)])]
    public bool Tumbling_RandomOutOfOrderStreams_MatchOracle(Scenario s)
        => Verify(s, WindowSpec.Tumbling(TimeSpan.FromSeconds(s.Size)), WindowOracle.Sliding(s.Batches, s.Size, s.Size, s.OutOfOrderness, s.Lateness));

    [Property(MaxTest = 300, Arbitrary = [typeof(HoppingScenarios)])]
    public bool Sliding_RandomOutOfOrderStreams_MatchOracle(Scenario s)
        => Verify(s, WindowSpec.Sliding(TimeSpan.FromSeconds(s.Size), TimeSpan.FromSeconds(s.Slide)), WindowOracle.Sliding(s.Batches, s.Size, s.Slide, s.OutOfOrderness, s.Lateness));

    [Property(MaxTest = 300, Arbitrary = [typeof(SessionScenarios)])]
    public bool Session_RandomOutOfOrderStreams_MatchOracle(Scenario s)
        => Verify(s, WindowSpec.Session(TimeSpan.FromSeconds(s.Size)), WindowOracle.Sessions(s.Batches, s.Size, s.OutOfOrderness, s.Lateness));

    [Property(MaxTest = 300, Arbitrary = [typeof(HoppingScenarios)])]
    public bool Sliding_UpdateMode_EndsWithSameTableAsCloseMode(Scenario s)
        => Verify(s, WindowSpec.Sliding(TimeSpan.FromSeconds(s.Size), TimeSpan.FromSeconds(s.Slide)), WindowOracle.Sliding(s.Batches, s.Size, s.Slide, s.OutOfOrderness, s.Lateness), EmitMode.OnUpdate);

    [Property(MaxTest = 300, Arbitrary = [typeof(SessionScenarios)])]
    public bool Session_UpdateMode_EndsWithSameTableAsCloseMode(Scenario s)
        => Verify(s, WindowSpec.Session(TimeSpan.FromSeconds(s.Size)), WindowOracle.Sessions(s.Batches, s.Size, s.OutOfOrderness, s.Lateness), EmitMode.OnUpdate);

    public static class TumblingScenarios
    {
        public static Arbitrary<Scenario> Scenario() => SlidingScenarios(tumbling: true).ToArbitrary();
    }

    public static class HoppingScenarios
    {
        public static Arbitrary<Scenario> Scenario() => SlidingScenarios(tumbling: false).ToArbitrary();
    }

    public static class SessionScenarios
    {
        public static Arbitrary<Scenario> Scenario() =>
            (from gap in Gen.Choose(1, 15)
             from ooo in Gen.Elements(0, 3, 10, 30)
             from lateness in Gen.Elements(0, 0, 5, 20)
             from batches in Streams(25)
             select new Scenario(batches, gap, 0, ooo, lateness)).ToArbitrary();
    }

    private static bool Verify(Scenario scenario, WindowSpec window, WindowOracle.Outcome expected, EmitMode mode = EmitMode.OnClose)
    {
        var driver = TestPipelines.CountAndSum(window, TimeSpan.FromSeconds(scenario.OutOfOrderness), TimeSpan.FromSeconds(scenario.Lateness), mode).Driver();
        var positions = new List<StreamPosition>();
        long sequence = 0;
        foreach (var batch in scenario.Batches)
        {
            var records = batch.Select(e => new StreamRecord<TestEvent>(e, SequenceNumber.FromInt64(++sequence))).ToArray();
            positions.AddRange(records.Select(r => new StreamPosition("0", r.Sequence)));
            driver.Push(new RecordBatch<TestEvent>("0", records));
        }

        driver.Complete();

        var actual = driver.LatestResults.Values.ToDictionary(
            r => (r.Key, (long)(r.Window.Start - TestEvent.Epoch).TotalSeconds, (long)(r.Window.End - TestEvent.Epoch).TotalSeconds),
            r => (r.Value.Count, r.Value.Sum));
        var expectedLate = expected.Late.Select(l => positions[Index(scenario, l.Batch, l.Index)]).ToList();
        var actualLate = driver.LateRecords.Select(l => l.Position).ToList();

        bool sameTable = actual.Count == expected.Table.Count && expected.Table.All(p => actual.TryGetValue(p.Key, out var v) && v == p.Value);
        bool sameLate = expectedLate.SequenceEqual(actualLate);
        bool allAccountedFor = driver.DeadLetters.Count == 0 && positions.Count == expectedLate.Count + AcceptedCount(scenario, expected);
        if (!sameTable || !sameLate || !allAccountedFor)
        {
            throw new Xunit.Sdk.XunitException(
                $"Mismatch for {scenario}\nexpected table: {Show(expected.Table)}\nactual table:   {Show(actual)}\nexpected late: {string.Join(",", expectedLate)}\nactual late:   {string.Join(",", actualLate)}");
        }

        return true;
    }

    private static int Index(Scenario scenario, int batch, int index) => scenario.Batches.Take(batch).Sum(b => b.Length) + index;

    private static int AcceptedCount(Scenario scenario, WindowOracle.Outcome expected) => scenario.Batches.Sum(b => b.Length) - expected.Late.Count;

    private static string Show(Dictionary<(int Key, long Start, long End), (long Count, long Sum)> table)
        => string.Join(" ", table.OrderBy(p => p.Key).Select(p => $"k{p.Key.Key}[{p.Key.Start},{p.Key.End})={p.Value.Count}/{p.Value.Sum}"));
}
