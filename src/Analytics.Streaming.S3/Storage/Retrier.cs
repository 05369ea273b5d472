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
    private readonly ILogger _log;
    private readonly string _table;
    private long _retries;

    public Retrier(RetryOptions options, IObjectStore store, TimeProvider timeProvider, ILogger log, string table)
    {
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
