using System.Globalization;
using Xunit;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// kinesalite (an in-memory Kinesis Data Streams emulator) on a free 127.0.0.1 port, started once per test run as an
/// xunit assembly fixture (<c>[assembly: AssemblyFixture(typeof(KinesaliteServer))]</c>) and stopped by its process id.
/// </summary>
/// <remarks>
/// kinesalite covers ListShards, PutRecord(s), GetShardIterator, GetRecords, SplitShard and MergeShards, but has no
/// UpdateShardCount and no enhanced fan-out (use <see cref="KinesisLocalServer"/> for those). Give every test its own
/// stream (<see cref="NewStreamName"/>) so tests can run in parallel.
/// </remarks>
public sealed class KinesaliteServer : IAsyncLifetime
{
    private static int _streamCounter;
    private NodeProcess? _process;
    private KinesisEmulatorAdmin? _admin;

    /// <summary>Gets the plain HTTP endpoint, such as <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Gets the control-plane client for streams and resharding.</summary>
    public KinesisEmulatorAdmin Admin => _admin ?? throw new InvalidOperationException("The kinesalite fixture is not started.");

    /// <summary>Returns a stream name no other test of this run uses.</summary>
    /// <param name="prefix">A readable prefix, such as the test's subject.</param>
    /// <returns>The name.</returns>
    public static string NewStreamName(string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{Interlocked.Increment(ref _streamCounter)}-{Guid.NewGuid():N}")[..Math.Min(prefix.Length + 20, 128)];

    /// <summary>Starts kinesalite and waits until it listens.</summary>
    /// <returns>A task that completes when the emulator is ready.</returns>
    public async ValueTask InitializeAsync()
    {
        int port = TestPeers.GetFreePort();
        _process = await NodeProcess.StartAsync(
            [TestPeers.PathOf("kinesis-emulator-kinesalite.js"), port.ToString(CultureInfo.InvariantCulture)],
            "kinesalite listening on");
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        _admin = new KinesisEmulatorAdmin(Endpoint);
    }

    /// <summary>Stops kinesalite by its process id.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        _admin?.Dispose();
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
