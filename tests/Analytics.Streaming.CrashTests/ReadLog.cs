using System.Globalization;
using System.Text;

namespace Analytics.Streaming.CrashTests;

/// <summary>What one restarted process read again, from the read log and the checkpoint it restored.</summary>
/// <param name="Incarnation">The process.</param>
/// <param name="RestoredId">The checkpoint it resumed from.</param>
/// <param name="Read">Records (and dead letters) its source delivered.</param>
/// <param name="Reread">Of those, records an earlier process had delivered already.</param>
/// <param name="Replays">Of those, records the restored checkpoint covered (processed before it was taken): read again only to rebuild windows.</param>
/// <param name="Redone">Of those, records processed after the checkpoint by a killed process: work lost with it and done again.</param>
/// <param name="AtOrBeforeResume">Records read again at or before the partition's resume position: the source must never deliver them.</param>
/// <param name="LibraryReplayed">The pipeline's own <c>RecordsReplayed</c> as the process last printed it (complete only for a process that exited).</param>
/// <param name="WithWindowState">Whether the restored checkpoint carried the open windows (then nothing it covers is read again).</param>
/// <param name="PreviousSaved">The last checkpoint the process before it reported saved: the restart must resume from it or a later one.</param>
internal sealed record RestartReads(int Incarnation, long RestoredId, int Read, int Reread, int Replays, int Redone, int AtOrBeforeResume, long LibraryReplayed, bool WithWindowState, long PreviousSaved)
{
    /// <inheritdoc />
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"#{Incarnation} from checkpoint {RestoredId} (last saved before: {PreviousSaved}): read {Read}, read again {Reread} = {Replays} replays (library counted {LibraryReplayed}) + {Redone} redone after the checkpoint");
}

/// <summary>
/// Reads the log the worker's source appends to (one line per delivered batch: incarnation, partition, positions) and
/// works out, for every restart, how much was read again and why.
/// </summary>
internal static class ReadLog
{
    /// <summary>Analyses a killed run's read log.</summary>
    /// <param name="run">The run.</param>
    /// <returns>One entry per restarted process.</returns>
    public static IReadOnlyList<RestartReads> Analyze(CrashRun run)
    {
        var byIncarnation = new Dictionary<int, List<StreamPosition>>();
        foreach (string line in File.ReadAllLines(Path.Combine(run.Folder, CrashFiles.ReadLog)))
        {
            string[] parts = line.Split('\t');
            if (parts.Length != 3)
            {
                continue; // A line cut short by the kill.
            }

            int incarnation = int.Parse(parts[0], CultureInfo.InvariantCulture);
            if (!byIncarnation.TryGetValue(incarnation, out var positions))
            {
                byIncarnation[incarnation] = positions = [];
            }

            foreach (string position in parts[2].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int slash = position.IndexOf('/', StringComparison.Ordinal);
                positions.Add(slash < 0
                    ? new StreamPosition(parts[1], SequenceNumber.Parse(position))
                    : new StreamPosition(parts[1], SequenceNumber.Parse(position[..slash]), long.Parse(position[(slash + 1)..], CultureInfo.InvariantCulture)));
            }
        }

        var seen = new HashSet<StreamPosition>();
        var restarts = new List<RestartReads>();
        long previousSaved = 0;
        foreach (var incarnation in run.Incarnations)
        {
            var positions = byIncarnation.GetValueOrDefault(incarnation.Number) ?? [];
            int reread = 0;
            int replays = 0;
            int beforeResume = 0;
            foreach (var position in positions)
            {
                if (!seen.Contains(position))
                {
                    continue;
                }

                reread++;
                var partition = incarnation.Restored?.FindPartition(position.PartitionId);
                if (partition?.ProcessedThrough is { } processed && position <= processed)
                {
                    replays++;
                }

                if (partition?.ResumeAfter is { } resume && position <= resume)
                {
                    beforeResume++;
                }
            }

            seen.UnionWith(positions);
            if (incarnation.Number > 0)
            {
                restarts.Add(new RestartReads(incarnation.Number, incarnation.Restored?.Id ?? 0, positions.Count, reread, replays, reread - replays, beforeResume, incarnation.Statistic("replayed"), incarnation.Restored?.HasWindowState == true, previousSaved));
            }

            previousSaved = Math.Max(previousSaved, incarnation.LastSavedCheckpoint);
        }

        return restarts;
    }

    /// <summary>Describes the restarts, one per line.</summary>
    /// <param name="restarts">The restarts.</param>
    /// <returns>The text.</returns>
    public static string Describe(IEnumerable<RestartReads> restarts)
    {
        var text = new StringBuilder();
        foreach (var restart in restarts)
        {
            text.Append("  ").Append(restart).Append('\n');
        }

        return text.ToString();
    }
}
