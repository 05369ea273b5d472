using Amazon.S3;
using Analytics.Streaming.S3;

namespace Analytics.Streaming.Samples;

/// <summary>Where a sample's lake is kept: a local folder by default, an S3 bucket when one is configured.</summary>
internal static class LakeStore
{
    /// <summary>Opens the lake's object store.</summary>
    /// <param name="folder">The local folder, used when <paramref name="bucket"/> is empty.</param>
    /// <param name="bucket">The S3 bucket, or empty for the folder.</param>
    /// <param name="region">The bucket's region.</param>
    /// <param name="serviceUrl">An S3-compatible endpoint (an emulator), addressed path-style; <see langword="null"/> for AWS.</param>
    /// <param name="credentials">AWS credentials; <see langword="null"/> uses AWSSDK.Core's default chain.</param>
    /// <returns>The store, and the S3 client it uses (the caller disposes it), or no client for a folder.</returns>
    public static (IObjectStore Store, AmazonS3Client? Client) Open(string folder, string? bucket, string region, Uri? serviceUrl, Amazon.Runtime.AWSCredentials? credentials)
    {
        if (string.IsNullOrWhiteSpace(bucket))
        {
            return (new LocalFolderObjectStore(Path.GetFullPath(folder)), null);
        }

        var config = new AmazonS3Config { RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region) };
        if (serviceUrl is not null)
        {
            config.ServiceURL = serviceUrl.ToString();
            config.ForcePathStyle = true;
        }

        var client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        return (new S3ObjectStore(client, bucket), client);
    }
}
