using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;
using Analytics.Streaming.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Analytics.Streaming.Kinesis;

/// <summary>Writes the JSON body of a request.</summary>
internal delegate void RequestWriter<TState>(Utf8JsonWriter writer, TState state);

/// <summary>Parses the JSON body of a successful response.</summary>
internal delegate TResult ResponseParser<TState, TResult>(ReadOnlySpan<byte> body, TState state);

/// <summary>
/// The AWS JSON 1.1 plumbing shared by the Kinesis and Firehose clients: request framing, SigV4 signing, error
/// mapping, retries through the shared retry pipeline, one activity per call, and retry logging.
/// </summary>
internal sealed class AwsJsonTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/x-amz-json-1.1");

    private readonly AwsClientOptions _options;
    private readonly string _service;
    private readonly string _serviceName;
    private readonly string _targetPrefix;
    private readonly HttpClient _http;
    private readonly RegionEndpoint _region;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _credentialsLock = new();
    private AWSCredentials? _credentials;

    /// <summary>Creates the transport of one client.</summary>
    /// <param name="options">The client's settings; validated here.</param>
    /// <param name="service">The SigV4 service name and endpoint prefix (<c>kinesis</c>, <c>firehose</c>).</param>
    /// <param name="serviceName">The name used in activities and logs (<c>Kinesis</c>, <c>Firehose</c>).</param>
    /// <param name="targetPrefix">The <c>X-Amz-Target</c> prefix, such as <c>Kinesis_20131202.</c>.</param>
    /// <param name="logger">Where retries are logged.</param>
    public AwsJsonTransport(AwsClientOptions options, string service, string serviceName, string targetPrefix, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _service = service;
        _serviceName = serviceName;
        _targetPrefix = targetPrefix;
        _logger = logger;
        _region = RegionEndpoint.GetBySystemName(options.Region);
        _time = options.TimeProvider;
        _credentials = options.Credentials;
        RequestTimeout = options.RequestTimeout;
        Endpoint = options.ServiceUrl ?? new Uri($"https://{service}.{options.Region}.amazonaws.com/");
        Retry = RetryPipelineFactory.Create(options.Retry, _time, static e => e is KinesisException { IsRetryable: true }, OnRetry);
        HttpMessageHandler handler = options.HttpHandler ?? new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            EnableMultipleHttp2Connections = true,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _http = new HttpClient(handler, disposeHandler: options.HttpHandler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri Endpoint { get; }

    public TimeSpan RequestTimeout { get; }

    /// <summary>Gets the client's retry pipeline (retryable <see cref="KinesisException"/>s only).</summary>
    public ResiliencePipeline Retry { get; }

    public void Dispose() => _http.Dispose();

    /// <summary>Calls an operation with retries and returns the parsed response.</summary>
    public async Task<TResult> CallAsync<TState, TResult>(
        string operation,
        TState state,
        RequestWriter<TState> write,
        ResponseParser<TState, TResult> parse,
        CancellationToken cancellationToken)
    {
        using var body = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true }))
        {
            write(writer, state);
        }

        using var activity = StartActivity(operation);
        try
        {
            return await Retry.ExecuteAsync(
                static (call, token) => call.Transport.AttemptAsync(call.Operation, call.Body, call.State, call.Parse, token),
                (Transport: this, Operation: operation, Body: body.WrittenMemory, State: state, Parse: parse),
                cancellationToken).ConfigureAwait(false);
        }
        catch (KinesisException exception) when (Failed(activity, exception))
        {
            throw;
        }
    }

    /// <summary>Starts the activity of one call (retries included), or returns <see langword="null"/> when nobody listens.</summary>
    public Activity? StartActivity(string operation)
    {
        if (!KinesisTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = KinesisTelemetry.ActivitySource.StartActivity(_serviceName + "." + operation, ActivityKind.Client);
        activity?.SetTag("rpc.system", "aws-api");
        activity?.SetTag("rpc.service", _serviceName);
        activity?.SetTag("rpc.method", operation);
        return activity;
    }

    /// <summary>Marks the call's activity as failed; always <see langword="false"/>, for use in an exception filter.</summary>
    public static bool Failed(Activity? activity, KinesisException exception)
    {
        if (activity is not null)
        {
            activity.SetTag("error.type", exception.ErrorCode);
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        }

        return false;
    }

    private async ValueTask<TResult> AttemptAsync<TState, TResult>(
        string operation,
        ReadOnlyMemory<byte> body,
        TState state,
        ResponseParser<TState, TResult> parse,
        CancellationToken cancellationToken)
    {
        using var response = await SendOnceAsync(operation, body, HttpCompletionOption.ResponseContentRead, null, cancellationToken).ConfigureAwait(false);
        if (response.Exception is { } failure)
        {
            throw failure;
        }

        try
        {
            return parse(response.Body.AsSpan(0, response.BodyLength), state);
        }
        catch (Exception exception) when (exception is JsonException or FormatException)
        {
            throw new KinesisException($"{operation}: the service's answer is not in the expected shape: {exception.Message}", KinesisErrors.MalformedResponse, response.Status, response.RequestId, exception)
            {
                Operation = operation,
            };
        }
    }

    private void OnRetry(RetryNotice<object> notice)
    {
        if (notice.Outcome.Exception is not KinesisException failure)
        {
            return;
        }

        string operation = failure.Operation ?? "call";
        KinesisTelemetry.ClientRetries.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("error.type", failure.ErrorCode));
        if (failure.IsThrottling)
        {
            KinesisLog.CallThrottled(_logger, _serviceName, operation, failure.ErrorCode, notice.FailedAttempt, notice.Delay);
        }
        else
        {
            KinesisLog.CallRetrying(_logger, _serviceName, operation, failure.ErrorCode, notice.FailedAttempt, notice.Delay, failure);
        }
    }

    /// <summary>Sends a signed request once. For streamed responses (<see cref="HttpCompletionOption.ResponseHeadersRead"/>) a 200 response is returned unread.</summary>
    internal async Task<TransportResponse> SendOnceAsync(
        string operation,
        ReadOnlyMemory<byte> body,
        HttpCompletionOption completion,
        Version? version,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (completion == HttpCompletionOption.ResponseContentRead)
        {
            timeout.CancelAfter(_options.RequestTimeout);
        }

        HttpResponseMessage? response = null;
        try
        {
            using var request = await CreateSignedRequestAsync(operation, body, version, timeout.Token).ConfigureAwait(false);
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            string? requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
            if (response.StatusCode == HttpStatusCode.OK && completion == HttpCompletionOption.ResponseHeadersRead)
            {
                var streamed = new TransportResponse(response, null, 0, null, requestId, HttpStatusCode.OK);
                response = null;
                return streamed;
            }

            var (buffer, length) = await PooledHttp.ReadBodyAsync(response, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return new TransportResponse(null, buffer, length, null, requestId, HttpStatusCode.OK);
            }

            var error = KinesisErrorParser.Parse(operation, response, buffer.AsSpan(0, length), requestId);
            ArrayPool<byte>.Shared.Return(buffer);
            return new TransportResponse(null, null, 0, error, requestId, response.StatusCode);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Unanswered(operation, $"no answer within the request timeout of {_options.RequestTimeout} ({_options.GetType().Name}.RequestTimeout)", null);
        }
        catch (HttpRequestException exception)
        {
            return Unanswered(operation, $"the request to {Endpoint} failed: {exception.Message}", exception);
        }
        catch (IOException exception)
        {
            return Unanswered(operation, $"the connection to {Endpoint} failed: {exception.Message}", exception);
        }
        finally
        {
            response?.Dispose();
        }
    }

    private static TransportResponse Unanswered(string operation, string problem, Exception? cause) =>
        TransportResponse.Failed(new KinesisException($"{operation}: {problem}", KinesisErrors.TransportFailure, null, null, cause) { Operation = operation });

    private async Task<HttpRequestMessage> CreateSignedRequestAsync(string operation, ReadOnlyMemory<byte> body, Version? version, CancellationToken cancellationToken)
    {
        string target = _targetPrefix + operation;
        var request = new HttpRequestMessage(HttpMethod.Post, Endpoint)
        {
            Content = new ReadOnlyMemoryContent(body),
        };
        if (version is not null)
        {
            request.Version = version;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);

        var credentials = GetCredentials();
        var signing = new AWSSigningRequest
        {
            HttpMethod = HttpMethod.Post,
            RequestUri = Endpoint,
            ContentStream = new ReadOnlyMemoryStream(body),
        };
        signing.Headers["Content-Type"] = "application/x-amz-json-1.1";
        signing.Headers["X-Amz-Target"] = target;
        var parameters = new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = _region,
            Service = _service,
            SignPayload = true,
            SignedAt = _time.GetUtcNow().UtcDateTime,
        };
        var signed = await AWSSigV4Signer.SignAsync(signing, parameters, cancellationToken).ConfigureAwait(false);
        foreach (var (name, value) in signed.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.Equals("X-Amz-Target", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private AWSCredentials GetCredentials()
    {
        if (_credentials is { } known)
        {
            return known;
        }

        lock (_credentialsLock)
        {
            if (_credentials is null)
            {
                try
                {
                    _credentials = DefaultAWSCredentialsIdentityResolver.GetCredentials(null);
                }
                catch (AmazonClientException exception)
                {
                    throw new KinesisException(
                        "No AWS credentials were found in the default chain (environment, profile, container, instance): set KinesisClientOptions.Credentials or configure the chain. " + exception.Message,
                        KinesisErrors.MissingCredentials,
                        null,
                        null,
                        exception);
                }
            }

            return _credentials;
        }
    }
}

/// <summary>The outcome of one attempt: a body (pooled, returned on dispose), a streamed response, or a failure.</summary>
internal sealed class TransportResponse : IDisposable
{
    public TransportResponse(HttpResponseMessage? streamed, byte[]? body, int bodyLength, KinesisException? exception, string? requestId, HttpStatusCode? status)
    {
        Streamed = streamed;
        Body = body;
        BodyLength = bodyLength;
        Exception = exception;
        RequestId = requestId;
        Status = status;
    }

    public HttpResponseMessage? Streamed { get; private set; }

    public byte[]? Body { get; private set; }

    public int BodyLength { get; }

    public KinesisException? Exception { get; }

    public string? RequestId { get; }

    public HttpStatusCode? Status { get; }

    public static TransportResponse Failed(KinesisException exception) => new(null, null, 0, exception, null, null);

    public HttpResponseMessage TakeStreamed()
    {
        var streamed = Streamed ?? throw new InvalidOperationException("No streamed response.");
        Streamed = null;
        return streamed;
    }

    public void Dispose()
    {
        Streamed?.Dispose();
        Streamed = null;
        if (Body is { } body)
        {
            Body = null;
            ArrayPool<byte>.Shared.Return(body);
        }
    }
}
