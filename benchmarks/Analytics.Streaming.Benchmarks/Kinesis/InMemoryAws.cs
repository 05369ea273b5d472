using System.Net;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Analytics.Streaming.Kinesis;

namespace Analytics.Streaming.Benchmarks.Kinesis;

/// <summary>
/// An HTTP handler that answers every request at once with prepared bodies, in turn and from the first again after the
/// last, so that a benchmark measures the client (request body, signing, answer parsing) and not a network. Remembers the
/// size of the last request body.
/// </summary>
public sealed class CannedAwsHandler(params byte[][] answers) : HttpMessageHandler
{
    private int _next;

    /// <summary>Gets the size of the last request body.</summary>
    public long LastRequestLength { get; private set; }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        LastRequestLength = request.Content?.Headers.ContentLength ?? 0;
        byte[] answer = answers[_next];
        _next = (_next + 1) % answers.Length;
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(answer), RequestMessage = request });
    }
}

/// <summary>Clients over a <see cref="CannedAwsHandler"/>.</summary>
public static class InMemoryAws
{
    /// <summary>The endpoint requests are addressed to (never contacted).</summary>
    public static readonly Uri Endpoint = new("http://127.0.0.1:4567/");

    /// <summary>Test credentials (signing runs as in production).</summary>
    public static readonly AWSCredentials Credentials = new BasicAWSCredentials("AKIDBENCHMARK", "secret");

    /// <summary>Creates a Kinesis client whose calls all get <paramref name="handler"/>'s answer.</summary>
    /// <param name="handler">The handler.</param>
    /// <returns>The client.</returns>
    public static KinesisClient Client(CannedAwsHandler handler) => new(new KinesisClientOptions
    {
        Region = "us-east-1",
        ServiceUrl = Endpoint,
        Credentials = Credentials,
        HttpHandler = handler,
    });
}

/// <summary>
/// The baseline: what a .NET user writes without this package, with AWSSDK.Core's public SigV4 signer, System.Text.Json's
/// serializer and <see cref="HttpClient"/> (models whose <c>Data</c> is a base64 string).
/// </summary>
public sealed class NaiveKinesisCaller(HttpMessageHandler handler) : IDisposable
{
    private readonly HttpClient _http = new(handler, disposeHandler: false);

    /// <summary>Serializes <paramref name="request"/>, signs and sends it, and deserializes the answer.</summary>
    /// <typeparam name="TRequest">The request model.</typeparam>
    /// <typeparam name="TResponse">The answer model.</typeparam>
    /// <param name="operation">The Kinesis operation.</param>
    /// <param name="request">The request.</param>
    /// <returns>The answer.</returns>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(string operation, TRequest request)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(request);
        string target = "Kinesis_20131202." + operation;
        var signing = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = InMemoryAws.Endpoint, ContentStream = new MemoryStream(body) };
        signing.Headers["Content-Type"] = "application/x-amz-json-1.1";
        signing.Headers["X-Amz-Target"] = target;
        var signed = await AWSSigV4Signer.SignAsync(
            signing,
            new AWSSigV4Parameters { Credentials = InMemoryAws.Credentials, Region = RegionEndpoint.USEast1, Service = "kinesis", SignPayload = true, SignedAt = DateTime.UnixEpoch.AddYears(56) },
            CancellationToken.None);
        using var message = new HttpRequestMessage(HttpMethod.Post, InMemoryAws.Endpoint) { Content = new ByteArrayContent(body) };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-amz-json-1.1");
        message.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        foreach (var (name, value) in signed.Headers)
        {
            if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && !name.Equals("X-Amz-Target", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await _http.SendAsync(message);
        byte[] answer = await response.Content.ReadAsByteArrayAsync();
        return JsonSerializer.Deserialize<TResponse>(answer)!;
    }

    /// <summary>Releases the HTTP client.</summary>
    public void Dispose() => _http.Dispose();
}
