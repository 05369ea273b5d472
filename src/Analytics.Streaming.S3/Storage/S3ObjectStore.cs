using System.Diagnostics.CodeAnalysis;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Analytics.Streaming.S3;

/// <summary>An <see cref="IObjectStore"/> over one S3 bucket, through the AWS SDK's <see cref="IAmazonS3"/> client.</summary>
/// <remarks>
/// <para>
/// Every <c>PutObject</c> and <c>UploadPart</c> request is sent with <c>UseChunkEncoding = false</c>: the bodies are
/// in memory and seekable, so the SDK signs the whole payload instead of streaming it as <c>aws-chunked</c>, which
/// some S3-compatible endpoints (MinIO gateways, s3rver) would otherwise store framing and all.
/// </para>
/// <para>
/// The client is not owned: its lifetime, credentials, region and endpoint (<c>ServiceURL</c>, <c>ForcePathStyle</c>)
/// are the caller's. Instances are thread safe.
/// </para>
/// </remarks>
public sealed class S3ObjectStore : IObjectStore
{
    /// <summary>The smallest part S3 accepts for every part but the last of a multipart upload: 5 MiB.</summary>
    public const int MinimumPartSize = 5 * 1024 * 1024;

    /// <summary>The largest part number S3 accepts: 10,000.</summary>
    public const int MaximumPartCount = 10_000;

    private readonly IAmazonS3 _client;
    private readonly S3ObjectStoreOptions _options;

    /// <summary>Creates a store writing to the bucket of <paramref name="options"/>.</summary>
    /// <param name="client">The S3 client; not disposed by the store.</param>
    /// <param name="options">The bucket and request settings; validated here.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message says what to change.</exception>
    public S3ObjectStore(IAmazonS3 client, S3ObjectStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
    }

    /// <summary>Creates a store writing to <paramref name="bucketName"/> with default request settings.</summary>
    /// <param name="client">The S3 client; not disposed by the store.</param>
    /// <param name="bucketName">The bucket.</param>
    public S3ObjectStore(IAmazonS3 client, string bucketName)
        : this(client, new S3ObjectStoreOptions { BucketName = bucketName })
    {
    }

    /// <summary>Gets the bucket name.</summary>
    public string BucketName => _options.BucketName;

    /// <inheritdoc />
    public string GetLocation(string key) => $"s3://{_options.BucketName}/{key}";

    /// <inheritdoc />
    public async Task PutObjectAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        ObjectKeys.Validate(key);
        ArgumentNullException.ThrowIfNull(content);
        var request = new PutObjectRequest
        {
            BucketName = _options.BucketName,
            Key = key,
            InputStream = content,
            AutoCloseStream = false,
            AutoResetStreamPosition = false,
            ContentType = contentType,
            UseChunkEncoding = false,
        };
        ApplyEncryption(request);
        await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IMultipartUpload> StartMultipartUploadAsync(string key, string contentType, CancellationToken cancellationToken)
    {
        ObjectKeys.Validate(key);
        var request = new InitiateMultipartUploadRequest
        {
            BucketName = _options.BucketName,
            Key = key,
            ContentType = contentType,
        };
        if (_options.ServerSideEncryption is { } method)
        {
            request.ServerSideEncryptionMethod = method;
            request.ServerSideEncryptionKeyManagementServiceKeyId = _options.KmsKeyId;
        }

        var response = await _client.InitiateMultipartUploadAsync(request, cancellationToken).ConfigureAwait(false);
        return new Upload(this, key, response.UploadId);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetObjectAsync(string key, CancellationToken cancellationToken)
    {
        ObjectKeys.Validate(key);
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _options.BucketName, Key = key }, cancellationToken).ConfigureAwait(false);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory, cancellationToken).ConfigureAwait(false);
            return memory.ToArray();
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchKey" || (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket"))
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await _client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _options.BucketName, Prefix = prefix, ContinuationToken = token },
                cancellationToken).ConfigureAwait(false);
            foreach (var item in page.S3Objects ?? [])
            {
                keys.Add(item.Key);
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredObject>> ListObjectsAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var objects = new List<StoredObject>();
        string? token = null;
        do
        {
            var page = await _client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _options.BucketName, Prefix = prefix, ContinuationToken = token },
                cancellationToken).ConfigureAwait(false);
            foreach (var item in page.S3Objects ?? [])
            {
                objects.Add(new StoredObject(item.Key, item.Size));
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        objects.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return objects;
    }

    /// <inheritdoc />
    public async Task DeleteObjectAsync(string key, CancellationToken cancellationToken)
    {
        ObjectKeys.Validate(key);
        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.BucketName, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            // Already gone (S3 itself answers 204 for a missing key; some compatible servers answer 404).
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Lists the bucket's unfinished uploads under the keys' common prefix (<c>ListMultipartUploads</c>) and aborts
    /// those of the given keys; one attempt each, failures swallowed (s3rver, for one, answers 501 to the listing).
    /// </remarks>
    public async Task AbortMultipartUploadsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        var wanted = new HashSet<string>(keys, StringComparer.Ordinal);
        string prefix = CommonFolder(wanted);
        try
        {
            string? keyMarker = null;
            string? uploadIdMarker = null;
            do
            {
                var page = await _client.ListMultipartUploadsAsync(
                    new ListMultipartUploadsRequest { BucketName = _options.BucketName, Prefix = prefix, KeyMarker = keyMarker, UploadIdMarker = uploadIdMarker },
                    cancellationToken).ConfigureAwait(false);
                foreach (var upload in page.MultipartUploads ?? [])
                {
                    if (wanted.Contains(upload.Key))
                    {
                        await new Upload(this, upload.Key, upload.UploadId).AbortAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                (keyMarker, uploadIdMarker) = page.IsTruncated == true ? (page.NextKeyMarker, page.NextUploadIdMarker) : (null, null);
            }
            while (keyMarker is not null);
        }
#pragma warning disable CA1031 // Best effort by contract (servers such as s3rver cannot list uploads): a lifecycle rule removes what is left.
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
#pragma warning restore CA1031
        {
            // Swallowed on purpose (see IObjectStore.AbortMultipartUploadsAsync).
        }
    }

    /// <inheritdoc />
    public bool IsValidKey(string key, [NotNullWhen(false)] out string? reason) => ObjectKeys.TryValidate(key, out reason);

    /// <inheritdoc />
    public bool IsTransient(Exception exception) => IsTransientFailure(exception);

    /// <summary>Whether an S3 or network failure is worth retrying.</summary>
    /// <param name="exception">The failure.</param>
    /// <returns><see langword="true"/> for throttling (<c>SlowDown</c>, 429, 503), other 5xx statuses but 501 (not implemented), request timeouts and dropped connections.</returns>
    public static bool IsTransientFailure(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case AmazonServiceException service:
                    if (service.StatusCode == HttpStatusCode.NotImplemented || service.ErrorCode == "NotImplemented")
                    {
                        return false; // 501: the server cannot do this at all, however often it is asked.
                    }

                    if ((int)service.StatusCode >= 500 || service.StatusCode == HttpStatusCode.TooManyRequests
                        || service.StatusCode == HttpStatusCode.RequestTimeout
                        || service.ErrorCode is "SlowDown" or "RequestTimeout" or "Throttling" or "ThrottlingException"
                            or "InternalError" or "ServiceUnavailable" or "RequestTimeTooSkewed")
                    {
                        return true;
                    }

                    break;
                case HttpRequestException or IOException or TimeoutException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>The longest common prefix of the keys, cut after its last '/'.</summary>
    private static string CommonFolder(IEnumerable<string> keys)
    {
        string? common = null;
        foreach (string key in keys)
        {
            if (common is null)
            {
                common = key;
                continue;
            }

            int n = 0;
            while (n < common.Length && n < key.Length && common[n] == key[n])
            {
                n++;
            }

            common = common[..n];
        }

        common ??= string.Empty;
        return common[..(common.LastIndexOf('/') + 1)];
    }

    private void ApplyEncryption(PutObjectRequest request)
    {
        if (_options.ServerSideEncryption is { } method)
        {
            request.ServerSideEncryptionMethod = method;
            request.ServerSideEncryptionKeyManagementServiceKeyId = _options.KmsKeyId;
        }
    }

    private sealed class Upload(S3ObjectStore store, string key, string uploadId) : IMultipartUpload
    {
        private readonly SortedDictionary<int, PartETag> _parts = [];
        private bool _finished;

        public string Key => key;

        public async Task UploadPartAsync(int partNumber, Stream content, CancellationToken cancellationToken)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(partNumber, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(partNumber, MaximumPartCount);
            ArgumentNullException.ThrowIfNull(content);
            var request = new UploadPartRequest
            {
                BucketName = store._options.BucketName,
                Key = key,
                UploadId = uploadId,
                PartNumber = partNumber,
                InputStream = content,
                PartSize = content.Length - content.Position,
                UseChunkEncoding = false,
            };
            var response = await store._client.UploadPartAsync(request, cancellationToken).ConfigureAwait(false);
            _parts[partNumber] = new PartETag(response);
        }

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            var request = new CompleteMultipartUploadRequest
            {
                BucketName = store._options.BucketName,
                Key = key,
                UploadId = uploadId,
                PartETags = [.. _parts.Values],
            };
            await store._client.CompleteMultipartUploadAsync(request, cancellationToken).ConfigureAwait(false);
            _finished = true;
        }

        public async Task AbortAsync(CancellationToken cancellationToken)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            try
            {
                await store._client.AbortMultipartUploadAsync(
                    new AbortMultipartUploadRequest { BucketName = store._options.BucketName, Key = key, UploadId = uploadId },
                    cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Best effort by contract: a lifecycle rule removes what an abort leaves behind.
            catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
#pragma warning restore CA1031
            {
                // Swallowed on purpose (see IMultipartUpload.AbortAsync).
            }
        }

        public async ValueTask DisposeAsync() => await AbortAsync(CancellationToken.None).ConfigureAwait(false);
    }
}

/// <summary>Settings of an <see cref="S3ObjectStore"/>.</summary>
public sealed class S3ObjectStoreOptions
{
    /// <summary>Gets or sets the bucket. Required.</summary>
    public string BucketName { get; set; } = string.Empty;

    /// <summary>Gets or sets the server-side encryption to request, such as <see cref="ServerSideEncryptionMethod.AWSKMS"/>; <see langword="null"/> (the default) leaves it to the bucket's default encryption.</summary>
    public ServerSideEncryptionMethod? ServerSideEncryption { get; set; }

    /// <summary>Gets or sets the KMS key id or ARN used with <see cref="ServerSideEncryptionMethod.AWSKMS"/>; <see langword="null"/> (the default) uses the account's S3 key.</summary>
    public string? KmsKeyId { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(BucketName))
        {
            throw OptionErrors.Invalid("S3ObjectStoreOptions.BucketName is required: set it to the bucket that holds the data lake.");
        }

        if (BucketName.Contains('/', StringComparison.Ordinal) || BucketName.StartsWith("s3:", StringComparison.OrdinalIgnoreCase))
        {
            throw OptionErrors.Invalid($"S3ObjectStoreOptions.BucketName '{BucketName}' must be a bare bucket name (no 's3://' and no '/'); put key prefixes in the sink's Prefix.");
        }

        if (KmsKeyId is not null && ServerSideEncryption != ServerSideEncryptionMethod.AWSKMS && ServerSideEncryption != ServerSideEncryptionMethod.AWSKMSDSSE)
        {
            throw OptionErrors.Invalid("S3ObjectStoreOptions.KmsKeyId is set but ServerSideEncryption is not AWSKMS or AWSKMSDSSE: set ServerSideEncryption too, or remove the key id.");
        }
    }
}
