using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Analytics.Streaming.S3.IntegrationTests;
using Analytics.Streaming.TestSupport;

[assembly: AssemblyFixture(typeof(S3Fixture))]

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>One s3rver and one DuckDB query process for the whole test run; each test makes its own bucket or folder.</summary>
public sealed class S3Fixture : IAsyncLifetime
{
    private S3rverServer? _server;
    private int _buckets;

    /// <summary>Gets the S3 client pointed at s3rver.</summary>
    public AmazonS3Client Client { get; private set; } = null!;

    /// <summary>Gets the DuckDB query process.</summary>
    public DuckDbQuery DuckDb { get; private set; } = null!;

    /// <summary>Gets a folder deleted at the end of the run.</summary>
    public string TempRoot { get; } = Path.Combine(Path.GetTempPath(), "s3sink-tests-" + Guid.NewGuid().ToString("N"));

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(TempRoot);
        var serverTask = S3rverServer.StartAsync();
        var duckTask = DuckDbQuery.StartAsync();
        _server = await serverTask;
        DuckDb = await duckTask;
        Client = new AmazonS3Client(
            new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.AccessKey),
            new AmazonS3Config { ServiceURL = _server.ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });
    }

    /// <summary>Creates an empty bucket with a unique name.</summary>
    public async Task<string> CreateBucketAsync()
    {
        string name = $"bucket-{Interlocked.Increment(ref _buckets)}-{Guid.NewGuid().ToString("N")[..8]}";
        await Client.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return name;
    }

    /// <summary>Creates an empty folder under <see cref="TempRoot"/>.</summary>
    public string CreateFolder()
    {
        string path = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Lists every key of a bucket, in order.</summary>
    public async Task<List<string>> ListKeysAsync(string bucket, string prefix = "")
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token });
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

    /// <summary>Reads an object's bytes.</summary>
    public async Task<byte[]> ReadAsync(string bucket, string key)
    {
        using var response = await Client.GetObjectAsync(bucket, key);
        using var memory = new MemoryStream();
        await response.ResponseStream.CopyToAsync(memory);
        return memory.ToArray();
    }

    /// <summary>Copies every object of a bucket into a new local folder (same relative paths), for DuckDB.</summary>
    public async Task<string> DownloadAsync(string bucket)
    {
        string folder = CreateFolder();
        foreach (var key in await ListKeysAsync(bucket))
        {
            string path = Path.Combine(folder, key.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, await ReadAsync(bucket, key));
        }

        return folder;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (DuckDb is not null)
        {
            await DuckDb.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        try
        {
            Directory.Delete(TempRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
