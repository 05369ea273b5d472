namespace Analytics.Streaming.S3;

/// <summary>How the sink retries a store request that failed transiently: exponential backoff with full jitter, bounded by attempts and by time.</summary>
/// <remarks>
/// <para>
/// Only failures the store calls transient (<see cref="IObjectStore.IsTransient"/>: throttling, 5xx, timeouts,
/// dropped connections) are retried; any other failure is thrown at once. The AWS SDK client retries on its own
/// too (its <c>MaxErrorRetry</c>); these retries come on top, so the two multiply.
/// </para>
/// <para>
/// The delay before retry <c>n</c> is a uniformly random time between zero and
/// <c>min(MaxDelay, BaseDelay x 2^(n-1))</c> (full jitter), waited on the sink's <see cref="TimeProvider"/>, and is
/// cut short so that no attempt starts later than <see cref="MaxElapsed"/> after the first. With the defaults the
/// sink rides out an outage of a minute and more: the 39 delays between 40 attempts add up to almost 3 minutes on
/// average, and to less than 60 seconds with a probability below one in a billion, so <see cref="MaxElapsed"/>
/// (2 minutes) is the limit that normally ends the retries.
/// </para>
/// </remarks>
public sealed class RetryOptions
{
    /// <summary>Gets or sets the most attempts per request, the first included. Default 40; at least 1 (1 = no retries).</summary>
    public int MaxAttempts { get; set; } = 40;

    /// <summary>Gets or sets the delay cap of the first retry; the cap doubles for each later one. Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the largest delay between two attempts. Default 10 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the time after which no new attempt starts, measured from the first. Default 2 minutes.</summary>
    public TimeSpan MaxElapsed { get; set; } = TimeSpan.FromMinutes(2);

    internal void Validate(string owner)
    {
        if (MaxAttempts < 1)
        {
            throw OptionErrors.Invalid($"{owner}.MaxAttempts is {MaxAttempts}: set it to 1 (no retries) or more.");
        }

        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            throw OptionErrors.Invalid($"{owner}.BaseDelay ({BaseDelay}) must not be negative and MaxDelay ({MaxDelay}) must be at least BaseDelay.");
        }

        if (MaxElapsed <= TimeSpan.Zero)
        {
            throw OptionErrors.Invalid($"{owner}.MaxElapsed ({MaxElapsed}) must be positive.");
        }
    }
}

/// <summary>Runs store requests under <see cref="RetryOptions"/>.</summary>
internal sealed class Retrier(RetryOptions options, IObjectStore store, TimeProvider timeProvider)
{
    private long _retries;

    /// <summary>Gets the number of retries made so far (for telemetry and tests). Thread safe.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Runs <paramref name="action"/> until it succeeds, fails for good, or the budget is spent; the content stream (if any) is rewound before every attempt.</summary>
    public async Task RunAsync<TState>(Func<TState, CancellationToken, Task> action, TState state, Stream? content, CancellationToken cancellationToken)
    {
        long started = timeProvider.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            if (content is not null)
            {
                content.Position = 0;
            }

            try
            {
                await action(state, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && attempt < options.MaxAttempts && (store.IsTransient(ex) || ex is OperationCanceledException)
                && timeProvider.GetElapsedTime(started) < options.MaxElapsed)
            {
                // Retry below (an OperationCanceledException without our token's cancellation is a client timeout).
            }

            double capMs = Math.Min(options.MaxDelay.TotalMilliseconds, options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 62)));
#pragma warning disable CA5394 // Jitter, not security.
            var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * capMs);
#pragma warning restore CA5394
            var left = options.MaxElapsed - timeProvider.GetElapsedTime(started);
            if (delay > left)
            {
                delay = left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }

            Interlocked.Increment(ref _retries);
            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}
