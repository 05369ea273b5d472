using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private NodeProcess _process = null!;
    private long _nextId;

    private DuckDbQuery()
    {
    }

    public static async Task<DuckDbQuery> StartAsync()
    {
        var query = new DuckDbQuery();
        query._process = await NodeProcess.StartAsync(["s3-duckdb-query.js"], "duckdb ready", onOutputLine: query.OnLine, onExit: query.FailPending).ConfigureAwait(false);
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
            await _process.WriteLineAsync(new JsonObject { ["id"] = id, ["sql"] = sql }.ToJsonString());
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
        await _process.DisposeAsync();
        _writeGate.Dispose();
    }

    private void FailPending()
    {
        var failure = new InvalidOperationException("The DuckDB query process exited: " + _process?.Output);
        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(failure);
        }
    }

    private void OnLine(string line)
    {
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
