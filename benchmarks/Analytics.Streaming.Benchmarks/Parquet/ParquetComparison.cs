using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Analytics.Streaming.Parquet;

namespace Analytics.Streaming.Benchmarks.Parquet;

/// <summary>
/// The size and DuckDB comparison of the Parquet benchmark, run once per benchmark run on the same rows: JSON lines
/// size, this writer's SNAPPY file size and best-of-3 single-threaded time, DuckDB's COPY TO parquet (SNAPPY) size and
/// best-of-3 time with one thread and with all threads.
/// </summary>
public static class ParquetComparison
{
    public static void Run(ClickEvent[] events)
    {
        string directory = Path.Combine(Path.GetTempPath(), "parquet-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        try
        {
            string jsonl = Path.Combine(directory, "clicks.jsonl");
            using (var file = File.Create(jsonl))
            {
                Clickstream.WriteJsonLines(events, file);
            }

            long jsonBytes = new FileInfo(jsonl).Length;
            long ourBytes = 0;
            double ourMs = double.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                using var buffer = new MemoryStream();
                var watch = Stopwatch.StartNew();
                using (var writer = new ParquetWriter<ClickEvent>(buffer, Clickstream.Map, new ParquetWriterOptions { Compression = ParquetCompression.Snappy }, leaveOpen: true))
                {
                    writer.Write(events);
                    writer.Complete();
                }

                ourMs = Math.Min(ourMs, watch.Elapsed.TotalMilliseconds);
                ourBytes = buffer.Length;
                if (i == 0)
                {
                    File.WriteAllBytes(Path.Combine(directory, "clicks-ours.parquet"), buffer.ToArray());
                }
            }

            string report = FormattableString.Invariant(
                $"Parquet comparison, {events.Length:N0} clickstream rows: JSON lines {jsonBytes:N0} B; this writer SNAPPY {ourBytes:N0} B ({100.0 * (1 - (double)ourBytes / jsonBytes):F1}% smaller than JSON), best of 3 {ourMs:F0} ms = {events.Length / ourMs * 1000:N0} rows/s single-threaded");
            var duck = RunDuckDb(jsonl, Path.Combine(directory, "clicks"));
            if (duck is JsonElement d)
            {
                var single = d.GetProperty("single");
                var multi = d.GetProperty("multi");
                double singleMs = single.GetProperty("ms").GetDouble();
                double multiMs = multi.GetProperty("ms").GetDouble();
                long duckBytes = single.GetProperty("bytes").GetInt64();
                report += FormattableString.Invariant(
                    $"\nDuckDB COPY TO parquet SNAPPY: {duckBytes:N0} B ({100.0 * (1 - (double)duckBytes / jsonBytes):F1}% smaller than JSON; ours / DuckDB size = {(double)ourBytes / duckBytes:F2}); 1 thread best of 3 {singleMs:F0} ms = {events.Length / singleMs * 1000:N0} rows/s (ours is {singleMs / ourMs:F2}x its speed); {multi.GetProperty("threads").GetInt32()} threads {multiMs:F0} ms = {events.Length / multiMs * 1000:N0} rows/s");
            }

            Console.WriteLine();
            Console.WriteLine("// " + report.Replace("\n", "\n// ", StringComparison.Ordinal));
            Console.WriteLine();
            File.WriteAllText(Path.Combine(Path.GetTempPath(), "parquet-comparison.txt"), report);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static JsonElement? RunDuckDb(string jsonl, string outPrefix)
    {
        string? peers = FindPeers();
        if (peers is null)
        {
            Console.WriteLine("// DuckDB comparison skipped: tests/peers with node_modules not found above " + AppContext.BaseDirectory);
            return null;
        }

        var info = new ProcessStartInfo("node") { WorkingDirectory = peers, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("parquet-duckdb-write.js");
        info.ArgumentList.Add(jsonl);
        info.ArgumentList.Add(outPrefix);
        info.ArgumentList.Add("3");
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.WriteLine("// DuckDB comparison failed: " + errors);
            return null;
        }

        using var document = JsonDocument.Parse(output.Trim());
        return document.RootElement.Clone();
    }

    private static string? FindPeers()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "peers");
            if (Directory.Exists(Path.Combine(candidate, "node_modules")))
            {
                return candidate;
            }
        }

        return null;
    }
}
