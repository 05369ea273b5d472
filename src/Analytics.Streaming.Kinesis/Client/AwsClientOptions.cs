using Amazon.Runtime;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis;

/// <summary>The settings <see cref="KinesisClientOptions"/> and <see cref="Firehose.FirehoseClientOptions"/> share: endpoint, credentials, timeouts, retries, clock and logging.</summary>
/// <remarks>
/// Validated when the client is created (<see cref="Validate"/>); the client reads them then, so changing an options
/// object afterwards has no effect on it.
/// </remarks>
public abstract class AwsClientOptions
{
    private protected AwsClientOptions()
    {
    }

    /// <summary>Gets or sets the AWS region, such as <c>eu-west-1</c>. Required (also signs requests sent to <see cref="ServiceUrl"/>).</summary>
    public string? Region { get; set; }

    /// <summary>
    /// Gets or sets an endpoint override, such as <c>http://127.0.0.1:4567</c> for an emulator or a VPC endpoint.
    /// Default <see langword="null"/>: the service's regional endpoint.
    /// </summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Gets or sets the credentials. Default <see langword="null"/>: AWSSDK.Core's default chain (environment, profile, container, instance).</summary>
    public AWSCredentials? Credentials { get; set; }

    /// <summary>Gets or sets how long one HTTP attempt may take. Default 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long opening a connection may take. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how calls are retried after throttling, HTTP 5xx, internal failures, request timeouts and
    /// connection failures. Default <see cref="RetryOptions"/>' defaults (40 attempts, 200 ms to 10 s, 2 minutes).
    /// </summary>
    /// <remarks>Every other error is thrown at once. Entries that fail inside a successful batch answer are returned, not retried here.</remarks>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>
    /// Gets or sets the innermost HTTP handler (for tests or custom proxies). Default <see langword="null"/>: a
    /// <see cref="SocketsHttpHandler"/> owned by the client. A handler given here is not disposed by the client.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Gets or sets the clock used for signing and backoff. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets where retries and throttling are logged. Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Throws when a setting is out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        string owner = GetType().Name;
        if (string.IsNullOrWhiteSpace(Region))
        {
            throw new ArgumentException($"{owner}.Region is required (for example \"us-east-1\"); it is also used to sign requests sent to ServiceUrl.", nameof(Region));
        }

        if (ServiceUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException($"{owner}.ServiceUrl must be an absolute http or https URL; got '{url}'.", nameof(ServiceUrl));
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{owner}.RequestTimeout must be positive; got {RequestTimeout}.", nameof(RequestTimeout));
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{owner}.ConnectTimeout must be positive; got {ConnectTimeout}.", nameof(ConnectTimeout));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate(owner + ".Retry");
    }
}

/// <summary>Settings of <see cref="KinesisClient"/>; the endpoint defaults to <c>https://kinesis.{Region}.amazonaws.com</c>.</summary>
/// <remarks>See <see cref="AwsClientOptions"/> for every setting and its default.</remarks>
public sealed class KinesisClientOptions : AwsClientOptions;
