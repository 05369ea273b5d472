using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Analytics.Streaming.S3;

/// <summary>
/// Runs store requests under the sink's <see cref="RetryOptions"/> through the shared retry pipeline: what the store
/// calls transient (<see cref="IObjectStore.IsTransient"/>) and client timeouts are retried, anything else surfaces at
/// once; every retry is counted and logged.
/// </summary>
internal sealed class Retrier
{
    private readonly ResiliencePipeline _pipeline;
    private readonly IObjectStore _store;
    private readonly ILogger _log;
    private readonly string _table;
    private long _retries;

    public Retrier(RetryOptions options, IObjectStore store, TimeProvider timeProvider, ILogger log, string table)
    {
        _store = store;
        _log = log;
        _table = table;

        // An OperationCanceledException the caller did not ask for is a client timeout (the pipeline never retries the caller's cancellation).
        _pipeline = RetryPipelineFactory.Create(options, timeProvider, e => store.IsTransient(e) || e is OperationCanceledException, OnRetry);
    }

    /// <summary>Gets the number of retries made so far (for telemetry and tests). Thread safe.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Runs <paramref name="action"/> until it succeeds, fails for good, or the budget is spent; the content stream (if any) is rewound before every attempt.</summary>
    public async Task RunAsync<TState>(Func<TState, CancellationToken, Task> action, TState state, Stream? content, CancellationToken cancellationToken)
    {
        await _pipeline.ExecuteAsync(
            static async (s, ct) =>
            {
                if (s.Content is not null)
                {
                    s.Content.Position = 0;
                }

                await s.Action(s.State, ct).ConfigureAwait(false);
            },
            (Action: action, State: state, Content: content),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists the store's keys under a prefix, retrying.</summary>
    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> keys = [];
        await RunAsync(
            async (state, ct) => keys = await state.Store.ListKeysAsync(state.Prefix, ct).ConfigureAwait(false),
            (Store: _store, Prefix: prefix),
            null,
            cancellationToken).ConfigureAwait(false);
        return keys;
    }

    /// <summary>Reads an object, retrying; <see langword="null"/> when it does not exist.</summary>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        byte[]? content = null;
        await RunAsync(
            async (state, ct) => content = await state.Store.GetObjectAsync(state.Key, ct).ConfigureAwait(false),
            (Store: _store, Key: key),
            null,
            cancellationToken).ConfigureAwait(false);
        return content;
    }

    /// <summary>Deletes an object (a missing one is fine), retrying.</summary>
    public Task DeleteAsync(string key, CancellationToken cancellationToken)
        => RunAsync(static (state, ct) => state.Store.DeleteObjectAsync(state.Key, ct), (Store: _store, Key: key), null, cancellationToken);

    private void OnRetry(RetryNotice<object> notice)
    {
        Interlocked.Increment(ref _retries);
        S3Telemetry.Retries.Add(1, new KeyValuePair<string, object?>("table", _table));
        if (notice.Outcome.Exception is { } exception)
        {
            S3Log.RequestRetrying(_log, _table, exception.GetType().Name, notice.FailedAttempt, notice.Delay, exception);
        }
    }
}
