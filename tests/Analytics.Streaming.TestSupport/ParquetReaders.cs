using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// The two independent Parquet readers (DuckDB from <c>@duckdb/node-api</c> and hyparquet) in one long-lived node
/// process (tests/peers/parquet-readers.js): a reader start costs about half a second, a file read a few
/// milliseconds. Start it once per test run and share it; requests are answered one at a time, in order.
/// </summary>
public sealed class ParquetReaders : IAsyncDisposable
{
    private readonly Process _process;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<string>> _pending = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextId;

    private ParquetReaders(Process process) => _process = process;

    /// <summary>Starts the reader process in tests/peers and waits until it is ready.</summary>
    /// <returns>The ready readers.</returns>
    public static async Task<ParquetReaders> StartAsync()
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = TestPeers.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("parquet-readers.js");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var readers = new ParquetReaders(process);
        process.OutputDataReceived += (_, e) => readers.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                readers._errors.Enqueue(e.Data);
            }
        };
        process.Exited += (_, _) => readers._ready.TrySetException(new InvalidOperationException("parquet-readers.js exited before it was ready:\n" + string.Join('\n', readers._errors)));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (await Task.WhenAny(readers._ready.Task, Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false) != readers._ready.Task)
        {
            await readers.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException("parquet-readers.js was not ready within 30 s:\n" + string.Join('\n', readers._errors));
        }

        await readers._ready.Task.ConfigureAwait(false);
        return readers;
    }

    /// <summary>Reads a file with both readers.</summary>
    /// <param name="path">The absolute path of the Parquet file.</param>
    /// <param name="timeout">How long to wait; 60 seconds when <see langword="null"/>.</param>
    /// <returns>The answer: <c>duckdb</c> and <c>hyparquet</c> objects (or <c>duckdbError</c> / <c>hyparquetError</c>).</returns>
    public async Task<JsonElement> ReadAsync(string path, TimeSpan? timeout = null)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            int id = Interlocked.Increment(ref _nextId);
            var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = answer;
            await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { id, file = path })).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
            var wait = timeout ?? TimeSpan.FromSeconds(60);
            if (await Task.WhenAny(answer.Task, Task.Delay(wait)).ConfigureAwait(false) != answer.Task)
            {
                _pending.TryRemove(id, out _);
                throw new TimeoutException($"The Parquet readers did not answer within {wait} for {path}:\n{string.Join('\n', _errors)}");
            }

            using var document = JsonDocument.Parse(await answer.Task.ConfigureAwait(false));
            return document.RootElement.Clone();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the reader process (only it, by its id).</summary>
    /// <returns>A task that completes when it has exited.</returns>
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
            // The kill was sent.
        }
        finally
        {
            _process.Dispose();
            _gate.Dispose();
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains("parquet readers ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
            return;
        }

        if (!line.StartsWith('{'))
        {
            _errors.Enqueue(line);
            return;
        }

        int id;
        using (var document = JsonDocument.Parse(line))
        {
            id = document.RootElement.TryGetProperty("id", out var element) && element.ValueKind == JsonValueKind.Number ? element.GetInt32() : -1;
        }

        if (_pending.TryRemove(id, out var waiter))
        {
            waiter.TrySetResult(line);
        }
    }
}
