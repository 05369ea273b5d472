using System.Net;
using System.Net.Sockets;

namespace Analytics.Streaming.TestSupport;

/// <summary>Locates the npm test peers (tests/peers) and hands out free loopback ports.</summary>
public static class TestPeers
{
    private static readonly Lazy<string> PeersDirectory = new(Locate);

    /// <summary>Gets the absolute path of tests/peers, whose node_modules the README's test command installs.</summary>
    public static string Directory => PeersDirectory.Value;

    /// <summary>Gets a path inside tests/peers.</summary>
    /// <param name="relative">The relative path, such as <c>kinesalite.js</c>.</param>
    /// <returns>The absolute path.</returns>
    public static string PathOf(string relative) => Path.Combine(Directory, relative);

    /// <summary>Returns a TCP port that is free on 127.0.0.1 right now.</summary>
    /// <returns>The port.</returns>
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "peers");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                if (!System.IO.Directory.Exists(Path.Combine(candidate, "node_modules")))
                {
                    throw new InvalidOperationException(
                        $"The npm test peers are not installed in {candidate}. Run the README's test command, which installs them with 'npm ci --prefix tests/peers'.");
                }

                return candidate;
            }
        }

        throw new InvalidOperationException($"Could not find tests/peers/package.json above {AppContext.BaseDirectory}.");
    }
}
