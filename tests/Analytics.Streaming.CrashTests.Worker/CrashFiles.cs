using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Analytics.Streaming.CrashTests;

// This file is compiled into the worker and linked into the crash tests: both sides agree on the folder layout and
// the file formats through it.

/// <summary>The event both worker modes aggregate: a key, an event time in Unix milliseconds and a value.</summary>
/// <param name="Key">The key; <see langword="null"/> sends the record to the dead letters.</param>
/// <param name="Ts">The event time in Unix milliseconds; 0 (the epoch) is rejected as an invalid time.</param>
/// <param name="Value">The value summed per window.</param>
internal readonly record struct SensorEvent(string? Key, long Ts, int Value);

/// <summary>One result file: the latest version of a window result, stored under its identity.</summary>
/// <param name="Id">The result identity (<see cref="WindowResult{TKey, TValue}.Id"/>).</param>
/// <param name="Key">The key.</param>
/// <param name="StartMs">The window start in Unix milliseconds.</param>
/// <param name="EndMs">The window end in Unix milliseconds.</param>
/// <param name="Count">The number of events.</param>
/// <param name="Sum">The sum of their values.</param>
/// <param name="RecordCount">The result's version (<see cref="WindowResult{TKey, TValue}.RecordCount"/>).</param>
/// <param name="Reason">Why it was emitted.</param>
internal sealed record ResultFile(string Id, string Key, long StartMs, long EndMs, long Count, long Sum, long RecordCount, string Reason);

/// <summary>One late-record file, stored under the record's position.</summary>
/// <param name="Position">The record's position.</param>
/// <param name="Key">The event's key.</param>
/// <param name="Ts">The event time in Unix milliseconds.</param>
/// <param name="Value">The event's value.</param>
/// <param name="WatermarkMs">The watermark when it arrived, in Unix milliseconds.</param>
internal sealed record LateFile(string Position, string? Key, long Ts, int Value, long WatermarkMs);

/// <summary>One dead-letter file, stored under the record's position.</summary>
/// <param name="Position">The record's position.</param>
/// <param name="Reason">The reason.</param>
/// <param name="Message">The message.</param>
/// <param name="Payload">The raw bytes in base64, when the record had them.</param>
internal sealed record DeadFile(string Position, string Reason, string Message, string? Payload);

/// <summary>Source-generated JSON metadata for the events and the files.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SensorEvent))]
[JsonSerializable(typeof(ResultFile))]
[JsonSerializable(typeof(LateFile))]
[JsonSerializable(typeof(DeadFile))]
internal sealed partial class CrashJson : JsonSerializerContext;

/// <summary>The layout of a worker's output folder and the lines it prints.</summary>
internal static class CrashFiles
{
    /// <summary>The pipeline name (part of every result identity and the checkpoint file name).</summary>
    public const string PipelineName = "crash";

    /// <summary>The folder of the <see cref="FileCheckpointStore"/>.</summary>
    public const string Checkpoints = "checkpoints";

    /// <summary>The folder of the result files (one per identity).</summary>
    public const string Results = "results";

    /// <summary>The folder of the late-record files (one per position).</summary>
    public const string Late = "late";

    /// <summary>The folder of the dead-letter files (one per position).</summary>
    public const string Dead = "dead";

    /// <summary>The folder the S3 sink writes to (Kinesis mode).</summary>
    public const string Lake = "lake";

    /// <summary>The log of every batch the source delivered, one line per batch, appended by every incarnation.</summary>
    public const string ReadLog = "reads.log";

    /// <summary>The prefix of the line the worker prints after each saved checkpoint.</summary>
    public const string CheckpointLine = "checkpoint ";

    /// <summary>The prefix of the line the worker prints when it stops normally.</summary>
    public const string DoneLine = "done ";

    /// <summary>The prefix of the line the worker prints once the pipeline runs.</summary>
    public const string StartedLine = "started ";

    /// <summary>Turns an identity or a position into a file name (letters, digits, '-' and '_' kept; anything else as %XXXX).</summary>
    /// <param name="text">The identity or position.</param>
    /// <returns>The file name, with the .json extension.</returns>
    public static string FileNameFor(string text)
    {
        var name = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            {
                name.Append(c);
            }
            else
            {
                name.Append('%').Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        return name.Append(".json").ToString();
    }

    /// <summary>Lists the finished files of a folder (temporary files start with a dot and are skipped).</summary>
    /// <param name="folder">The folder.</param>
    /// <returns>The full paths, in ordinal order.</returns>
    public static string[] ListFiles(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var files = Directory.GetFiles(folder, "*.json").Where(f => !Path.GetFileName(f).StartsWith('.')).ToArray();
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>Parses a <c>key=value</c> line the worker printed (after its prefix).</summary>
    /// <param name="line">The line.</param>
    /// <returns>The values by key.</returns>
    public static Dictionary<string, string> ParseLine(string line)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[part[..equals]] = part[(equals + 1)..];
            }
        }

        return values;
    }
}
