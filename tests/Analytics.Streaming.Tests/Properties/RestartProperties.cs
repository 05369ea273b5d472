using Analytics.Streaming.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.Properties;

/// <summary>
/// Effectively once across crashes: random streams over several partitions (out of order, with dead letters, idle
/// stretches and ended partitions), every window kind, both emit modes, lateness, with and without window state. The
/// run takes checkpoints at random batch boundaries and crashes at random points after them (everything since the
/// last checkpoint is lost, as in a killed process); each restart continues from the last checkpoint with a source
/// that resumes after each partition's checkpointed position. What survives must be exactly what an uninterrupted
/// run produces: the same results in the same order with the same values, reasons and record counts, the same late
/// records and the same dead letters.
/// </summary>
public sealed class RestartProperties
{

    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    public enum Kind
    {
        Tumbling,
        Sliding,
        Session,
    }

    [RestartProperty]
    public void Restart_Tumbling_SameOutputsAsUninterruptedRun(Scenario scenario) => Verify(scenario with { Kind = Kind.Tumbling });

    [RestartProperty]
    public void Restart_Sliding_SameOutputsAsUninterruptedRun(Scenario scenario) => Verify(scenario with { Kind = Kind.Sliding });

    [RestartProperty]
    public void Restart_Session_SameOutputsAsUninterruptedRun(Scenario scenario) => Verify(scenario with { Kind = Kind.Session, State = WindowStateMode.Always });

    /// <summary>
    /// The same for a pipeline of operators and two window stages: filter, lookup (an inner join that leaves key 3 out),
    /// flat-map, map, the scenario's window per key, a filter on its results, and a tumbling window over them per key
    /// parity that keeps the key with the largest count (<c>MaxBy</c>) and sums the sums, with the scenario's lateness and
    /// emit mode. Counts tie often, and the results of one window reach the next stage in the order of the upstream key
    /// table, which a restart changes: the tie must still go to the same key.
    /// </summary>
    [RestartProperty]
    public void Restart_OperatorsAndWindowsFedByWindows_SameOutputsAsUninterruptedRun(Scenario scenario)
    {
        var window = scenario.Kind switch
        {
            Kind.Tumbling => WindowSpec.Tumbling(TimeSpan.FromSeconds(scenario.Size)),
            Kind.Sliding => WindowSpec.Sliding(TimeSpan.FromSeconds(scenario.Size), TimeSpan.FromSeconds(scenario.Slide)),
            _ => WindowSpec.Session(TimeSpan.FromSeconds(scenario.Size)),
        };
        var weights = new LookupTable<int, int>([new(1, 10), new(2, 100)]);
        var pipeline = StreamPipeline.Create<TestEvent>(new StreamPipelineOptions { Name = "restart-operators", WindowState = scenario.State })
            .WithEventTime(e => e.Time, TimeSpan.FromSeconds(scenario.OutOfOrderness), IdleTimeout)
            .Where(e => e.Value != 4)
            .Enrich(weights, e => e.Key, (e, weight) => e with { Value = e.Value * weight })
            .SelectMany(e => Enumerable.Repeat(e, (e.Value / 10) % 3))
            .Select(e => e with { Key = e.Key + (e.Value % 20 == 0 ? 10 : 0) })
            .KeyBy(e => e.Key)
            .Window(window)
            .Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value)))
            .Where(r => r.Value.Item1 != 2)
            .KeyBy(r => r.Key % 2)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(scenario.Slide + 3)))
            .AllowedLateness(TimeSpan.FromSeconds(scenario.Lateness))
            .Emit(scenario.Mode)
            .Aggregate(a => a.MaxBy(r => r.Value.Item1, r => r.Key).And(a.Sum(r => r.Value.Item2)))
            .To(new CollectingSink<WindowResult<int, (Extreme<long, int>, long)>>())
            .Build();

        Verify(scenario, pipeline, r => $"{r.Id} {r.Reason} {r.Value.Item1.Value}@{r.Value.Item1.Item}/{r.Value.Item2} replaces[{string.Join(",", r.Replaces ?? [])}] n={r.RecordCount}");
    }

    [Fact]
    public void Restart_IssueRepro_FinishedWindowIsNotRewrittenWithAPartialValue()
    {
        // Tumbling 10 s, one partition: batch 1 = a@1s; batch 2 = a@2s, a@15s; batch 3 = a@25s; stop after batch 2.
        foreach (var state in new[] { WindowStateMode.Always, WindowStateMode.Never })
        {
            var pipeline = Pipeline(Kind.Tumbling, 10, 10, 0, 0, EmitMode.OnClose, state);
            var first = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline);
            first.Push(new TestEvent(1, 1, 1));
            first.Push(new TestEvent(1, 2, 1), new TestEvent(1, 15, 1));
            var checkpoint = first.CreateCheckpoint();
            Assert.Equal((2L, 2L), Assert.Single(first.Results).Value);

            // The resumed source delivers the partition again after the checkpoint's position: with window state that
            // is after batch 2; without it, before a@15s's window, so batch 2 (a@2s, a@15s) is replayed.
            var second = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline, new FakeTimeProvider(first.Time.GetUtcNow()), checkpoint);
            long resumeAfter = checkpoint.FindPartition("0")!.ResumeAfter?.Sequence.ToInt64() ?? 0;
            var all = new[] { new TestEvent(1, 1, 1), new TestEvent(1, 2, 1), new TestEvent(1, 15, 1) };
            var replay = all.Select((e, i) => new StreamRecord<TestEvent>(e, SequenceNumber.FromInt64(i + 1))).Where(r => r.Sequence.ToInt64() > resumeAfter).ToArray();
            if (replay.Length > 0)
            {
                var receipt = second.Push(new RecordBatch<TestEvent>("0", replay));
                Assert.Equal(replay.Length, receipt.Replayed);
            }

            second.Push(new RecordBatch<TestEvent>("0", new[] { new StreamRecord<TestEvent>(new TestEvent(1, 25, 1), SequenceNumber.FromInt64(4)) }));
            second.Complete();

            Assert.DoesNotContain(second.Results, r => r.Window.Start == TestEvent.At(0));
            Assert.Equal([(1L, 1L), (1L, 1L)], second.Results.Select(r => r.Value));
            Assert.Empty(second.LateRecords);
        }
    }

    private static void Verify(Scenario scenario)
    {
        // Without SelectMany a receipt counts source records, so the records accounted for are exactly the source's.
        long accounted = Verify(scenario, Pipeline(scenario.Kind, scenario.Size, scenario.Slide, scenario.OutOfOrderness, scenario.Lateness, scenario.Mode, scenario.State), Show);
        Assert.Equal(scenario.Partitions.Sum(p => p.Sum(b => b.Length)), accounted);
    }

    /// <summary>Compares the crashing run with the uninterrupted one; returns the records (items after a <c>SelectMany</c>) the receipts accounted for.</summary>
    private static long Verify<TKey, TResult>(Scenario scenario, StreamPipeline<TestEvent, TKey, TResult> pipeline, Func<WindowResult<TKey, TResult>, string> show)
        where TKey : notnull
    {
        var expected = RunUninterrupted(pipeline, scenario, show);
        var actual = RunWithCrashes(pipeline, scenario, show);

        string Describe() => $"{scenario}\nexpected {expected.Results.Count} results, {expected.Late.Count} late, {expected.Dead.Count} dead; got {actual.Results.Count}, {actual.Late.Count}, {actual.Dead.Count}";
        Assert.True(expected.Results.SequenceEqual(actual.Results), $"Results differ.\n{Describe()}\nfirst difference: {FirstDifference(expected.Results, actual.Results)}");
        Assert.True(expected.Late.SequenceEqual(actual.Late), $"Late records differ.\n{Describe()}");
        Assert.True(expected.Dead.SequenceEqual(actual.Dead), $"Dead letters differ.\n{Describe()}");
        Assert.Equal(expected.Accounted, actual.Accounted);
        AssertVersionsNeverGoBack(expected.Results);
        return actual.Accounted;
    }

    private static Outcome RunUninterrupted<TKey, TResult>(StreamPipeline<TestEvent, TKey, TResult> pipeline, Scenario scenario, Func<WindowResult<TKey, TResult>, string> show)
        where TKey : notnull
    {
        var outcome = new Outcome([], [], [], 0);
        var run = new Incarnation<TKey, TResult>(pipeline, scenario, null, Start, outcome, show);
        var source = new ScriptedSource(scenario);
        foreach (var step in scenario.Steps)
        {
            if (step.Partition >= 0)
            {
                outcome.Accounted += run.Driver.Push(source.Batch(step.Partition, step.Batch, after: null)!).Records;
            }
            else if (step.TickSeconds > 0)
            {
                run.Driver.AdvanceTime(TimeSpan.FromSeconds(step.TickSeconds));
            }

            run.Collect();
        }

        run.Driver.Complete();
        run.Collect();
        return outcome;
    }

    /// <summary>
    /// Runs the steps with checkpoints and crashes. A crash forgets everything emitted since the last checkpoint (it was
    /// written but never covered by a saved checkpoint) and restarts from that checkpoint, on a clock set back to when
    /// it was taken: the source first delivers again whatever of the steps before the checkpoint lies after a
    /// partition's resume position, then the steps after the checkpoint follow as they did.
    /// </summary>
    private static Outcome RunWithCrashes<TKey, TResult>(StreamPipeline<TestEvent, TKey, TResult> pipeline, Scenario scenario, Func<WindowResult<TKey, TResult>, string> show)
        where TKey : notnull
    {
        var source = new ScriptedSource(scenario);
        var outcome = new Outcome([], [], [], 0);
        PipelineCheckpoint? saved = null;
        int savedStep = -1;
        var savedMarks = (Results: 0, Late: 0, Dead: 0, Accounted: 0L, Time: Start);
        var crashes = new Queue<int>(scenario.Crashes.Order());
        var run = new Incarnation<TKey, TResult>(pipeline, scenario, null, Start, outcome, show);
        int step = 0;
        while (step < scenario.Steps.Length)
        {
            if (crashes.Count > 0 && crashes.Peek() == step)
            {
                crashes.Dequeue();
                outcome.Results.RemoveRange(savedMarks.Results, outcome.Results.Count - savedMarks.Results);
                outcome.Late.RemoveRange(savedMarks.Late, outcome.Late.Count - savedMarks.Late);
                outcome.Dead.RemoveRange(savedMarks.Dead, outcome.Dead.Count - savedMarks.Dead);
                outcome.Accounted = savedMarks.Accounted;
                run = new Incarnation<TKey, TResult>(pipeline, scenario, saved, savedMarks.Time, outcome, show);
                for (int s = 0; s <= savedStep; s++)
                {
                    var replayed = scenario.Steps[s];
                    if (replayed.Partition >= 0 && source.Batch(replayed.Partition, replayed.Batch, saved!.FindPartition(PartitionId(replayed.Partition))?.ResumeAfter) is { } batch)
                    {
                        var receipt = run.Driver.Push(batch);
                        Assert.Equal(receipt.Records, receipt.Replayed);
                        Assert.Equal(0, receipt.ResultsEmitted);
                    }
                }

                step = savedStep + 1;
                continue;
            }

            var current = scenario.Steps[step];
            if (current.Partition >= 0)
            {
                var receipt = run.Driver.Push(source.Batch(current.Partition, current.Batch, after: null)!);
                outcome.Accounted += receipt.Records - receipt.Replayed;
            }
            else if (current.TickSeconds > 0)
            {
                run.Driver.AdvanceTime(TimeSpan.FromSeconds(current.TickSeconds));
            }
            else
            {
                saved = run.Driver.CreateCheckpoint();
                savedStep = step;
                savedMarks = (outcome.Results.Count, outcome.Late.Count, outcome.Dead.Count, outcome.Accounted, run.Driver.Time.GetUtcNow());
            }

            run.Collect();
            step++;
        }

        run.Driver.Complete();
        run.Collect();
        return outcome;
    }

    /// <summary>One process of the crashing run: a driver (fresh or restored) and how much of its output was collected.</summary>
    private sealed class Incarnation<TKey, TResult>
        where TKey : notnull
    {
        private readonly Outcome _outcome;
        private readonly Func<WindowResult<TKey, TResult>, string> _show;
        private int _results;
        private int _late;
        private int _dead;

        public Incarnation(StreamPipeline<TestEvent, TKey, TResult> pipeline, Scenario scenario, PipelineCheckpoint? checkpoint, DateTimeOffset time, Outcome outcome, Func<WindowResult<TKey, TResult>, string> show)
        {
            // A restored checkpoint goes through its binary form, as it would through a store.
            var restored = checkpoint is null ? null : PipelineCheckpoint.Parse(checkpoint.ToBytes());
            Driver = new PipelineTestDriver<TestEvent, TKey, TResult>(pipeline, new FakeTimeProvider(time), restored);
            Driver.Announce([.. Enumerable.Range(0, scenario.Partitions.Length).Select(PartitionId)]);
            _outcome = outcome;
            _show = show;
        }

        public PipelineTestDriver<TestEvent, TKey, TResult> Driver { get; }

        /// <summary>Takes what the engine emitted since the last call (after one step): the order of results among keys within one step is not part of the contract, so they are sorted.</summary>
        public void Collect()
        {
            _outcome.Results.AddRange(Driver.Results.Skip(_results).Select(_show).Order(StringComparer.Ordinal));
            _outcome.Late.AddRange(Driver.LateRecords.Skip(_late).Select(l => l.Position));
            _outcome.Dead.AddRange(Driver.DeadLetters.Skip(_dead).Select(d => d.Position));
            (_results, _late, _dead) = (Driver.Results.Count, Driver.LateRecords.Count, Driver.DeadLetters.Count);
        }
    }

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static void AssertVersionsNeverGoBack(IReadOnlyList<string> results)
    {
        var versions = new Dictionary<string, long>();
        foreach (string result in results)
        {
            string[] parts = result.Split(' ');
            long count = long.Parse(parts[^1].TrimStart('n', '='), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(!versions.TryGetValue(parts[0], out long before) || before <= count, $"{parts[0]} went from {before} to {count} records");
            versions[parts[0]] = count;
        }
    }

    private static string FirstDifference(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        for (int i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            string e = i < expected.Count ? expected[i] : "(none)";
            string a = i < actual.Count ? actual[i] : "(none)";
            if (e != a)
            {
                return $"#{i}: expected {e}, got {a}";
            }
        }

        return "(none)";
    }

    private static string Show(WindowResult<int, (long Count, long Sum)> r)
        => $"{r.Id} {r.Reason} {r.Value.Count}/{r.Value.Sum} replaces[{string.Join(",", r.Replaces ?? [])}] n={r.RecordCount}";

    private static string PartitionId(int index) => $"shard-{index}";

    [Fact]
    public void Restart_ReplayedBatchCrossesTheCutWithADeadLetterBeforeIt_TheDeadLetterIsNotRepeatedAndTheRunGoesOn()
    {
        // Without window state the resumed source starts before the open window; a source may hand back the replay and
        // new records in one batch, with the dead letter (a record that failed to decode) among the replayed ones.
        var pipeline = Pipeline(Kind.Tumbling, 10, 10, 0, 0, EmitMode.OnClose, WindowStateMode.Never);
        var events = new[] { new TestEvent(1, 1, 1), new TestEvent(1, 2, 1), new TestEvent(1, 4, 1), new TestEvent(1, 12, 1), new TestEvent(1, 14, 1) };
        var badRecord = new DeadLetter(new StreamPosition("0", SequenceNumber.FromInt64(3)), DeadLetterReason.DecodeFailed, "not JSON");
        StreamRecord<TestEvent> At(int sequence) => new(events[sequence < 3 ? sequence - 1 : sequence - 2], SequenceNumber.FromInt64(sequence));
        var first = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline);
        first.Push(new RecordBatch<TestEvent>("0", new[] { At(1), At(2), At(4) }, [badRecord]));
        var checkpoint = first.CreateCheckpoint();
        Assert.Equal(SequenceNumber.FromInt64(4), checkpoint.FindPartition("0")!.ProcessedThrough!.Value.Sequence);
        Assert.Null(checkpoint.FindPartition("0")!.ResumeAfter);

        var second = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline, new FakeTimeProvider(first.Time.GetUtcNow()), checkpoint);
        var receipt = second.Push(new RecordBatch<TestEvent>("0", new[] { At(1), At(2), At(4), At(5), At(6) }, [badRecord]));
        second.Complete();

        Assert.Equal(4, receipt.Replayed);
        Assert.Equal((2, 0), (receipt.Accepted, receipt.DeadLetters));
        Assert.Empty(second.DeadLetters);
        Assert.Equal([(3L, 3L), (2L, 2L)], second.Results.Select(r => r.Value));
    }

    [Fact]
    public void Restart_WithoutWindowStateOnePartitionsNewRecordsComeBeforeTheOthersReplay_NoWindowClosesWithoutTheReplay()
    {
        // Tumbling 10 s, partitions A and B. A read up to 25 s and B up to 13 s before the stop, so [10, 20) and [20, 30)
        // were open, holding records of both. After the restart B's replay and new records come first: the windows must
        // wait for A's replay, which rebuilds A's part of them.
        var pipeline = Pipeline(Kind.Tumbling, 10, 10, 0, 0, EmitMode.OnClose, WindowStateMode.Never);
        static RecordBatch<TestEvent> Batch(string partition, params (long Sequence, long Seconds)[] records) =>
            new(partition, records.Select(r => new StreamRecord<TestEvent>(new TestEvent(1, r.Seconds, 1), SequenceNumber.FromInt64(r.Sequence))).ToArray());

        var oneRun = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline);
        var first = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline);
        foreach (var driver in new[] { oneRun, first })
        {
            driver.Announce("A", "B");
            driver.Push(Batch("A", (1, 1), (2, 12), (3, 25)));
            driver.Push(Batch("B", (1, 2), (2, 13)));
        }

        var checkpoint = first.CreateCheckpoint();
        Assert.Equal(TestEvent.At(13), checkpoint.Watermark);
        Assert.True((checkpoint.FindPartition("A")!.ResumeAfter?.Sequence.ToInt64() ?? 0) < 2);
        Assert.True((checkpoint.FindPartition("B")!.ResumeAfter?.Sequence.ToInt64() ?? 0) < 2);

        var second = new PipelineTestDriver<TestEvent, int, (long Count, long Sum)>(pipeline, new FakeTimeProvider(first.Time.GetUtcNow()), checkpoint);
        second.Announce("A", "B");
        second.Push(Batch("B", (1, 2), (2, 13), (3, 28)));
        second.Push(Batch("A", (1, 1), (2, 12), (3, 25), (4, 35)));
        second.Complete();
        oneRun.Push(Batch("B", (3, 28)));
        oneRun.Push(Batch("A", (4, 35)));
        oneRun.Complete();

        static IEnumerable<string> Shown(IEnumerable<WindowResult<int, (long Count, long Sum)>> results) =>
            results.Where(r => r.Window.Start >= TestEvent.At(10)).Select(r => $"{(r.Window.Start - TestEvent.Epoch).TotalSeconds}: {r.Value.Count}");
        Assert.Equal(["10: 2", "20: 2", "30: 1"], Shown(oneRun.Results));
        Assert.Equal(Shown(oneRun.Results), Shown(second.Results));
    }

    private static StreamPipeline<TestEvent, int, (long Count, long Sum)> Pipeline(Kind kind, long size, long slide, long outOfOrderness, long lateness, EmitMode mode, WindowStateMode state)
    {
        var window = kind switch
        {
            Kind.Tumbling => WindowSpec.Tumbling(TimeSpan.FromSeconds(size)),
            Kind.Sliding => WindowSpec.Sliding(TimeSpan.FromSeconds(size), TimeSpan.FromSeconds(slide)),
            _ => WindowSpec.Session(TimeSpan.FromSeconds(size)),
        };
        return TestPipelines.CountAndSum(window, TimeSpan.FromSeconds(outOfOrderness), TimeSpan.FromSeconds(lateness), mode, IdleTimeout, new StreamPipelineOptions { Name = "restart", WindowState = state });
    }

    public sealed record Step(int Partition, int Batch, int TickSeconds)
    {
        public static Step Checkpoint { get; } = new(-1, 0, 0);

        public override string ToString() => Partition >= 0 ? $"p{Partition}b{Batch}" : TickSeconds > 0 ? $"+{TickSeconds}s" : "CP";
    }

    public sealed record Scenario(
        TestEvent[][][] Partitions,
        bool[] Ends,
        Step[] Steps,
        int[] Crashes,
        long Size,
        long Slide,
        long OutOfOrderness,
        long Lateness,
        EmitMode Mode,
        WindowStateMode State)
    {
        internal Kind Kind { get; init; }

        public override string ToString()
            => $"{Kind} size {Size} slide {Slide} ooo {OutOfOrderness} lateness {Lateness} {Mode} state {State}; ends [{string.Join(",", Ends)}]; crashes at [{string.Join(",", Crashes)}]\n" +
               $"steps {string.Join(" ", Steps.Select(s => s.ToString()))}\n" +
               string.Join("\n", Partitions.Select((p, i) => $"p{i}: " + string.Join(" | ", p.Select(b => string.Join(",", b.Select(e => $"k{e.Key}@{e.Seconds}"))))));
    }

    private sealed record Outcome(List<string> Results, List<StreamPosition> Late, List<StreamPosition> Dead, long Accounted)
    {
        public long Accounted { get; set; } = Accounted;
    }

    /// <summary>Delivers the scenario's batches with stable positions, cut after a resume position as a resuming source does.</summary>
    private sealed class ScriptedSource(Scenario scenario)
    {
        public RecordBatch<TestEvent>? Batch(int partition, int index, StreamPosition? after)
        {
            var batches = scenario.Partitions[partition];
            long first = batches.Take(index).Sum(b => b.Length);
            var records = batches[index].Select((e, i) => new StreamRecord<TestEvent>(e, SequenceNumber.FromInt64(first + i + 1)))
                .Where(r => after is null || r.Sequence.ToInt64() > after.Value.Sequence.ToInt64()).ToArray();
            bool end = scenario.Ends[partition] && index == batches.Length - 1;
            if (records.Length == 0 && after is not null && !end)
            {
                return null;
            }

            var endPosition = new StreamPosition(PartitionId(partition), SequenceNumber.FromInt64(Math.Max(first + batches[index].Length, 1)));
            return new RecordBatch<TestEvent>(PartitionId(partition), records, endPosition: batches[index].Length == 0 && first == 0 ? null : endPosition, isEndOfPartition: end);
        }
    }

    public static class Scenarios
    {
        public static Arbitrary<Scenario> Scenario() => Generate().ToArbitrary();

        private static Gen<Scenario> Generate() =>
            from partitionCount in Gen.Choose(1, 3)
            from partitions in Gen.ArrayOf(Partition(), partitionCount)
            from ends in Gen.ArrayOf(Gen.Elements(true, false, false), partitionCount)
            from order in Gen.Shuffle(partitions.SelectMany((p, i) => Enumerable.Repeat(i, p.Length)).ToArray())
            from extras in Gen.ArrayOf(Gen.Frequency((6, Gen.Constant(0)), (2, Gen.Choose(1, 12)), (2, Gen.Constant(-1))), order.Length + 1)
            from crashCount in Gen.Choose(1, 3)
            from crashes in Gen.ArrayOf(Gen.Choose(0, order.Length * 2), crashCount)
            from size in Gen.Choose(2, 30)
            from slide in Gen.Choose(1, size)
            from ooo in Gen.Elements(0L, 3L, 10L)
            from lateness in Gen.Elements(0L, 0L, 5L, 20L)
            from mode in Gen.Elements(EmitMode.OnClose, EmitMode.OnUpdate)
            from state in Gen.Elements(WindowStateMode.Always, WindowStateMode.Never)
            let steps = Interleave(partitions, order, extras)
            select new Scenario(partitions, ends, steps, [.. crashes.Where(c => c < steps.Length).Distinct()], size, slide, ooo, lateness, mode, state);

        /// <summary>The batches of one partition: mostly increasing times with jitter, a few invalid ones (dead letters).</summary>
        private static Gen<TestEvent[][]> Partition() =>
            from count in Gen.Choose(0, 24)
            from start in Gen.Choose(100, 130)
            from events in Gen.ArrayOf(
                from key in Gen.Choose(1, 3)
                from jitter in Gen.Choose(-12, 12)
                from invalid in Gen.Frequency((30, Gen.Constant(false)), (1, Gen.Constant(true)))
                from value in Gen.Choose(1, 9)
                select (key, jitter, invalid, value), count)
            from cuts in Gen.ArrayOf(Gen.Choose(0, 2), count)
            select Split(start, events, cuts);

        private static TestEvent[][] Split(int start, (int Key, int Jitter, bool Invalid, int Value)[] events, int[] cuts)
        {
            var batches = new List<TestEvent[]>();
            var current = new List<TestEvent>();
            for (int i = 0; i < events.Length; i++)
            {
                long seconds = events[i].Invalid ? -5 : Math.Max(1, start + (i * 4) + events[i].Jitter);
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

        /// <summary>Batches in the shuffled partition order (each partition's own order kept), with ticks and checkpoints between them.</summary>
        private static Step[] Interleave(TestEvent[][][] partitions, int[] order, int[] extras)
        {
            var next = new int[partitions.Length];
            var steps = new List<Step>();
            for (int i = 0; i < order.Length; i++)
            {
                AddExtra(extras[i]);
                int p = order[i];
                steps.Add(new Step(p, next[p]++, 0));
            }

            AddExtra(extras[^1]);
            return [.. steps];

            void AddExtra(int extra)
            {
                if (extra > 0)
                {
                    steps.Add(new Step(-1, 0, extra));
                }
                else if (extra < 0)
                {
                    steps.Add(Step.Checkpoint);
                }
            }
        }
    }

    /// <summary>250 scenarios per property in the regular test run; <c>RESTART_PROPERTY_RUNS=10000</c> runs more.</summary>
#pragma warning disable xUnit3003 // FsCheck's PropertyAttribute has no source-information constructor to pass the caller's file and line to.
    private sealed class RestartPropertyAttribute : PropertyAttribute
#pragma warning restore xUnit3003
    {
        public RestartPropertyAttribute()
        {
            Arbitrary = [typeof(Scenarios)];
            MaxTest = int.TryParse(Environment.GetEnvironmentVariable("RESTART_PROPERTY_RUNS"), out int runs) ? runs : 250;
        }
    }
}
