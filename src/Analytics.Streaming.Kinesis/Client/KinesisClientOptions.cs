using Amazon.Runtime;

namespace Analytics.Streaming.Kinesis;

/// <summary>Settings of <c>KinesisClient</c> and <c>FirehoseClient</c>.</summary>
/// <remarks>Validated when the client is created (<see cref="Validate"/>); a client copies nothing later, so do not change an options object after use.</remarks>
public sealed class KinesisClientOptions
{
    /// <summary>Gets or sets the AWS region, such as <c>eu-west-1</c>. Required (also signs requests to <see cref="ServiceUrl"/>).</summary>
    public string? Region { get; set; }

    /// <summary>
    /// Gets or sets an endpoint override, such as <c>http://127.0.0.1:4567</c> for an emulator. Default
    /// <see langword="null"/>: <c>https://kinesis.{Region}.amazonaws.com</c> (or <c>firehose.</c> for Firehose).
    /// </summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Gets or sets the credentials. Default <see langword="null"/>: AWSSDK.Core's default chain (environment, profile, container, instance).</summary>
    public AWSCredentials? Credentials { get; set; }

    /// <summary>Gets or sets how long one HTTP attempt may take. Default 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long opening a connection may take. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets the retry policy for throttling, 5xx and transport failures.</summary>
    public KinesisRetryOptions Retry { get; init; } = new();

    /// <summary>
    /// Gets or sets the innermost HTTP handler (for tests or custom proxies). Default <see langword="null"/>: a
    /// <see cref="SocketsHttpHandler"/> owned by the client. A handler given here is not disposed by the client.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Gets or sets the clock used for signing and backoff. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws when a setting is out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Region))
        {
            throw new ArgumentException("KinesisClientOptions.Region is required (for example \"us-east-1\"); it is also used to sign requests sent to ServiceUrl.", nameof(Region));
        }

        if (ServiceUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException($"KinesisClientOptions.ServiceUrl must be an absolute http or https URL; got '{url}'.", nameof(ServiceUrl));
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"KinesisClientOptions.RequestTimeout must be positive; got {RequestTimeout}.", nameof(RequestTimeout));
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"KinesisClientOptions.ConnectTimeout must be positive; got {ConnectTimeout}.", nameof(ConnectTimeout));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate();
    }
}

/// <summary>Exponential backoff with full jitter, bounded in attempts and in time.</summary>
/// <remarks>
/// Attempt <c>n</c> (1-based) that fails with a retryable error waits a random time in
/// <c>[0, min(MaxDelay, BaseDelay * 2^(n-1))]</c> before the next attempt, unless <see cref="MaxAttempts"/> attempts
/// were made or the wait would end after <see cref="MaxElapsed"/> since the first attempt.
/// </remarks>
public sealed class KinesisRetryOptions
{
    /// <summary>Gets or sets the most attempts per call, the first included (1 disables retries). Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Gets or sets the backoff base. Default 100 milliseconds.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the largest single wait. Default 5 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long a call may keep retrying, from its first attempt. Default 30 seconds.</summary>
    public TimeSpan MaxElapsed { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws when a setting is out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentException($"KinesisRetryOptions.MaxAttempts must be at least 1 (1 disables retries); got {MaxAttempts}.", nameof(MaxAttempts));
        }

        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            throw new ArgumentException($"KinesisRetryOptions needs 0 <= BaseDelay <= MaxDelay; got BaseDelay {BaseDelay}, MaxDelay {MaxDelay}.", nameof(BaseDelay));
        }

        if (MaxElapsed < TimeSpan.Zero)
        {
            throw new ArgumentException($"KinesisRetryOptions.MaxElapsed must not be negative; got {MaxElapsed}.", nameof(MaxElapsed));
        }
    }
}
