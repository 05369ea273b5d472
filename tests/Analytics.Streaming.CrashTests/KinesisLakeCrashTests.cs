using System.Globalization;
using System.Text;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// Acceptance check 2 of "Effectively once, for real": the worker reads a three-shard kinesalite stream with a backlog
/// through the real <c>KinesisShardConsumer</c>, with the file checkpoint store, into the result folder and the S3 sink
/// (Parquet in a local folder). Killed hard several times mid-stream and restarted, it must leave the same result
/// table, late records and dead letters as an uninterrupted run, and DuckDB must read every result identity exactly
/// once from its lake, with the uninterrupted run's value. Both runs happen once (<see cref="KinesisCrashRuns"/>);
/// the two tests check the folders and the lake.
/// </summary>
public sealed class KinesisLakeCrashTests(KinesisCrashRuns runs, DuckDbFixture duckDb) : IClassFixture<KinesisCrashRuns>
{
    [Fact]
    public void RunAsync_KinesisWorkerKilledSeveralTimes_SameResultsLateRecordsAndDeadLettersAsUninterruptedRun()
    {
        runs.Hold();
        var expected = RunOutputs.Read(runs.Uninterrupted.Folder, lateWatermarks: false);
        var actual = RunOutputs.Read(runs.Killed.Folder, lateWatermarks: false);

        Assert.Equal(3 * 3, expected.Late.Count);
        Assert.NotEmpty(expected.Dead);
        RunOutputs.AssertSame(expected, actual, runs.Report);
        Assert.True(runs.Killed.Kills >= 3, $"Only {runs.Killed.Kills} kills landed before the run ended.\n{runs.Report}");
        DeterministicCrashCheck.AssertRestartsResumed(runs.Restarts, runs.Report);
        runs.Release();
    }

    [Fact]
    public async Task RunAsync_KinesisWorkerKilledSeveralTimes_LakeHoldsEachIdentityOnceWithUninterruptedValue()
    {
        runs.Hold();
        var table = RunOutputs.Read(runs.Uninterrupted.Folder);
        var expected = await ReadLakeAsync(runs.Uninterrupted.Folder);
        Assert.Equal(table.Results.Values.Select(r => $"{r.Id} {RunOutputs.Show(r)}").Order(StringComparer.Ordinal), expected.Select(r => r.Row));

        var actual = await ReadLakeAsync(runs.Killed.Folder);

        var problems = new StringBuilder();
        foreach (var copies in actual.GroupBy(r => r.Id).Where(g => g.Count() > 1))
        {
            problems.Append(CultureInfo.InvariantCulture, $"  {copies.Key} is in the lake {copies.Count()} times: {string.Join(" | ", copies.Select(c => $"{c.Row} in {c.Object}"))}\n");
        }

        var expectedRows = expected.Select(r => r.Row).ToHashSet(StringComparer.Ordinal);
        var actualRows = actual.Select(r => r.Row).ToHashSet(StringComparer.Ordinal);
        foreach (string missing in expectedRows.Except(actualRows).Order(StringComparer.Ordinal))
        {
            problems.Append(CultureInfo.InvariantCulture, $"  missing: {missing}\n");
        }

        foreach (string extra in actualRows.Except(expectedRows).Order(StringComparer.Ordinal))
        {
            problems.Append(CultureInfo.InvariantCulture, $"  unexpected: {extra}\n");
        }

        Assert.True(
            problems.Length == 0,
            $"DuckDB reads the killed run's lake ({actual.Count} rows, {actual.Select(r => r.Id).Distinct().Count()} identities) differently from the uninterrupted one ({expected.Count} rows):\n{problems}\n{runs.Report}");
        runs.Release();
    }

    /// <summary>Every row of a run's lake as DuckDB reads it: identity, values, and the object it is in.</summary>
    private async Task<List<(string Id, string Row, string Object)>> ReadLakeAsync(string folder)
    {
        string table = Path.Combine(folder, CrashFiles.Lake) + Path.DirectorySeparatorChar;
        var rows = await duckDb.Query.QueryAsync(
            $"SELECT id, cnt, total, record_count, reason, filename FROM read_parquet('{table}**/*.parquet', hive_partitioning = true, filename = true) ORDER BY id, record_count, cnt, total, filename");
        return [.. rows.Select(r => (
            (string)r["id"]!,
            $"{r["id"]} count={r["cnt"]} sum={r["total"]} records={r["record_count"]} reason={r["reason"]}",
            ((string)r["filename"]!)[table.Length..]))];
    }
}

/// <summary>
/// The two runs of the Kinesis crash test, made once for its tests: a stream with a backlog, an uninterrupted run and
/// a run killed several times, each in its own folder. The folders are deleted at the end unless a test failed.
/// </summary>
public sealed class KinesisCrashRuns(KinesaliteServer kinesalite) : IAsyncLifetime
{
    private const int DataSeed = 4242;
    private string _root = string.Empty;
    private int _kept;

    internal CrashRun Uninterrupted { get; private set; } = null!;

    internal CrashRun Killed { get; private set; } = null!;

    internal IReadOnlyList<RestartReads> Restarts { get; private set; } = [];

    internal int Records { get; private set; }

    internal string Report { get; private set; } = string.Empty;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        string stream = KinesaliteServer.NewStreamName("crash");
        await kinesalite.Admin.CreateStreamAsync(stream, 3);
        Records = await KinesisBacklog.WriteAsync(kinesalite.Admin, stream, DataSeed, CancellationToken.None);
        _root = Path.Combine(Path.GetTempPath(), "crash-tests", $"kinesis-{Guid.NewGuid():N}");
        string[] arguments =
        [
            "kinesis",
            "--endpoint", kinesalite.Endpoint.ToString(),
            "--stream", stream,
            "--end-ms", KinesisBacklog.End.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),

            // Saves take as long as a remote store's: kills land between the lake's flush and the checkpoint often.
            "--save-delay-ms", "100",
        ];

        Uninterrupted = await CrashHarness.RunUninterruptedAsync(arguments, Path.Combine(_root, "uninterrupted"));
        Killed = await CrashHarness.RunWithKillsAsync(arguments, Path.Combine(_root, "killed"), CrashHarness.Seed, Records, lake: true);
        Restarts = ReadLog.Analyze(Killed);
        Report = $"kinesis stream {stream} (3 shards, {Records} records)\n{Killed.Describe()}{ReadLog.Describe(Restarts)}";
        TestContext.Current.SendDiagnosticMessage(Report);
    }

    /// <summary>Keeps the folders for inspection until <see cref="Release"/> (which a test calls when it passed); prints the report.</summary>
    internal void Hold()
    {
        Interlocked.Increment(ref _kept);
        TestContext.Current.TestOutputHelper?.WriteLine(Report);
    }

    /// <summary>Lets the folders go again (a failed test never gets here, so they stay).</summary>
    internal void Release() => Interlocked.Decrement(ref _kept);

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _kept) == 0 && Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
