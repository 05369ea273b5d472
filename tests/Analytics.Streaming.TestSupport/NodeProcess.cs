using System.Collections.Concurrent;
using System.Diagnostics;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// A Node.js process started by the test suite (an emulator, or a reader answering requests line by line), stopped
/// by its own process id when disposed. The last output lines are kept for diagnostics.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private const int KeptLines = 200;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _readyMarker;
    private readonly Action<string>? _onOutputLine;

    private NodeProcess(Process process, string readyMarker, Action<string>? onOutputLine)
    {
        _process = process;
        _readyMarker = readyMarker;
        _onOutputLine = onOutputLine;
    }

    /// <summary>Gets the process id.</summary>
    public int Id => _process.Id;

    /// <summary>Gets the last standard output and error lines (at most 200), for diagnostics.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Starts <c>node</c> with <paramref name="arguments"/> in tests/peers and waits until a line of its standard
    /// output contains <paramref name="readyMarker"/>.
    /// </summary>
    /// <param name="arguments">Arguments for node, such as a script path and its options.</param>
    /// <param name="readyMarker">Text the process prints when it is ready.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="timeout">How long to wait for readiness; 30 seconds when <see langword="null"/>.</param>
    /// <param name="onOutputLine">Receives every standard output line after the ready line (request/response scripts).</param>
    /// <param name="onExit">Called if the process exits (for example to fail requests still waiting for an answer).</param>
    /// <returns>The ready process.</returns>
    public static async Task<NodeProcess> StartAsync(
        IEnumerable<string> arguments,
        string readyMarker,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        Action<string>? onOutputLine = null,
        Action? onExit = null)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = TestPeers.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(process, readyMarker, onOutputLine);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data, fromStandardOutput: true);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data, fromStandardOutput: false);
        process.Exited += (_, _) =>
        {
            node._ready.TrySetException(new InvalidOperationException($"node {string.Join(' ', info.ArgumentList)} exited before it was ready:\n{node.Output}"));
            onExit?.Invoke();
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var wait = timeout ?? TimeSpan.FromSeconds(30);
        if (await Task.WhenAny(node._ready.Task, Task.Delay(wait)).ConfigureAwait(false) != node._ready.Task)
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"node {string.Join(' ', info.ArgumentList)} was not ready within {wait}:\n{node.Output}");
        }

        await node._ready.Task.ConfigureAwait(false);
        return node;
    }

    /// <summary>Writes a line to the process's standard input (for request/response helper scripts).</summary>
    /// <param name="line">The line.</param>
    /// <returns>A task that completes when the line is written.</returns>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the process (and only it and its children) by id: a polite signal, then a hard kill after a short grace.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (OperationCanceledException)
        {
            // The kill was sent; nothing more can be done from here.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnLine(string? line, bool fromStandardOutput)
    {
        if (line is null)
        {
            return;
        }

        if (fromStandardOutput && _ready.Task.IsCompletedSuccessfully && _onOutputLine is not null)
        {
            _onOutputLine(line);
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptLines)
        {
            _output.TryDequeue(out _);
        }

        if (line.Contains(_readyMarker, StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}
