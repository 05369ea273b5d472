using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.CrashTests;

/// <summary>What a run left in its folder: the result table by identity, the late records and the dead letters by position.</summary>
/// <param name="Results">The result files by identity.</param>
/// <param name="Late">The late-record files by position (their whole content).</param>
/// <param name="Dead">The dead-letter files by position (their whole content).</param>
internal sealed record RunOutputs(IReadOnlyDictionary<string, ResultFile> Results, IReadOnlyDictionary<string, string> Late, IReadOnlyDictionary<string, string> Dead)
{
    /// <summary>Reads a run's folder.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="lateWatermarks">
    /// Whether late records keep the watermark they met. It is part of the comparison when the source's interleaving
    /// is fixed (the deterministic source); with shards read concurrently it depends on how far the other shards were,
    /// so only the records themselves are compared.
    /// </param>
    /// <returns>The outputs.</returns>
    public static RunOutputs Read(string folder, bool lateWatermarks = true)
    {
        var results = new Dictionary<string, ResultFile>(StringComparer.Ordinal);
        foreach (string file in CrashFiles.ListFiles(Path.Combine(folder, CrashFiles.Results)))
        {
            var result = JsonSerializer.Deserialize(File.ReadAllBytes(file), CrashJson.Default.ResultFile)!;
            results.Add(result.Id, result);
        }

        var late = ReadByPosition(Path.Combine(folder, CrashFiles.Late));
        if (!lateWatermarks)
        {
            foreach (string position in late.Keys.ToList())
            {
                var record = JsonSerializer.Deserialize(late[position], CrashJson.Default.LateFile)! with { WatermarkMs = 0 };
                late[position] = JsonSerializer.Serialize(record, CrashJson.Default.LateFile);
            }
        }

        return new RunOutputs(results, late, ReadByPosition(Path.Combine(folder, CrashFiles.Dead)));
    }

    /// <summary>Asserts that two runs left the same outputs; the message lists the first differences and <paramref name="context"/>.</summary>
    /// <param name="expected">The uninterrupted run's outputs.</param>
    /// <param name="actual">The killed run's outputs.</param>
    /// <param name="context">What to print on failure (the kill schedule and its seed).</param>
    public static void AssertSame(RunOutputs expected, RunOutputs actual, string context)
    {
        var differences = new StringBuilder();
        Compare("result", expected.Results.ToDictionary(p => p.Key, p => Show(p.Value)), actual.Results.ToDictionary(p => p.Key, p => Show(p.Value)), differences);
        Compare("late record", expected.Late, actual.Late, differences);
        Compare("dead letter", expected.Dead, actual.Dead, differences);
        Assert.True(differences.Length == 0, $"The killed run differs from the uninterrupted run:\n{differences}\n{context}");
    }

    /// <summary>Shows a result's value, version and reason (its identity is the key).</summary>
    /// <param name="result">The result.</param>
    /// <returns>The text.</returns>
    public static string Show(ResultFile result) => $"count={result.Count} sum={result.Sum} records={result.RecordCount} reason={result.Reason}";

    private static Dictionary<string, string> ReadByPosition(string folder)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in CrashFiles.ListFiles(folder))
        {
            files.Add(Path.GetFileNameWithoutExtension(file), File.ReadAllText(file));
        }

        return files;
    }

    private static void Compare(string what, IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string> actual, StringBuilder differences)
    {
        int shown = 0;
        int total = 0;
        foreach (string id in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            expected.TryGetValue(id, out string? e);
            actual.TryGetValue(id, out string? a);
            if (e == a)
            {
                continue;
            }

            total++;
            if (shown++ < 10)
            {
                differences.Append($"  {what} {id}: expected {e ?? "(none)"}, got {a ?? "(none)"}\n");
            }
        }

        if (total > 0)
        {
            differences.Append($"  {total} {what}s differ ({expected.Count} expected, {actual.Count} present)\n");
        }
    }
}
