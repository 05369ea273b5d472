using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Analytics.Streaming.OpenSearch.Internal;

/// <summary>One HTTP exchange with the cluster: the status and the body (pooled; dispose to return it), or why there was no answer.</summary>
internal sealed class TransportResponse : IDisposable
{
    private byte[]? _body;

    public TransportResponse(int status, byte[]? body, int length, string? problem)
    {
        Status = status;
        _body = body;
        Length = length;
        Problem = problem;
    }

    /// <summary>Gets the HTTP status; 0 when no answer came (see <see cref="Problem"/>).</summary>
    public int Status { get; }

    public int Length { get; }

    /// <summary>Gets why no answer came (connection failure, timeout).</summary>
    public string? Problem { get; }

    public ReadOnlySpan<byte> Body => _body is null ? default : _body.AsSpan(0, Length);

    public ReadOnlyMemory<byte> BodyMemory => _body is null ? default : _body.AsMemory(0, Length);

    /// <summary>Reads <c>error.type</c> and <c>error.reason</c> of an error answer (or the text of an old-style string error).</summary>
    public (string Type, string Reason) ReadError()
    {
        try
        {
            using var document = JsonDocument.Parse(BodyMemory);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                return BulkResponse.ReadError(error);
            }
        }
        catch (JsonException)
        {
        }

        string text = System.Text.Encoding.UTF8.GetString(Body[..Math.Min(Length, 512)]);
        return ("http_" + Status.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
    }

    public void Dispose()
    {
        if (_body is { } body)
        {
            _body = null;
            ArrayPool<byte>.Shared.Return(body);
        }
    }
}

/// <summary>Sends requests to the cluster with the configured authentication and request timeout.</summary>
internal sealed class OpenSearchTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue NdJson = new("application/x-ndjson");
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;
    private readonly OpenSearchAuthentication _authentication;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;

    public OpenSearchTransport(Uri endpoint, OpenSearchAuthentication authentication, HttpMessageHandler? handler, TimeSpan timeout, TimeProvider time)
    {
        string text = endpoint.AbsoluteUri;
        Endpoint = new Uri(text.EndsWith('/') ? text : text + "/");
        _authentication = authentication;
        _time = time;
        _timeout = timeout;
        _http = new HttpClient(
            handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.All },
            disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri Endpoint { get; }

    /// <summary>Sends one request; never throws for a failed exchange (the response says why), only for cancellation by the caller.</summary>
    public async Task<TransportResponse> SendAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, bool ndjson, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = new HttpRequestMessage(method, new Uri(Endpoint, path));
            if (method != HttpMethod.Get || !body.IsEmpty)
            {
                request.Content = new ReadOnlyMemoryContent(body);
                request.Content.Headers.ContentType = ndjson ? NdJson : Json;
                request.Content.Headers.ContentLength = body.Length;
            }

            await _authentication.ApplyAsync(request, body, _time.GetUtcNow(), linked.Token).ConfigureAwait(false);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var (buffer, length) = await PooledHttp.ReadBodyAsync(response, linked.Token).ConfigureAwait(false);
            return new TransportResponse((int)response.StatusCode, buffer, length, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new TransportResponse(0, null, 0, $"no answer within the request timeout of {_timeout}");
        }
        catch (HttpRequestException exception)
        {
            return new TransportResponse(0, null, 0, $"the request to {Endpoint} failed: {exception.Message}");
        }
        catch (IOException exception)
        {
            return new TransportResponse(0, null, 0, $"the connection to {Endpoint} failed: {exception.Message}");
        }
    }

    public void Dispose() => _http.Dispose();
}
