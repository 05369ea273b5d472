using System.Globalization;
using System.Net.Http;
using Xunit;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// kinesis-local (kinesis-mock compiled to JavaScript) on free 127.0.0.1 ports, started once per test run as an xunit
/// assembly fixture (<c>[assembly: AssemblyFixture(typeof(KinesisLocalServer))]</c>) and killed by its process id.
/// </summary>
/// <remarks>
/// Unlike kinesalite it has UpdateShardCount, RegisterStreamConsumer and SubscribeToShard (enhanced fan-out over
/// HTTP/1.1 and h2c). Its bind host is hard-coded to 0.0.0.0, so the fixture runs a patched COPY of its
/// <c>main.js</c> (with <c>server.json</c> beside it) from a temporary folder, with the host replaced by 127.0.0.1,
/// through tests/peers/kinesis-emulator-local.js (which makes that folder the working directory); node_modules is
/// never edited. It can ignore SIGTERM after streaming, so it is killed outright. Its JSON carries
/// explicit <c>null</c> members.
/// </remarks>
public sealed class KinesisLocalServer : IAsyncLifetime
{
    private const string BindAnyHost = "Host$().em(\"0.0.0.0\")";
    private const string BindLoopback = "Host$().em(\"127.0.0.1\")";

    private NodeProcess? _process;
    private KinesisEmulatorAdmin? _admin;
    private string? _copyDirectory;

    /// <summary>Gets the plain HTTP endpoint, such as <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Gets the control-plane client for streams and resharding.</summary>
    public KinesisEmulatorAdmin Admin => _admin ?? throw new InvalidOperationException("The kinesis-local fixture is not started.");

    /// <summary>Copies and patches kinesis-local, starts it and waits until it answers requests.</summary>
    /// <returns>A task that completes when the emulator is ready.</returns>
    public async ValueTask InitializeAsync()
    {
        string package = TestPeers.PathOf(Path.Combine("node_modules", "kinesis-local"));
        _copyDirectory = Directory.CreateTempSubdirectory("kinesis-local-").FullName;
        string script = await File.ReadAllTextAsync(Path.Combine(package, "main.js"));
        int at = script.IndexOf(BindAnyHost, StringComparison.Ordinal);
        if (at < 0 || script.IndexOf(BindAnyHost, at + 1, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"kinesis-local's main.js no longer holds exactly one {BindAnyHost}; update {nameof(KinesisLocalServer)}.");
        }

        await File.WriteAllTextAsync(Path.Combine(_copyDirectory, "main.js"), script.Replace(BindAnyHost, BindLoopback, StringComparison.Ordinal));
        File.Copy(Path.Combine(package, "server.json"), Path.Combine(_copyDirectory, "server.json"));

        int plainPort = TestPeers.GetFreePort();
        int tlsPort = TestPeers.GetFreePort();
        const string fast = "50ms";
        _process = await NodeProcess.StartAsync(
            [TestPeers.PathOf("kinesis-emulator-local.js"), _copyDirectory],
            "Starting Kinesis Plain Mock Service",
            new Dictionary<string, string>
            {
                ["KINESIS_MOCK_PLAIN_PORT"] = plainPort.ToString(CultureInfo.InvariantCulture),
                ["KINESIS_MOCK_TLS_PORT"] = tlsPort.ToString(CultureInfo.InvariantCulture),
                ["CREATE_STREAM_DURATION"] = fast,
                ["DELETE_STREAM_DURATION"] = fast,
                ["REGISTER_STREAM_CONSUMER_DURATION"] = fast,
                ["DEREGISTER_STREAM_CONSUMER_DURATION"] = fast,
                ["MERGE_SHARDS_DURATION"] = fast,
                ["SPLIT_SHARD_DURATION"] = fast,
                ["UPDATE_SHARD_COUNT_DURATION"] = fast,
                ["SHARD_LIMIT"] = "100",
                ["LOG_LEVEL"] = "INFO",
            },
            TimeSpan.FromSeconds(60));
        Endpoint = new Uri($"http://127.0.0.1:{plainPort}");
        _admin = new KinesisEmulatorAdmin(Endpoint);

        // The log line comes just before the socket binds: wait until a request is answered.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await _admin.CallAsync("ListStreams", []);
                return;
            }
            catch (HttpRequestException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Kills kinesis-local by its process id and deletes the patched copy.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        _admin?.Dispose();
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_copyDirectory is not null)
        {
            try
            {
                Directory.Delete(_copyDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder is harmless.
            }
        }
    }
}
