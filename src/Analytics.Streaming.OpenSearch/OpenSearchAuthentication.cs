using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;

namespace Analytics.Streaming.OpenSearch;

/// <summary>How requests to the cluster authenticate: none, HTTP basic, an Elasticsearch API key, or AWS SigV4.</summary>
public abstract class OpenSearchAuthentication
{
    /// <summary>The SigV4 service name of Amazon OpenSearch Service domains: <c>es</c>.</summary>
    public const string ManagedService = "es";

    /// <summary>The SigV4 service name of Amazon OpenSearch Serverless collections: <c>aoss</c>.</summary>
    public const string Serverless = "aoss";

    private protected OpenSearchAuthentication()
    {
    }

    /// <summary>Gets the choice that sends no credentials (a local cluster, or one behind an authenticating proxy).</summary>
    public static OpenSearchAuthentication None { get; } = new NoAuthentication();

    /// <summary>HTTP basic authentication (the OpenSearch security plugin's internal users, Elasticsearch users). Use HTTPS.</summary>
    /// <param name="userName">The user name.</param>
    /// <param name="password">The password.</param>
    /// <returns>The choice.</returns>
    public static OpenSearchAuthentication Basic(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        return new HeaderAuthentication(new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userName + ":" + password))));
    }

    /// <summary>An Elasticsearch API key as the cluster returned it encoded (<c>Authorization: ApiKey {encoded}</c>).</summary>
    /// <param name="encodedKey">The <c>encoded</c> value of the create-API-key response (base64 of <c>id:api_key</c>).</param>
    /// <returns>The choice.</returns>
    public static OpenSearchAuthentication ApiKey(string encodedKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(encodedKey);
        return new HeaderAuthentication(new AuthenticationHeaderValue("ApiKey", encodedKey));
    }

    /// <summary>An Elasticsearch API key given as its id and secret.</summary>
    /// <param name="id">The key id.</param>
    /// <param name="apiKey">The key secret.</param>
    /// <returns>The choice.</returns>
    public static OpenSearchAuthentication ApiKey(string id, string apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        return ApiKey(Convert.ToBase64String(Encoding.UTF8.GetBytes(id + ":" + apiKey)));
    }

    /// <summary>
    /// AWS Signature Version 4, signed with AWSSDK.Core's signer: service <see cref="ManagedService"/> (<c>es</c>) for an
    /// Amazon OpenSearch Service domain, <see cref="Serverless"/> (<c>aoss</c>) for an OpenSearch Serverless
    /// collection. Every request carries <c>X-Amz-Content-SHA256</c> (the hex SHA-256 of the body), which
    /// Serverless requires, and it is signed.
    /// </summary>
    /// <param name="region">The region system name, such as <c>eu-west-1</c>.</param>
    /// <param name="service"><c>es</c> or <c>aoss</c>.</param>
    /// <param name="credentials">The credentials; <see langword="null"/> walks the default chain (environment, profile, container, instance) on first use.</param>
    /// <returns>The choice.</returns>
    public static OpenSearchAuthentication AwsSigV4(string region, string service = ManagedService, AWSCredentials? credentials = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        if (service is not (ManagedService or Serverless))
        {
            throw new ArgumentException($"The SigV4 service of OpenSearch is 'es' (managed domains) or 'aoss' (Serverless); got '{service}'.", nameof(service));
        }

        return new SigV4Authentication(RegionEndpoint.GetBySystemName(region), service, credentials);
    }

    /// <summary>Adds the credentials to a request whose body is <paramref name="body"/>.</summary>
    internal abstract ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DateTimeOffset now, CancellationToken cancellationToken);

    private sealed class NoAuthentication : OpenSearchAuthentication
    {
        internal override ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DateTimeOffset now, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override string ToString() => "none";
    }

    private sealed class HeaderAuthentication(AuthenticationHeaderValue header) : OpenSearchAuthentication
    {
        internal override ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DateTimeOffset now, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = header;
            return ValueTask.CompletedTask;
        }

        public override string ToString() => header.Scheme;
    }

    /// <summary>SigV4 with AWSSDK.Core's public signer.</summary>
    internal sealed class SigV4Authentication(RegionEndpoint region, string service, AWSCredentials? credentials) : OpenSearchAuthentication
    {
        private readonly Lock _lock = new();
        private AWSCredentials? _credentials = credentials;

        public RegionEndpoint Region => region;

        public string Service => service;

        public override string ToString() => "SigV4 " + service;

        internal override async ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var headers = await SignAsync(request.Method, request.RequestUri!, request.Content?.Headers.ContentType?.ToString(), body, now, cancellationToken).ConfigureAwait(false);
            foreach (var (name, value) in headers)
            {
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        /// <summary>Signs a request and returns the headers to send (Authorization, X-Amz-Date, X-Amz-Content-SHA256, and X-Amz-Security-Token with session credentials).</summary>
        internal async Task<IReadOnlyDictionary<string, string>> SignAsync(HttpMethod method, Uri uri, string? contentType, ReadOnlyMemory<byte> body, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var signing = new AWSSigningRequest
            {
                HttpMethod = method,
                RequestUri = uri,
                ContentStream = new MemoryStream(body.ToArray(), writable: false),
            };
            if (contentType is not null)
            {
                signing.Headers["Content-Type"] = contentType;
            }

            signing.Headers["X-Amz-Content-SHA256"] = Convert.ToHexStringLower(SHA256.HashData(body.Span));
            var parameters = new AWSSigV4Parameters
            {
                Credentials = GetCredentials(),
                Region = region,
                Service = service,
                SignPayload = true,
                SignedAt = now.UtcDateTime,
            };
            var signed = await AWSSigV4Signer.SignAsync(signing, parameters, cancellationToken).ConfigureAwait(false);
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in signed.Headers)
            {
                result[name] = value;
            }

            return result;
        }

        private AWSCredentials GetCredentials()
        {
            if (_credentials is { } known)
            {
                return known;
            }

            lock (_lock)
            {
                return _credentials ??= DefaultAWSCredentialsIdentityResolver.GetCredentials(null);
            }
        }
    }
}
