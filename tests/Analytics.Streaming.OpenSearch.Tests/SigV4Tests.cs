using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Analytics.Streaming.OpenSearch.Tests.Server;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.Time.Testing;
using static Analytics.Streaming.OpenSearch.Tests.Support;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>
/// SigV4 for Amazon OpenSearch Service (<c>es</c>) and Serverless (<c>aoss</c>): the requests the sink puts on the wire,
/// at a fixed time with fixed credentials, carry the signature that AWSSDK.Core's signer and the JavaScript SDK's signer
/// (@smithy/signature-v4) compute for exactly those bytes, and <c>X-Amz-Content-SHA256</c> is the body's hash.
/// </summary>
public sealed class SigV4Tests(OpenSearchTestServer server)
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static readonly DateTimeOffset SignedAt = new(2026, 1, 31, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, bool> Requests => new()
    {
        { OpenSearchAuthentication.ManagedService, "https://search-analytics-abc123.eu-west-1.es.amazonaws.com/", false },
        { OpenSearchAuthentication.ManagedService, "https://search-analytics-abc123.eu-west-1.es.amazonaws.com/", true },
        { OpenSearchAuthentication.Serverless, "https://q1w2e3r4t5.us-east-1.aoss.amazonaws.com/", false },
        { OpenSearchAuthentication.Serverless, "https://q1w2e3r4t5.us-east-1.aoss.amazonaws.com/", true },
        { OpenSearchAuthentication.ManagedService, "https://proxy.example.com:8443/search/", false },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Sign_FixedRequests_SameAsAwsSdkCoreAndJavaScriptSigners(string service, string endpoint, bool sessionToken)
    {
        string region = endpoint.Contains("us-east-1", StringComparison.Ordinal) ? "us-east-1" : "eu-west-1";
        AWSCredentials credentials = sessionToken ? new SessionAWSCredentials(AccessKey, SecretKey, "FwoGZXIvYXdzEXAMPLETOKEN") : new BasicAWSCredentials(AccessKey, SecretKey);
        var capture = new CapturingHandler(forwardTo: null);
        var options = ResultOptions(new Uri(endpoint));
        options.Authentication = OpenSearchAuthentication.AwsSigV4(region, service, credentials);
        options.HttpHandler = capture;
        options.TimeProvider = new FakeTimeProvider(SignedAt);
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(options))
        {
            await sink.PutIndexTemplateAsync("page views", OpenSearchIndexTemplate.Create(ResultMap, ["views-*"]), Token);
            await sink.WriteAsync(new[] { Result("/home", 0, 3), Result("/cart é", 1, 2) }, Token);
            await sink.FlushAsync(Token);
        }

        Assert.Equal(2, capture.Requests.Count);
        Assert.Equal(HttpMethod.Put, capture.Requests[0].Method);
        Assert.EndsWith("/_index_template/page%20views", capture.Requests[0].Uri.AbsoluteUri, StringComparison.Ordinal);
        await VerifyAsync(capture.Requests, service, region, credentials);
    }

    [Fact]
    public async Task Sign_ThroughTheLoopbackServer_SignedRequestsAreDelivered()
    {
        var (cluster, endpoint) = server.Cluster();
        var credentials = new BasicAWSCredentials(AccessKey, SecretKey);
        var capture = new CapturingHandler(forwardTo: new SocketsHttpHandler());
        var options = ResultOptions(endpoint);
        options.Authentication = OpenSearchAuthentication.AwsSigV4("eu-west-1", OpenSearchAuthentication.Serverless, credentials);
        options.HttpHandler = capture;
        options.TimeProvider = new FakeTimeProvider(SignedAt);
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(options))
        {
            await sink.WriteAsync(new[] { Result("/home", 0, 3) }, Token);
            await sink.FlushAsync(Token);
        }

        Assert.Single(cluster.Documents());
        var received = Assert.Single(cluster.Requests);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260131/eu-west-1/aoss/aws4_request", received.Authorization, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(capture.Requests[0].Body)), received.ContentSha256);
        await VerifyAsync(capture.Requests, OpenSearchAuthentication.Serverless, "eu-west-1", credentials);
    }

    private static async Task VerifyAsync(IReadOnlyList<CapturedRequest> requests, string service, string region, AWSCredentials credentials)
    {
        var identity = await credentials.GetCredentialsAsync();
        var input = new JsonArray();
        foreach (var request in requests)
        {
            string authorization = request.Header("Authorization")!;
            Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={AccessKey}/20260131/{region}/{service}/aws4_request, SignedHeaders=", authorization, StringComparison.Ordinal);
            Assert.Contains("x-amz-content-sha256", authorization, StringComparison.Ordinal);
            Assert.Equal("20260131T120000Z", request.Header("X-Amz-Date"));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(request.Body)), request.Header("X-Amz-Content-SHA256"));
            Assert.Equal(identity.Token is { Length: > 0 } ? identity.Token : null, request.Header("X-Amz-Security-Token"));

            // AWSSDK.Core's signer, given the request exactly as it went on the wire.
            var signing = new AWSSigningRequest { HttpMethod = request.Method, RequestUri = request.Uri, ContentStream = new MemoryStream(request.Body) };
            signing.Headers["Content-Type"] = request.Header("Content-Type")!;
            signing.Headers["X-Amz-Content-SHA256"] = request.Header("X-Amz-Content-SHA256")!;
            var sdk = await AWSSigV4Signer.SignAsync(
                signing,
                new AWSSigV4Parameters { Credentials = credentials, Region = RegionEndpoint.GetBySystemName(region), Service = service, SignPayload = true, SignedAt = SignedAt.UtcDateTime },
                Token);
            Assert.Equal(sdk.Headers.First(h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)).Value, authorization);

            input.Add(new JsonObject
            {
                ["method"] = request.Method.Method,
                ["url"] = request.Uri.AbsoluteUri,
                ["headers"] = new JsonObject
                {
                    ["content-type"] = request.Header("Content-Type"),
                    ["x-amz-content-sha256"] = request.Header("X-Amz-Content-SHA256"),
                },
                ["body"] = Convert.ToBase64String(request.Body),
                ["service"] = service,
                ["region"] = region,
                ["date"] = SignedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["accessKeyId"] = identity.AccessKey,
                ["secretAccessKey"] = identity.SecretKey,
                ["sessionToken"] = identity.Token is { Length: > 0 } ? identity.Token : null,
            });
        }

        // The JavaScript SDK's signer on the same requests.
        var (exitCode, output, error) = await NodeScript.RunAsync("opensearch-sigv4.js", [], new JsonObject { ["requests"] = input }.ToJsonString(), Token);
        Assert.True(exitCode == 0, error);
        var signed = JsonNode.Parse(output)!["signed"]!.AsArray();
        Assert.Equal(requests.Count, signed.Count);
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(signed[i]!["authorization"]!.GetValue<string>(), requests[i].Header("Authorization"));
            Assert.Equal(signed[i]!["x-amz-date"]!.GetValue<string>(), requests[i].Header("X-Amz-Date"));
        }
    }

    private sealed record CapturedRequest(HttpMethod Method, Uri Uri, Dictionary<string, string> Headers, byte[] Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
    }

    /// <summary>Keeps every request as sent; answers a successful bulk itself, or forwards to the loopback server.</summary>
    private sealed class CapturingHandler(HttpMessageHandler? forwardTo) : DelegatingHandler(forwardTo ?? new HttpClientHandler())
    {
        private readonly List<CapturedRequest> _requests = [];

        public IReadOnlyList<CapturedRequest> Requests => _requests;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in request.Headers)
            {
                headers[name] = string.Join(",", values);
            }

            if (request.Content is not null)
            {
                foreach (var (name, values) in request.Content.Headers)
                {
                    headers[name] = string.Join(",", values);
                }
            }

            _requests.Add(new CapturedRequest(request.Method, request.RequestUri!, headers, body));
            if (forwardTo is not null)
            {
                return await base.SendAsync(request, cancellationToken);
            }

            string answer = request.Method == HttpMethod.Put
                ? """{"acknowledged":true}"""
                : JsonSerializer.Serialize(new { took = 1, errors = false, items = Enumerable.Range(0, Encoding.UTF8.GetString(body).Count(c => c == '\n') / 2).Select(_ => new { index = new { status = 201 } }) });
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer, Encoding.UTF8, "application/json") };
        }
    }
}
