using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Analytics.Streaming.CrashTests;

/// <summary>What happened to one process of a run: what it restored, how it ended, what it printed.</summary>
/// <param name="Number">The incarnation number (0 for the first process of a run).</param>
/// <param name="Restored">The checkpoint it resumed from (read from the store just before it started); <see langword="null"/> when there was none.</param>
/// <param name="KillCondition">What the test waited for before the kill; <see langword="null"/> when it was not killed.</param>
/// <param name="KillDelayMs">The random delay after the condition, in milliseconds.</param>
/// <param name="ExitCode">The exit code when it exited on its own; <see langword="null"/> when killed.</param>
/// <param name="Lines">Its standard output.</param>
/// <param name="Duration">How long it ran.</param>
/// <param name="UncoveredObjects">Lake objects written after the last saved checkpoint when it was killed: outputs of a flush whose checkpoint was never saved.</param>
internal sealed record Incarnation(int Number, PipelineCheckpoint? Restored, string? KillCondition, int KillDelayMs, int? ExitCode, IReadOnlyList<string> Lines, TimeSpan Duration, int UncoveredObjects = 0)
{
    /// <summary>Gets a value indicating whether the test killed it.</summary>
    public bool Killed => KillCondition is not null;

    /// <summary>Gets the statistics it printed last: the <c>done</c> line, or the last <c>checkpoint</c> line of a killed process.</summary>
    public IReadOnlyDictionary<string, string> LastStatistics
        => Lines.LastOrDefault(l => l.StartsWith(CrashFiles.DoneLine, StringComparison.Ordinal) || l.StartsWith(CrashFiles.CheckpointLine, StringComparison.Ordinal)) is { } line
            ? CrashFiles.ParseLine(line)
            : new Dictionary<string, string>();

    /// <summary>Gets the id of the last checkpoint the process reported saved (it prints the line after the save); 0 when none.</summary>
    public long LastSavedCheckpoint => Lines.LastOrDefault(l => l.StartsWith(CrashFiles.CheckpointLine, StringComparison.Ordinal) || l.StartsWith(CrashFiles.DoneLine, StringComparison.Ordinal)) is { } line
        && CrashFiles.ParseLine(line).TryGetValue("id", out string? id) ? long.Parse(id, CultureInfo.InvariantCulture) : 0;

    /// <summary>Gets a counter from <see cref="LastStatistics"/>; 0 when the process printed none.</summary>
    /// <param name="name">The counter, such as <c>replayed</c>.</param>
    /// <returns>The value.</returns>
    public long Statistic(string name) => LastStatistics.TryGetValue(name, out string? value) ? long.Parse(value, CultureInfo.InvariantCulture) : 0;
}

/// <summary>A run of the worker on one output folder: one process, or several when the test kills and restarts it.</summary>
/// <param name="Folder">The output folder.</param>
/// <param name="Seed">The seed of the kill schedule; 0 for an uninterrupted run.</param>
/// <param name="Incarnations">The processes, in order.</param>
internal sealed record CrashRun(string Folder, int Seed, IReadOnlyList<Incarnation> Incarnations)
{
    /// <summary>Gets the number of processes killed.</summary>
    public int Kills => Incarnations.Count(i => i.Killed);

    /// <summary>Gets the number of kills that left lake objects no saved checkpoint covered.</summary>
    public int KillsBetweenFlushAndCheckpoint => Incarnations.Count(i => i.UncoveredObjects > 0);

    /// <summary>Describes every incarnation on one line each (restored checkpoint, kill, exit, counters).</summary>
    /// <returns>The description.</returns>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"run in {Folder}, kill seed {Seed} (set CRASH_SEED={Seed} to repeat the kill schedule), {Kills} kills");
        text.Append(KillsBetweenFlushAndCheckpoint > 0 ? string.Create(CultureInfo.InvariantCulture, $", {KillsBetweenFlushAndCheckpoint} between a lake flush and its checkpoint\n") : "\n");
        foreach (var incarnation in Incarnations)
        {
            text.Append(CultureInfo.InvariantCulture, $"  #{incarnation.Number}: restored checkpoint {incarnation.Restored?.Id ?? 0}, ");
            text.Append(incarnation.Killed
                ? string.Create(CultureInfo.InvariantCulture, $"killed {incarnation.KillDelayMs} ms after {incarnation.KillCondition}")
                : string.Create(CultureInfo.InvariantCulture, $"exited {incarnation.ExitCode}"));
            text.Append(CultureInfo.InvariantCulture, $" after {incarnation.Duration.TotalMilliseconds:0} ms");
            if (incarnation.UncoveredObjects > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $" ({incarnation.UncoveredObjects} lake objects flushed for a checkpoint never saved)");
            }

            text.Append("; last printed: ");
            text.Append(string.Join(' ', incarnation.LastStatistics.Select(p => $"{p.Key}={p.Value}")));
            text.Append('\n');
            if (Environment.GetEnvironmentVariable("CRASH_VERBOSE") == "1")
            {
                foreach (string line in incarnation.Lines)
                {
                    text.Append("      ").Append(line).Append('\n');
                }
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// Runs the worker on a folder, either once to its end or with hard kills at random moments: after each kill the
/// worker is started again on the same folder (so it resumes from its checkpoint store) until it exits by itself.
/// </summary>
internal static class CrashHarness
{
    private static readonly TimeSpan ConditionTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Gets the seed of the kill schedule: <c>CRASH_SEED</c> when set, otherwise a new random one (printed in every report).</summary>
    public static int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("CRASH_SEED"), CultureInfo.InvariantCulture, out int seed)
        ? seed
        : Random.Shared.Next(1, int.MaxValue);

    /// <summary>Runs the worker once, to its end.</summary>
    /// <param name="arguments">The worker's arguments (without <c>--out</c> and <c>--incarnation</c>).</param>
    /// <param name="folder">The output folder.</param>
    /// <returns>The run.</returns>
    public static async Task<CrashRun> RunUninterruptedAsync(IReadOnlyList<string> arguments, string folder)
    {
        var incarnation = await RunToEndAsync(arguments, folder, 0);
        return new CrashRun(folder, 0, [incarnation]);
    }

    /// <summary>
    /// Runs the worker, killing it 3 to 5 times (chosen by <paramref name="seed"/>), then lets the last process run to
    /// its end. The kills are spread over the input: the records not yet read, up to 90% of them all, are shared among
    /// the kills still to come; each kill has a random target in the first half of its share, that the source must
    /// have delivered (the read log shows it), then waits for one of these conditions and a random delay: nothing
    /// more (anywhere between two checkpoints), the next saved checkpoint (right after a save), the next result file
    /// written (in the middle of writing results), the next object in the lake (between the sinks' flush and the
    /// checkpoint that covers it), or, ignoring the target, only that the process started (during start-up, restore
    /// and replay, often before it saves anything). A condition that has not come by the end of the kill's share (a
    /// loaded machine writes and saves less often) kills there, so that every planned kill lands before the input
    /// ends, whatever the machine's pace.
    /// </summary>
    /// <param name="arguments">The worker's arguments (without <c>--out</c> and <c>--incarnation</c>).</param>
    /// <param name="folder">The output folder.</param>
    /// <param name="seed">The seed of the kill schedule.</param>
    /// <param name="totalRecords">The number of records the source delivers in all (for the targets).</param>
    /// <param name="lake">Whether the worker writes a lake: then one kill, and half the others, wait for a new object in it.</param>
    /// <returns>The run.</returns>
    public static async Task<CrashRun> RunWithKillsAsync(IReadOnlyList<string> arguments, string folder, int seed, int totalRecords, bool lake = false)
    {
        var random = new Random(seed);
        int planned = random.Next(3, 6);
        int lastKill = (int)(totalRecords * 0.9);
        int lakeKill = lake ? random.Next(planned) : -1;
        var progress = new ReadProgress(Path.Combine(folder, CrashFiles.ReadLog));
        var incarnations = new List<Incarnation>();
        for (int number = 0; number < planned; number++)
        {
            string condition = number == lakeKill ? "lake" : random.Next(lake ? 12 : 6) switch
            {
                0 => "started",
                1 => "reads",
                2 or 3 => "results",
                4 or 5 => "checkpoint",
                _ => "lake",
            };
            int delay = condition switch
            {
                "started" => random.Next(0, 601),
                "lake" => random.Next(0, 61),
                _ => random.Next(0, 151),
            };
            int read = progress.Poll();
            int share = Math.Max(1, (lastKill - read) / (planned - number));
            var span = (Target: read + (int)(share * (0.1 + (random.NextDouble() * 0.4))), Deadline: read + share);
            var restored = await LoadCheckpointAsync(folder);
            var clock = Stopwatch.StartNew();
            await using var worker = WorkerProcess.Start(Arguments(arguments, folder, number));
            string description = await WaitForAsync(worker, condition, span, progress, folder);
            if (!worker.HasExited)
            {
                await Task.Delay(delay);
            }

            if (worker.HasExited)
            {
                // It finished before the kill: the run is over.
                int code = await worker.WaitForExitAsync(ExitTimeout);
                EnsureSuccess(worker, code, folder);
                incarnations.Add(new Incarnation(number, restored, null, 0, code, worker.Lines, clock.Elapsed));
                return new CrashRun(folder, seed, incarnations);
            }

            await worker.KillAsync();
            incarnations.Add(new Incarnation(number, restored, description, delay, null, worker.Lines, clock.Elapsed, CountObjects(folder, newerThanCheckpoint: true)));
        }

        incarnations.Add(await RunToEndAsync(arguments, folder, planned));
        return new CrashRun(folder, seed, incarnations);
    }

    private static async Task<Incarnation> RunToEndAsync(IReadOnlyList<string> arguments, string folder, int number)
    {
        var restored = await LoadCheckpointAsync(folder);
        var clock = Stopwatch.StartNew();
        await using var worker = WorkerProcess.Start(Arguments(arguments, folder, number));
        int code = await worker.WaitForExitAsync(ExitTimeout);
        EnsureSuccess(worker, code, folder);
        return new Incarnation(number, restored, null, 0, code, worker.Lines, clock.Elapsed);
    }

    /// <summary>Waits until the kill condition holds (or the process exits) and describes it.</summary>
    private static async Task<string> WaitForAsync(WorkerProcess worker, string condition, (int Target, int Deadline) span, ReadProgress progress, string folder)
    {
        if (await worker.WaitForLineAsync(CrashFiles.StartedLine, ConditionTimeout) is null || condition == "started")
        {
            return "started";
        }

        var clock = Stopwatch.StartNew();
        while (!worker.HasExited && progress.Poll() < span.Target)
        {
            await Pause(worker, condition, folder, clock);
        }

        int reached = progress.Poll();
        long checkpoint = (await LoadCheckpointAsync(folder))?.Id ?? 0;
        var results = Path.Combine(folder, CrashFiles.Results);
        var written = LastWrite(results);
        int objects = CountObjects(folder);
        bool overdue = false;
        while (!worker.HasExited)
        {
            bool met = condition switch
            {
                "checkpoint" => (await LoadCheckpointAsync(folder))?.Id > checkpoint,
                "results" => LastWrite(results) > written,
                "lake" => CountObjects(folder) > objects,
                _ => true,
            };
            overdue = !met && progress.Poll() >= span.Deadline;
            if (met || overdue)
            {
                break;
            }

            await Pause(worker, condition, folder, clock);
        }

        string next = condition switch
        {
            "reads" => "at once",
            "checkpoint" => "the next checkpoint",
            "lake" => "the next lake object",
            _ => "the next result write",
        };
        return overdue
            ? string.Create(CultureInfo.InvariantCulture, $"{reached} of the records read, then {next}, which had not come by {span.Deadline} read")
            : string.Create(CultureInfo.InvariantCulture, $"{reached} of the records read, then {next}");
    }

    private static async Task Pause(WorkerProcess worker, string condition, string folder, Stopwatch clock)
    {
        if (clock.Elapsed > ConditionTimeout)
        {
            throw new TimeoutException($"The worker in {folder} did not reach '{condition}' within {ConditionTimeout}. Output:\n{string.Join('\n', worker.Lines)}\n{worker.Errors}");
        }

        await Task.Delay(10);
    }

    /// <summary>Reads the checkpoint the worker of <paramref name="folder"/> resumes from, as it will.</summary>
    /// <param name="folder">The output folder.</param>
    /// <returns>The checkpoint, or <see langword="null"/>.</returns>
    public static async Task<PipelineCheckpoint?> LoadCheckpointAsync(string folder)
    {
        using var store = new FileCheckpointStore(Path.Combine(folder, CrashFiles.Checkpoints));
        return await store.LoadAsync(CrashFiles.PipelineName, CancellationToken.None);
    }

    private static int CountObjects(string folder, bool newerThanCheckpoint = false)
    {
        string lake = Path.Combine(folder, CrashFiles.Lake);
        if (!Directory.Exists(lake))
        {
            return 0;
        }

        string checkpoint = Path.Combine(folder, CrashFiles.Checkpoints, CrashFiles.PipelineName + ".checkpoint");
        var saved = newerThanCheckpoint && File.Exists(checkpoint) ? File.GetLastWriteTimeUtc(checkpoint) : DateTime.MinValue;
        return Directory.GetFiles(lake, "*.parquet", SearchOption.AllDirectories)
            .Count(f => !Path.GetFileName(f).StartsWith('.') && File.GetLastWriteTimeUtc(f) > saved);
    }

    private static DateTime LastWrite(string folder)
    {
        var last = DateTime.MinValue;
        foreach (string file in CrashFiles.ListFiles(folder))
        {
            try
            {
                var written = File.GetLastWriteTimeUtc(file);
                last = written > last ? written : last;
            }
            catch (IOException)
            {
                // Replaced while listing: the next poll sees the new file.
            }
        }

        return last;
    }

    /// <summary>Counts the distinct records in the read log, reading only what was appended since the last call.</summary>
    private sealed class ReadProgress(string path)
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
        private long _offset;

        public int Poll()
        {
            if (!File.Exists(path))
            {
                return _seen.Count;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Position = _offset;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string rest = reader.ReadToEnd();
            int complete = rest.LastIndexOf('\n');
            if (complete < 0)
            {
                return _seen.Count;
            }

            _offset += Encoding.UTF8.GetByteCount(rest.AsSpan(0, complete + 1));
            foreach (string line in rest[..complete].Split('\n'))
            {
                string[] parts = line.Split('\t');
                if (parts.Length == 3)
                {
                    foreach (string position in parts[2].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        _seen.Add(parts[1] + "/" + position);
                    }
                }
            }

            return _seen.Count;
        }
    }

    private static string[] Arguments(IReadOnlyList<string> arguments, string folder, int incarnation)
        => [.. arguments, "--out", folder, "--incarnation", incarnation.ToString(CultureInfo.InvariantCulture)];

    private static void EnsureSuccess(WorkerProcess worker, int code, string folder)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"The worker in {folder} exited with {code}. Output:\n{string.Join('\n', worker.Lines)}\nErrors:\n{worker.Errors}");
        }
    }
}
