using System.Globalization;
using System.Text;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// Acceptance check 2 of "Effectively once, for real": the worker reads a three-shard kinesalite stream with a backlog
/// through the real <c>KinesisShardConsumer</c>, with the file checkpoint store, into the result folder and the S3 sink
/// (Parquet in a local folder). Killed hard several times mid-stream and restarted, it must leave the same result
/// table, late records and dead letters as an uninterrupted run, and DuckDB must read every result identity exactly
/// once from its lake, with the uninterrupted run's value.
/// </summary>
public sealed class KinesisLakeCrashTests(KinesaliteServer kinesalite, DuckDbFixture duckDb)
{
    private const int DataSeed = 4242;

    [Fact]
    public async Task RunAsync_KinesisWorkerKilledSeveralTimes_SameOutputsAndEachIdentityOnceInTheLake()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("crash");
        await kinesalite.Admin.CreateStreamAsync(stream, 3, ct);
        int records = await KinesisBacklog.WriteAsync(kinesalite.Admin, stream, DataSeed, ct);
        string root = Path.Combine(Path.GetTempPath(), "crash-tests", $"kinesis-{Guid.NewGuid():N}");
        string[] arguments =
        [
            "kinesis",
            "--endpoint", kinesalite.Endpoint.ToString(),
            "--stream", stream,
            "--end-ms", KinesisBacklog.End.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),

            // Saves take as long as a remote store's: kills land between the lake's flush and the checkpoint often.
            "--save-delay-ms", "100",
        ];

        var uninterrupted = await CrashHarness.RunUninterruptedAsync(arguments, Path.Combine(root, "uninterrupted"));
        var killed = await CrashHarness.RunWithKillsAsync(arguments, Path.Combine(root, "killed"), CrashHarness.Seed, records, lake: true);

        var restarts = ReadLog.Analyze(killed);
        string report = $"kinesis stream {stream} (3 shards, {records} records)\n{killed.Describe()}{ReadLog.Describe(restarts)}";
        TestContext.Current.TestOutputHelper?.WriteLine(report);

        var expected = RunOutputs.Read(uninterrupted.Folder, lateWatermarks: false);
        var actual = RunOutputs.Read(killed.Folder, lateWatermarks: false);
        Assert.Equal(3 * 3, expected.Late.Count);
        Assert.NotEmpty(expected.Dead);
        RunOutputs.AssertSame(expected, actual, report);
        Assert.True(killed.Kills >= 3, $"Only {killed.Kills} kills landed before the run ended.\n{report}");
        DeterministicCrashCheck.AssertRestartsResumed(restarts, records, report);

        // The lake: the uninterrupted one holds exactly the result table; the killed one must hold the same rows.
        var expectedLake = await ReadLakeAsync(uninterrupted.Folder);
        Assert.Equal(expected.Results.Values.Select(r => $"{r.Id} {RunOutputs.Show(r)}").Order(StringComparer.Ordinal), expectedLake.Select(r => r.Row));
        var actualLake = await ReadLakeAsync(killed.Folder);
        AssertLakeSame(expectedLake, actualLake, report);

        Directory.Delete(root, recursive: true);
    }

    private async Task<List<(string Id, string Row)>> ReadLakeAsync(string folder)
    {
        string glob = Path.Combine(folder, CrashFiles.Lake, "**", "*.parquet");
        var rows = await duckDb.Query.QueryAsync(
            $"SELECT id, cnt, total, record_count, reason FROM read_parquet('{glob}', hive_partitioning = true) ORDER BY id, record_count, cnt, total");
        return [.. rows.Select(r => ((string)r["id"]!, $"{r["id"]} count={r["cnt"]} sum={r["total"]} records={r["record_count"]} reason={r["reason"]}"))];
    }

    private static void AssertLakeSame(List<(string Id, string Row)> expected, List<(string Id, string Row)> actual, string report)
    {
        var problems = new StringBuilder();
        foreach (var copies in actual.GroupBy(r => r.Id).Where(g => g.Count() > 1))
        {
            problems.Append(CultureInfo.InvariantCulture, $"  {copies.Key} is in the lake {copies.Count()} times: {string.Join(" | ", copies.Select(c => c.Row))}\n");
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
            $"DuckDB reads the killed run's lake ({actual.Count} rows, {actual.Select(r => r.Id).Distinct().Count()} identities) differently from the uninterrupted one ({expected.Count} rows):\n{problems}\n{report}");
    }
}
