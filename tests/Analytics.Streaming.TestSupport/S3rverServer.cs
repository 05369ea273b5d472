namespace Analytics.Streaming.TestSupport;

/// <summary>
/// s3rver (an S3 emulator from npm) on 127.0.0.1 and a free port, storing objects in a temporary folder that is
/// deleted on dispose. Start it once per test run (an assembly fixture) and give each test its own bucket.
/// </summary>
/// <remarks>
/// Started with <c>--openssl-legacy-provider</c> (without it, paged ListObjectsV2 answers 500). It does not check
/// signatures but wants access key <c>S3RVER</c>; it has no AbortMultipartUpload (405). Over http the .NET SDK
/// must send <c>UseChunkEncoding = false</c>, or s3rver stores the aws-chunked framing as object bytes.
/// </remarks>
public sealed class S3rverServer : IAsyncDisposable
{
    /// <summary>The access key and secret s3rver accepts.</summary>
    public const string AccessKey = "S3RVER";

    private readonly NodeProcess _process;

    private S3rverServer(NodeProcess process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    /// <summary>Gets the port.</summary>
    public int Port { get; }

    /// <summary>Gets the folder where s3rver keeps its buckets.</summary>
    public string Directory { get; }

    /// <summary>Gets the endpoint for SDK clients (<c>ServiceURL</c>, with <c>ForcePathStyle = true</c>).</summary>
    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Starts s3rver and waits until it listens.</summary>
    /// <returns>The running server.</returns>
    public static async Task<S3rverServer> StartAsync()
    {
        string directory = Path.Combine(Path.GetTempPath(), "s3rver-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        int port = TestPeers.GetFreePort();
        var process = await NodeProcess.StartAsync(
            ["--openssl-legacy-provider", "node_modules/s3rver/bin/s3rver.js", "-d", directory, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent"],
            "S3rver listening on").ConfigureAwait(false);
        return new S3rverServer(process, port, directory);
    }

    /// <summary>Stops s3rver (by its process id) and deletes its folder.</summary>
    /// <returns>A task that completes when it has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync().ConfigureAwait(false);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up.
        }
    }
}
