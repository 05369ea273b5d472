using System.Diagnostics;

namespace Analytics.Streaming.TestSupport;

/// <summary>Runs a one-shot Node.js script in tests/peers (a checker, a cross-check) and returns its exit code and output.</summary>
public static class NodeScript
{
    /// <summary>Runs <c>node script args...</c> in tests/peers, writes <paramref name="standardInput"/> to it, and waits for it to exit.</summary>
    /// <param name="script">The script, relative to tests/peers.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="standardInput">Text for its standard input, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Kills the process (by its id) when cancelled.</param>
    /// <returns>The exit code, standard output and standard error.</returns>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string script, IEnumerable<string> arguments, string? standardInput, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = TestPeers.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(TestPeers.PathOf(script));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }
}
