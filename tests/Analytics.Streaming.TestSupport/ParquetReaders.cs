using System.Collections.Concurrent;
using System.Text.Json;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// The two independent Parquet readers (DuckDB from <c>@duckdb/node-api</c> and hyparquet) in one long-lived node
/// process (tests/peers/parquet-readers.js): a reader start costs about half a second, a file read a few
/// milliseconds. Start it once per test run and share it; requests are answered one at a time, in order.
/// </summary>
public sealed class ParquetReaders : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<string>> _pending = new();
    private NodeProcess _process = null!;
    private int _nextId;

    private ParquetReaders()
    {
    }

    /// <summary>Starts the reader process in tests/peers and waits until it is ready.</summary>
    /// <returns>The ready readers.</returns>
    public static async Task<ParquetReaders> StartAsync()
    {
        var readers = new ParquetReaders();
        readers._process = await NodeProcess.StartAsync(["parquet-readers.js"], "parquet readers ready", onOutputLine: readers.OnAnswer).ConfigureAwait(false);
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
            await _process.WriteLineAsync(JsonSerializer.Serialize(new { id, file = path })).ConfigureAwait(false);
            var wait = timeout ?? TimeSpan.FromSeconds(60);
            if (await Task.WhenAny(answer.Task, Task.Delay(wait)).ConfigureAwait(false) != answer.Task)
            {
                _pending.TryRemove(id, out _);
                throw new TimeoutException($"The Parquet readers did not answer within {wait} for {path}:\n{_process.Output}");
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
        await _process.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    private void OnAnswer(string line)
    {
        if (!line.StartsWith('{'))
        {
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
