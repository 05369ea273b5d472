namespace Analytics.Streaming;

/// <summary>
/// How a component tries again after a transient failure: exponential backoff with full jitter, bounded by a number
/// of attempts and by time. Every option type in these packages that retries exposes one as <c>Retry</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Schedule.</b> When attempt <c>n</c> (counting from 1) fails with a transient error, the next attempt starts after
/// a wait drawn uniformly from <c>[0, min(MaxDelay, BaseDelay × 2^(n−1))]</c> ("full jitter": callers that failed
/// together spread out instead of retrying in step). Retrying stops when <see cref="MaxAttempts"/> attempts were made,
/// or when <see cref="MaxElapsed"/> has passed since the first attempt started; no attempt starts later than that,
/// so a wait that would end after it is cut short to end then. The last failure is then surfaced to the caller.
/// </para>
/// <para>
/// <b>What is retried</b> is decided by the component, not here: throttling, HTTP 5xx, connection failures and
/// timeouts, and the entries of a batch call that failed individually; any other failure (a missing resource, a
/// permission problem, a malformed request) surfaces at once. Cancellation is never retried.
/// </para>
/// <para>
/// <b>Defaults</b> (40 attempts, 200 ms base, 10 s largest wait, 2 minutes in all) ride out an outage of a minute or
/// more: the wait ceilings double from 200 ms to 6.4 s and then stay at 10 s, and full jitter waits half the ceiling on
/// average, so the 39 waits between 40 attempts add up to about 170 s on average and to less than 60 s with a
/// probability far below one in a billion. <see cref="MaxElapsed"/> is therefore the bound that normally ends a long
/// outage, and <see cref="MaxAttempts"/> the one that ends a run of failures that come back at once. The 10 s cap
/// means a recovery is noticed within 10 s; the 2-minute budget keeps a caller from hanging on a dead dependency.
/// </para>
/// <para>
/// <b>Time</b> is measured with the owning component's <see cref="TimeProvider"/>, so tests can move a fake clock.
/// An instance is read once, when the owning component is created; changing it later has no effect on that component.
/// Set <see cref="MaxAttempts"/> to 1 to turn retries off.
/// </para>
/// </remarks>
public sealed class RetryOptions
{
    /// <summary>The default of <see cref="MaxAttempts"/>.</summary>
    public const int DefaultMaxAttempts = 40;

    /// <summary>Gets the default of <see cref="BaseDelay"/>, 200 milliseconds.</summary>
    public static TimeSpan DefaultBaseDelay => TimeSpan.FromMilliseconds(200);

    /// <summary>Gets the default of <see cref="MaxDelay"/>, 10 seconds.</summary>
    public static TimeSpan DefaultMaxDelay => TimeSpan.FromSeconds(10);

    /// <summary>Gets the default of <see cref="MaxElapsed"/>, 2 minutes.</summary>
    public static TimeSpan DefaultMaxElapsed => TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets the most attempts of one operation, the first included. Default 40; 1 turns retries off.</summary>
    public int MaxAttempts { get; set; } = DefaultMaxAttempts;

    /// <summary>Gets or sets the ceiling of the first wait; the ceiling doubles after every failed attempt. Default 200 milliseconds.</summary>
    public TimeSpan BaseDelay { get; set; } = DefaultBaseDelay;

    /// <summary>Gets or sets the largest ceiling of one wait. Default 10 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = DefaultMaxDelay;

    /// <summary>
    /// Gets or sets how long after the first attempt started a new attempt may still start. Default 2 minutes. An
    /// attempt in progress is not cut short by it (attempts have their own timeouts).
    /// </summary>
    public TimeSpan MaxElapsed { get; set; } = DefaultMaxElapsed;

    /// <summary>Throws when a setting is out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate() => Validate(nameof(RetryOptions));

    /// <summary>Throws when a setting is out of range, naming the settings by the path the owner exposes them under.</summary>
    /// <param name="path">How messages name this instance, such as <c>KinesisClientOptions.Retry</c>.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Require(MaxAttempts >= 1, nameof(MaxAttempts), $"{path}.MaxAttempts must be at least 1 (1 turns retries off); got {MaxAttempts}.");
        Require(BaseDelay >= TimeSpan.Zero, nameof(BaseDelay), $"{path}.BaseDelay must not be negative; got {BaseDelay}.");
        Require(MaxDelay >= BaseDelay, nameof(MaxDelay), $"{path}.MaxDelay must be at least BaseDelay ({BaseDelay}); got {MaxDelay}.");
        Require(MaxElapsed > TimeSpan.Zero, nameof(MaxElapsed), $"{path}.MaxElapsed must be positive; got {MaxElapsed}.");
    }

    private static void Require(bool condition, string setting, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message, setting);
        }
    }
}
