using System.Globalization;
using Xunit;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// A local SMTP server (npm <c>smtp-server</c>, from the nodemailer project) on a free 127.0.0.1 port, started once per
/// test run as an xunit assembly fixture (<c>[assembly: AssemblyFixture(typeof(SmtpServer))]</c>) and stopped by its
/// process id. It accepts any credentials over a plain connection (no STARTTLS) and stores every accepted message,
/// raw, as one <c>.eml</c> file in <see cref="Folder"/>.
/// </summary>
/// <remarks>
/// Tests share one server: give each test its own recipients (or Message-Id domain) and filter
/// <see cref="ReadMessages"/> by them.
/// </remarks>
public sealed class SmtpServer : IAsyncLifetime
{
    private NodeProcess? _process;

    /// <summary>Gets the port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>Gets the folder the messages are stored in.</summary>
    public string Folder { get; private set; } = null!;

    /// <summary>Starts the server and waits until it listens.</summary>
    /// <returns>A task that completes when the server is ready.</returns>
    public async ValueTask InitializeAsync()
    {
        Port = TestPeers.GetFreePort();
        Folder = System.IO.Directory.CreateTempSubdirectory("smtp-server-").FullName;
        _process = await NodeProcess.StartAsync(
            [TestPeers.PathOf("smtp-server.js"), Port.ToString(CultureInfo.InvariantCulture), Folder],
            "smtp-server listening on",
            onOutputLine: static _ => { });
    }

    /// <summary>Reads every message stored so far (raw bytes, one per file, in arrival order).</summary>
    /// <returns>The messages.</returns>
    public IReadOnlyList<byte[]> ReadMessages() =>
        System.IO.Directory.GetFiles(Folder, "*.eml").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();

    /// <summary>Stops the server by its process id and deletes the folder.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
