namespace Analytics.Streaming.CrashTests;

/// <summary>
/// Acceptance check 1 of "Effectively once, for real", tumbling windows: see <see cref="DeterministicCrashCheck"/>.
/// (Two classes, so the two window kinds run in parallel.)
/// </summary>
public sealed class TumblingCrashTests
{
    [Theory]
    [InlineData("on-close", "auto")]
    [InlineData("on-update", "never")]
    public Task RunAsync_KilledAndRestartedSeveralTimes_SameOutputsAsUninterruptedRun(string emit, string state)
        => DeterministicCrashCheck.RunAsync("tumbling", emit, state);
}

/// <summary>Acceptance check 1 of "Effectively once, for real", sliding windows: see <see cref="DeterministicCrashCheck"/>.</summary>
public sealed class SlidingCrashTests
{
    [Theory]
    [InlineData("on-update", "always")]
    [InlineData("on-close", "never")]
    public Task RunAsync_KilledAndRestartedSeveralTimes_SameOutputsAsUninterruptedRun(string emit, string state)
        => DeterministicCrashCheck.RunAsync("sliding", emit, state);
}

/// <summary>
/// A pipeline in a child process (the worker, over the deterministic source) is killed hard at random moments and
/// restarted from its file checkpoint store until it ends; its result table by identity, late records and dead letters
/// must equal those of an uninterrupted run.
/// </summary>
internal static class DeterministicCrashCheck
{
    /// <summary>The delay the killed runs' source waits before each batch: about 3 s of input, room for 3 to 5 kills.</summary>
    private const string Pace = "10";

    public static async Task RunAsync(string window, string emit, string state)
    {
        string root = Path.Combine(Path.GetTempPath(), "crash-tests", $"{window}-{emit}-{state}-{Guid.NewGuid():N}");
        string[] arguments = ["deterministic", "--window", window, "--emit", emit, "--state", state];
        int total = DeterministicStream.Generate(DeterministicStream.DefaultSeed).TotalEvents;

        // The uninterrupted run goes as fast as it can: results must not depend on timing either.
        var uninterrupted = await CrashHarness.RunUninterruptedAsync([.. arguments, "--pace-ms", "0"], Path.Combine(root, "uninterrupted"));
        var killed = await CrashHarness.RunWithKillsAsync([.. arguments, "--pace-ms", Pace], Path.Combine(root, "killed"), CrashHarness.Seed, total);

        var restarts = ReadLog.Analyze(killed);
        string report = $"{window} windows, {emit}, window state {state}\n{killed.Describe()}{ReadLog.Describe(restarts)}";
        TestContext.Current.TestOutputHelper?.WriteLine(report);

        var expected = RunOutputs.Read(uninterrupted.Folder);
        var actual = RunOutputs.Read(killed.Folder);
        RunOutputs.AssertSame(expected, actual, report);
        Assert.True(killed.Kills >= 3, $"Only {killed.Kills} kills landed before the run ended.\n{report}");
        AssertEveryRecordAccounted(uninterrupted, expected, window, total);
        AssertRestartsResumed(restarts, report);

        Directory.Delete(root, recursive: true);
    }

    /// <summary>
    /// Every restart resumed from the last checkpoint saved before it (no saved progress is lost, so what is done
    /// twice is at most what a killed process did after its last save), nothing at or before a resume position was
    /// read again, nothing a checkpoint with window state covers was read again, and the pipeline's replay counter
    /// matches what the source delivered again. How much is redone depends on how long the killed process ran past
    /// its last save (a loaded machine saves less often); without window state the replays are the open windows'
    /// records, bounded by the window definition. Both are reported, not bounded by a number here.
    /// </summary>
    public static void AssertRestartsResumed(IReadOnlyList<RestartReads> restarts, string report)
    {
        Assert.NotEmpty(restarts);
        foreach (var restart in restarts)
        {
            Assert.True(restart.AtOrBeforeResume == 0, $"Restart #{restart.Incarnation} read {restart.AtOrBeforeResume} records at or before its resume positions again.\n{report}");
            Assert.True(!restart.WithWindowState || restart.Replays == 0, $"Restart #{restart.Incarnation} restored window state but read {restart.Replays} records its checkpoint covered again.\n{report}");
            Assert.True(restart.LibraryReplayed <= restart.Replays, $"Restart #{restart.Incarnation}: the pipeline counted {restart.LibraryReplayed} replays, the source delivered {restart.Replays}.\n{report}");
            Assert.True(restart.RestoredId >= restart.PreviousSaved, $"Restart #{restart.Incarnation} resumed from checkpoint {restart.RestoredId}, but checkpoint {restart.PreviousSaved} had been saved before.\n{report}");
        }

        var last = restarts[^1];
        Assert.True(last.LibraryReplayed == last.Replays, $"The last process counted {last.LibraryReplayed} replays; its source delivered {last.Replays} records its checkpoint covered.\n{report}");
    }

    /// <summary>Nothing lost silently: every input record is in a window, a late record or a dead letter.</summary>
    private static void AssertEveryRecordAccounted(CrashRun uninterrupted, RunOutputs outputs, string window, int total)
    {
        var statistics = uninterrupted.Incarnations.Single();
        Assert.Equal(total, statistics.Statistic("in"));
        Assert.Equal(total, statistics.Statistic("accepted") + statistics.Statistic("late") + statistics.Statistic("dead"));
        Assert.Equal(statistics.Statistic("late"), outputs.Late.Count);
        Assert.Equal(statistics.Statistic("dead"), outputs.Dead.Count);
        Assert.NotEmpty(outputs.Late);
        Assert.NotEmpty(outputs.Dead);
        if (window == "tumbling")
        {
            // Each accepted record is in exactly one tumbling window.
            Assert.Equal(statistics.Statistic("accepted"), outputs.Results.Values.Sum(r => r.RecordCount));
        }
    }
}
