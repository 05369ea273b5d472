using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>
/// One DuckDB process (tests/peers/s3-duckdb-query.js) answering SQL one line at a time, so many checks share one
/// start-up. Stopped by its own process id.
/// </summary>
public sealed class DuckDbQuery : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ConcurrentQueue<string> _stderr = new();
    private long _nextId;

    private DuckDbQuery(Process process) => _process = process;

    public static async Task<DuckDbQuery> StartAsync()
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = TestPeers.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("s3-duckdb-query.js");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var query = new DuckDbQuery(process);
        process.OutputDataReceived += (_, e) => query.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                query._stderr.Enqueue(e.Data);
            }
        };
        process.Exited += (_, _) =>
        {
            var failure = new InvalidOperationException("The DuckDB query process exited: " + string.Join('\n', query._stderr));
            query._ready.TrySetException(failure);
            foreach (var pending in query._pending.Values)
            {
                pending.TrySetException(failure);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await query._ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return query;
    }

    /// <summary>Runs a query and returns its rows as JSON objects (BIGINT and DECIMAL values come as strings).</summary>
    public async Task<List<JsonObject>> QueryAsync(string sql)
    {
        long id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        await _writeGate.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(new JsonObject { ["id"] = id, ["sql"] = sql }.ToJsonString());
            await _process.StandardInput.FlushAsync();
        }
        finally
        {
            _writeGate.Release();
        }

        var result = await answer.Task.WaitAsync(TimeSpan.FromSeconds(60));
        if (result["error"] is { } error)
        {
            throw new InvalidOperationException($"DuckDB failed on: {sql}\n{error}");
        }

        return [.. result["rows"]!.AsArray().Select(r => r!.AsObject())];
    }

    /// <summary>Runs a query that returns one value.</summary>
    public async Task<string?> ScalarAsync(string sql)
    {
        var rows = await QueryAsync(sql);
        return rows.Single().First().Value?.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(grace.Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _process.Dispose();
            _writeGate.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.StartsWith("duckdb ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
            return;
        }

        if (!line.StartsWith('{'))
        {
            return;
        }

        var message = JsonNode.Parse(line)!.AsObject();
        if (message["id"]?.GetValue<long>() is { } id && _pending.TryRemove(id, out var pending))
        {
            pending.TrySetResult(message);
        }
    }
}
