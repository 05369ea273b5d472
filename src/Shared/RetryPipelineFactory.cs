// Shared source: linked into every package that retries (<Compile Include="..\Shared\RetryPipelineFactory.cs" />).
// It depends on the BCL, Polly.Core and the core package's RetryOptions only, never on a package's own types.
using System.Diagnostics.CodeAnalysis;
using Polly;
using Polly.Retry;

namespace Analytics.Streaming.Resilience;

/// <summary>A retry about to happen, as the pipeline reports it to its owner (for logging and counting).</summary>
/// <typeparam name="T">The result type of the operation (<see cref="object"/> for operations retried on exceptions only).</typeparam>
/// <param name="FailedAttempt">The attempt that just failed, counting from 1.</param>
/// <param name="Delay">The wait before the next attempt.</param>
/// <param name="Elapsed">The time since the first attempt started.</param>
/// <param name="Outcome">What the failed attempt returned or threw.</param>
internal readonly record struct RetryNotice<T>(int FailedAttempt, TimeSpan Delay, TimeSpan Elapsed, Outcome<T> Outcome);

/// <summary>
/// Maps <see cref="RetryOptions"/> to a Polly <see cref="ResiliencePipeline"/>: exponential backoff with full jitter
/// (each wait drawn from <c>[0, min(MaxDelay, BaseDelay × 2^(n−1))]</c> after failed attempt <c>n</c>), at most
/// <see cref="RetryOptions.MaxAttempts"/> attempts, no attempt started later than <see cref="RetryOptions.MaxElapsed"/>
/// after the first, waits on the given <see cref="TimeProvider"/>, and only what the owner's classifier calls
/// transient retried (never a cancellation by the caller).
/// </summary>
/// <remarks>
/// The option values are copied when the pipeline is built. Pipelines are thread-safe; build one per component and
/// reuse it for every call. The owner decides what to log: <c>onRetry</c> runs before each wait.
/// </remarks>
internal static class RetryPipelineFactory
{
    private static readonly ResiliencePropertyKey<long> StartedKey = new("Analytics.Streaming.Retry.Started");

    /// <summary>Builds a pipeline for operations that signal failure by throwing.</summary>
    /// <param name="options">The limits; validated here.</param>
    /// <param name="timeProvider">The clock for waits and the elapsed-time bound.</param>
    /// <param name="isTransient">Whether an exception is worth another attempt.</param>
    /// <param name="onRetry">Called before each wait; <see langword="null"/> for nothing.</param>
    /// <param name="random">A source of uniform numbers in [0, 1) for the jitter; <see langword="null"/> for <see cref="Random.Shared"/>.</param>
    /// <returns>The pipeline.</returns>
    public static ResiliencePipeline Create(
        RetryOptions options,
        TimeProvider timeProvider,
        Func<Exception, bool> isTransient,
        Action<RetryNotice<object>>? onRetry = null,
        Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(isTransient);
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        var retry = new RetryStrategyOptions();
        if (Configure(retry, options, timeProvider, outcome => outcome.Exception is { } e && isTransient(e), onRetry, random))
        {
            builder.AddStrategy(_ => new StartTimeStrategy(timeProvider)).AddRetry(retry);
        }

        return builder.Build();
    }

    /// <summary>Builds a pipeline for operations whose result can ask for another attempt (a batch call with failed entries).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="options">The limits; validated here.</param>
    /// <param name="timeProvider">The clock for waits and the elapsed-time bound.</param>
    /// <param name="isTransient">Whether an outcome (a result or an exception) is worth another attempt.</param>
    /// <param name="onRetry">Called before each wait; <see langword="null"/> for nothing.</param>
    /// <param name="random">A source of uniform numbers in [0, 1) for the jitter; <see langword="null"/> for <see cref="Random.Shared"/>.</param>
    /// <returns>The pipeline. When retries run out on a result, that result is returned; on an exception, it is thrown.</returns>
    public static ResiliencePipeline<T> Create<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] T>(
        RetryOptions options,
        TimeProvider timeProvider,
        Func<Outcome<T>, bool> isTransient,
        Action<RetryNotice<T>>? onRetry = null,
        Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(isTransient);
        var builder = new ResiliencePipelineBuilder<T> { TimeProvider = timeProvider };
        var retry = new RetryStrategyOptions<T>();
        if (Configure(retry, options, timeProvider, isTransient, onRetry, random))
        {
            builder.AddStrategy(_ => new StartTimeStrategy(timeProvider)).AddRetry(retry);
        }

        return builder.Build();
    }

    /// <summary>The wait after failed attempt <paramref name="failedAttempt"/> (from 1): <paramref name="random"/> times the exponential ceiling.</summary>
    /// <param name="baseDelay">The first ceiling.</param>
    /// <param name="maxDelay">The largest ceiling.</param>
    /// <param name="failedAttempt">The attempt that failed, counting from 1.</param>
    /// <param name="random">A number in [0, 1].</param>
    /// <returns>The wait, before the elapsed-time bound is applied.</returns>
    public static TimeSpan Delay(TimeSpan baseDelay, TimeSpan maxDelay, int failedAttempt, double random)
    {
        double ceiling = Math.Min(maxDelay.Ticks, baseDelay.Ticks * Math.Pow(2, Math.Clamp(failedAttempt - 1, 0, 62)));
        return TimeSpan.FromTicks((long)(ceiling * random));
    }

    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification = "Jitter spreads retries; it is not a security measure.")]
    private static double SharedRandom() => Random.Shared.NextDouble();

    /// <summary>Fills Polly's options; returns <see langword="false"/> when retries are off (one attempt).</summary>
    private static bool Configure<T>(
        RetryStrategyOptions<T> retry,
        RetryOptions options,
        TimeProvider timeProvider,
        Func<Outcome<T>, bool> isTransient,
        Action<RetryNotice<T>>? onRetry,
        Func<double>? random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.Validate();
        if (options.MaxAttempts == 1)
        {
            return false;
        }

        // Copied now: a later change to the options object does not reach a running component.
        TimeSpan baseDelay = options.BaseDelay, maxDelay = options.MaxDelay, maxElapsed = options.MaxElapsed;
        Func<double> next = random ?? SharedRandom;
        retry.MaxRetryAttempts = options.MaxAttempts - 1;
        retry.ShouldHandle = args => new ValueTask<bool>(
            !args.Context.CancellationToken.IsCancellationRequested
            && isTransient(args.Outcome)
            && Elapsed(args.Context, timeProvider) < maxElapsed);
        retry.DelayGenerator = args =>
        {
            TimeSpan delay = Delay(baseDelay, maxDelay, args.AttemptNumber + 1, next());
            TimeSpan remaining = maxElapsed - Elapsed(args.Context, timeProvider);
            return new ValueTask<TimeSpan?>(delay <= remaining ? delay : remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        };
        if (onRetry is not null)
        {
            retry.OnRetry = args =>
            {
                onRetry(new RetryNotice<T>(args.AttemptNumber + 1, args.RetryDelay, Elapsed(args.Context, timeProvider), args.Outcome));
                return default;
            };
        }

        return true;
    }

    private static TimeSpan Elapsed(ResilienceContext context, TimeProvider timeProvider) =>
        context.Properties.TryGetValue(StartedKey, out long started) ? timeProvider.GetElapsedTime(started) : TimeSpan.Zero;

    /// <summary>The outermost strategy: notes when the first attempt starts, for the elapsed-time bound.</summary>
    private sealed class StartTimeStrategy(TimeProvider timeProvider) : ResilienceStrategy
    {
        protected override ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback,
            ResilienceContext context,
            TState state)
        {
            context.Properties.Set(StartedKey, timeProvider.GetTimestamp());
            return callback(context, state);
        }
    }
}
