using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// One run of the crash-test worker (<c>dotnet Analytics.Streaming.CrashTests.Worker.dll ...</c>): its standard output
/// lines as they come, a way to wait for a line, and a hard kill of the whole process tree.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private WorkerProcess(Process process) => _process = process;

    /// <summary>Gets the path of the worker's assembly, embedded at build time.</summary>
    public static string WorkerPath { get; } = typeof(WorkerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CrashWorkerPath").Value!;

    /// <summary>Gets the standard output lines so far.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Gets the standard error so far.</summary>
    public string Errors => string.Join('\n', _errors);

    /// <summary>Gets a value indicating whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the exit code (after exit).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the worker with <paramref name="arguments"/>.</summary>
    /// <param name="arguments">The worker's command line.</param>
    /// <returns>The running worker.</returns>
    public static WorkerProcess Start(IEnumerable<string> arguments)
    {
        if (!File.Exists(WorkerPath))
        {
            throw new InvalidOperationException($"The crash-test worker is not built at {WorkerPath}.");
        }

        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(WorkerPath);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker._lines.Enqueue(e.Data);
                worker._lineArrived.Release();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker._errors.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits until a line starting with <paramref name="prefix"/> arrives or the process exits.</summary>
    /// <param name="prefix">The line's prefix.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The line, or <see langword="null"/> when the process exited first.</returns>
    public async Task<string?> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            if (_process.HasExited)
            {
                // Standard output may still be draining after the exit.
                await _process.WaitForExitAsync();
                return _lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The worker printed no '{prefix}' line within {timeout}. Output:\n{string.Join('\n', _lines)}\n{Errors}");
            }

            await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>Kills the worker and every process it started, at once, and waits until it is gone.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited on its own just before.
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the worker to exit.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="TimeoutException">It was still running; it is killed.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException($"The worker did not exit within {timeout}. Output:\n{string.Join('\n', _lines)}\n{Errors}");
        }

        return _process.ExitCode;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }
}
