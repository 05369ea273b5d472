using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;

namespace Analytics.Streaming.Kinesis;

/// <summary>Writes the JSON body of a request.</summary>
internal delegate void RequestWriter<TState>(Utf8JsonWriter writer, TState state);

/// <summary>Parses the JSON body of a successful response.</summary>
internal delegate TResult ResponseParser<TState, TResult>(ReadOnlySpan<byte> body, TState state);

/// <summary>
/// The AWS JSON 1.1 plumbing shared by the Kinesis and Firehose clients: request framing, SigV4 signing, error
/// mapping, and retries with exponential backoff and full jitter.
/// </summary>
internal sealed class AwsJsonTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/x-amz-json-1.1");

    private readonly KinesisClientOptions _options;
    private readonly string _service;
    private readonly string _targetPrefix;
    private readonly HttpClient _http;
    private readonly RegionEndpoint _region;
    private readonly TimeProvider _time;
    private readonly object _credentialsLock = new();
    private AWSCredentials? _credentials;

    public AwsJsonTransport(KinesisClientOptions options, string service, string targetPrefix)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _service = service;
        _targetPrefix = targetPrefix;
        _region = RegionEndpoint.GetBySystemName(options.Region);
        _time = options.TimeProvider;
        _credentials = options.Credentials;
        Endpoint = options.ServiceUrl ?? new Uri($"https://{service}.{options.Region}.amazonaws.com/");
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

    public KinesisClientOptions Options => _options;

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

        var retry = _options.Retry;
        long started = _time.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            KinesisException failure;
            using (var response = await SendOnceAsync(operation, body.WrittenMemory, HttpCompletionOption.ResponseContentRead, null, cancellationToken).ConfigureAwait(false))
            {
                if (response.Exception is null)
                {
                    byte[] buffer = response.Body!;
                    try
                    {
                        return parse(buffer.AsSpan(0, response.BodyLength), state);
                    }
                    catch (JsonException exception)
                    {
                        throw new KinesisException($"{operation}: the service's answer is not the expected JSON: {exception.Message}", KinesisErrors.MalformedResponse, response.Status, response.RequestId, exception);
                    }
                    catch (FormatException exception)
                    {
                        throw new KinesisException($"{operation}: the service's answer holds a malformed value: {exception.Message}", KinesisErrors.MalformedResponse, response.Status, response.RequestId, exception);
                    }
                }

                failure = response.Exception;
            }

            TimeSpan? delay = NextDelay(failure, attempt, started);
            if (delay is null)
            {
                throw failure;
            }

            await Task.Delay(delay.Value, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Returns the wait before the next attempt, or <see langword="null"/> when the failure is final.</summary>
    internal TimeSpan? NextDelay(KinesisException failure, int attempt, long startedTimestamp)
    {
        var retry = _options.Retry;
        if (!failure.IsRetryable || attempt >= retry.MaxAttempts)
        {
            return null;
        }

        TimeSpan delay = BackoffDelay(retry, attempt, Random.Shared.NextDouble());
        TimeSpan elapsed = _time.GetElapsedTime(startedTimestamp);
        return elapsed + delay > retry.MaxElapsed ? null : delay;
    }

    /// <summary>Full jitter: a uniform wait in [0, min(MaxDelay, BaseDelay * 2^(attempt-1))].</summary>
    internal static TimeSpan BackoffDelay(KinesisRetryOptions retry, int attempt, double random)
    {
        double ceiling = retry.BaseDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30));
        ceiling = Math.Min(ceiling, retry.MaxDelay.Ticks);
        return TimeSpan.FromTicks((long)(ceiling * random));
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

            var (buffer, length) = await ReadBodyAsync(response, timeout.Token).ConfigureAwait(false);
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
            return TransportResponse.Failed(new KinesisException(
                $"{operation}: no answer within the request timeout of {_options.RequestTimeout} (KinesisClientOptions.RequestTimeout).",
                KinesisErrors.TransportFailure,
                null,
                null));
        }
        catch (HttpRequestException exception)
        {
            return TransportResponse.Failed(new KinesisException(
                $"{operation}: the request to {Endpoint} failed: {exception.Message}",
                KinesisErrors.TransportFailure,
                null,
                null,
                exception));
        }
        catch (IOException exception)
        {
            return TransportResponse.Failed(new KinesisException(
                $"{operation}: the connection to {Endpoint} failed: {exception.Message}",
                KinesisErrors.TransportFailure,
                null,
                null,
                exception));
        }
        finally
        {
            response?.Dispose();
        }
    }

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

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        long? declared = response.Content.Headers.ContentLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 and < int.MaxValue ? (int)declared.Value : 16 * 1024);
        int length = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        byte[] bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
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
