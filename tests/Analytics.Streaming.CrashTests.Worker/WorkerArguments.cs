using System.Globalization;

namespace Analytics.Streaming.CrashTests;

/// <summary>The worker's command line: a mode, then <c>--name value</c> pairs.</summary>
internal sealed class WorkerArguments
{
    private readonly Dictionary<string, string> _values;

    private WorkerArguments(string mode, Dictionary<string, string> values)
    {
        Mode = mode;
        _values = values;
    }

    /// <summary>Gets the mode: <c>deterministic</c> or <c>kinesis</c>.</summary>
    public string Mode { get; }

    /// <summary>Parses the command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The parsed arguments.</returns>
    /// <exception cref="ArgumentException">The command line is malformed.</exception>
    public static WorkerArguments Parse(string[] args)
    {
        if (args.Length == 0 || args.Length % 2 == 0)
        {
            throw new ArgumentException(
                "usage: worker deterministic --out DIR [--window tumbling|sliding] [--emit on-close|on-update] [--state auto|always|never] [--pace-ms N] [--seed N] [--incarnation N]\n" +
                "       worker kinesis --out DIR --endpoint URL --stream NAME --end-ms N [--records-per-call N] [--save-delay-ms N] [--incarnation N] [--timeout-s N]");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Expected an option (--name), got '{args[i]}'.");
            }

            values[args[i][2..]] = args[i + 1];
        }

        return new WorkerArguments(args[0], values);
    }

    /// <summary>Gets a required text option.</summary>
    /// <param name="name">The option name without dashes.</param>
    /// <returns>The value.</returns>
    public string Text(string name) => _values.TryGetValue(name, out string? value) ? value : throw new ArgumentException($"--{name} is required.");

    /// <summary>Gets a text option or its default.</summary>
    /// <param name="name">The option name without dashes.</param>
    /// <param name="fallback">The default.</param>
    /// <returns>The value.</returns>
    public string Text(string name, string fallback) => _values.TryGetValue(name, out string? value) ? value : fallback;

    /// <summary>Gets a whole-number option or its default.</summary>
    /// <param name="name">The option name without dashes.</param>
    /// <param name="fallback">The default; <see langword="null"/> makes the option required.</param>
    /// <returns>The value.</returns>
    public long Number(string name, long? fallback = null)
        => _values.TryGetValue(name, out string? value) ? long.Parse(value, CultureInfo.InvariantCulture)
            : fallback ?? throw new ArgumentException($"--{name} is required.");
}
