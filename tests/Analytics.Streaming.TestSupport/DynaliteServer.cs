using System.Globalization;
using Xunit;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// dynalite (an in-memory DynamoDB emulator) on a free 127.0.0.1 port, started once per test run as an xunit assembly
/// fixture (<c>[assembly: AssemblyFixture(typeof(DynaliteServer))]</c>) and stopped by its process id.
/// </summary>
/// <remarks>
/// dynalite covers tables, items, conditional writes, BatchWriteItem/BatchGetItem, Query and Scan; it has no
/// TransactWriteItems, no PartiQL and no UpdateTimeToLive, and does not verify signatures (it still wants a well-formed
/// SigV4 header). Give every test its own table (<see cref="NewTableName"/>) so tests can run in parallel.
/// </remarks>
public sealed class DynaliteServer : IAsyncLifetime
{
    private static int _tableCounter;
    private NodeProcess? _process;

    /// <summary>Gets the plain HTTP endpoint, such as <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Returns a table name no other test of this run uses.</summary>
    /// <param name="prefix">A readable prefix, such as the test's subject.</param>
    /// <returns>The name (at most 255 characters, letters, digits and dashes).</returns>
    public static string NewTableName(string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{Interlocked.Increment(ref _tableCounter)}-{Guid.NewGuid():N}");

    /// <summary>Starts dynalite and waits until it listens.</summary>
    /// <returns>A task that completes when the emulator is ready.</returns>
    public async ValueTask InitializeAsync()
    {
        int port = TestPeers.GetFreePort();
        _process = await NodeProcess.StartAsync(
            [TestPeers.PathOf("dynamodb-emulator-dynalite.js"), port.ToString(CultureInfo.InvariantCulture)],
            "dynalite listening on");
        Endpoint = new Uri($"http://127.0.0.1:{port}");
    }

    /// <summary>Stops dynalite by its process id.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
