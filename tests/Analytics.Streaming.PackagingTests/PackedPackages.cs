using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text;

namespace Analytics.Streaming.PackagingTests;

/// <summary>
/// Runs <c>dotnet pack Analytics.Streaming.sln</c> once, as the README tells users to, into a temporary folder, and
/// exposes the packages it produced. Shared by every test of <see cref="PackagesTests"/>.
/// </summary>
/// <remarks>
/// The pack runs in the repository itself (its own bin and obj folders), with the configuration these tests were built
/// in, and without restoring: the solution's restore (or this project's references to every package project) has
/// restored them already. A Release build is already a ContinuousIntegrationBuild, so nothing is compiled again; in
/// Debug the pack compiles the package projects once more, with deterministic paths.
/// </remarks>
public sealed class PackedPackages : IAsyncLifetime
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);
    private DirectoryInfo? _output;

    /// <summary>Gets the repository root (the folder holding Analytics.Streaming.sln).</summary>
    public string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Gets the commit checked out in the repository (<c>git rev-parse HEAD</c>).</summary>
    public string HeadCommit { get; private set; } = "";

    /// <summary>Gets the names of the package projects: one folder per package under src/.</summary>
    public IReadOnlyList<string> PackageProjects { get; private set; } = [];

    /// <summary>Gets the paths of the .nupkg files produced.</summary>
    public IReadOnlyList<string> Packages { get; private set; } = [];

    /// <summary>Gets the paths of the .snupkg files produced.</summary>
    public IReadOnlyList<string> SymbolPackages { get; private set; } = [];

    /// <summary>Gets how long the pack took.</summary>
    public TimeSpan PackDuration { get; private set; }

    /// <summary>Packs the solution; fails with the full output of <c>dotnet pack</c> when it fails.</summary>
    /// <returns>A task that completes when the packages are there.</returns>
    public async ValueTask InitializeAsync()
    {
        PackageProjects = [.. Directory.EnumerateFiles(Path.Combine(RepositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order(StringComparer.Ordinal)];

        HeadCommit = (await RunAsync("git", ["rev-parse", "HEAD"], RepositoryRoot, TimeSpan.FromMinutes(1)).ConfigureAwait(false)).Trim();

        _output = Directory.CreateTempSubdirectory("analytics-streaming-pack-");
        string configuration = Configuration;
        var clock = Stopwatch.StartNew();
        await RunAsync(
            DotnetHost(),
            ["pack", "Analytics.Streaming.sln", "-c", configuration, "--no-restore", "-o", _output.FullName, "-nodeReuse:false", "-tl:off", "-v:minimal"],
            RepositoryRoot,
            PackTimeout).ConfigureAwait(false);
        PackDuration = clock.Elapsed;

        Packages = [.. Directory.EnumerateFiles(_output.FullName, "*.nupkg").Order(StringComparer.Ordinal)];
        SymbolPackages = [.. Directory.EnumerateFiles(_output.FullName, "*.snupkg").Order(StringComparer.Ordinal)];
    }

    /// <summary>Deletes the temporary folder.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        _output?.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>Returns the id of the package at <paramref name="path"/> (.nupkg or .snupkg), from its nuspec's name.</summary>
    /// <param name="path">The package path.</param>
    /// <returns>The package id, such as <c>Analytics.Streaming</c>.</returns>
    public static string ReadId(string path)
    {
        using ZipArchive zip = ZipFile.OpenRead(path);
        ZipArchiveEntry nuspec = zip.Entries.Single(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.Name.EndsWith(".nuspec", StringComparison.Ordinal));
        return Path.GetFileNameWithoutExtension(nuspec.Name);
    }

    /// <summary>Gets the configuration these tests were built in (Release in CI).</summary>
    internal static string Configuration => typeof(PackedPackages).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "Configuration").Value ?? "Release";

    /// <summary>Returns the repository root: the folder above this assembly that holds Analytics.Streaming.sln.</summary>
    /// <returns>Its path.</returns>
    internal static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Analytics.Streaming.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Analytics.Streaming.sln above {AppContext.BaseDirectory}.");
    }

    // The SDK tells child processes which dotnet it runs on; fall back to the one on PATH.
    internal static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    // Runs a command in a folder and returns its standard output; throws with all its output when it fails.
    internal static async Task<string> RunAsync(string fileName, IReadOnlyList<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // This process may run under an MSBuild (dotnet test): do not let its settings leak into the child build.
        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        var output = new StringBuilder();
        var standardOutput = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            Append(output, e.Data);
            Append(standardOutput, e.Data);
        };
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        string command = $"{fileName} {string.Join(' ', arguments)}";
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            // Also waits until both output streams are read to their end.
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw new TimeoutException($"`{command}` did not finish within {timeout}; its output:\n{Snapshot(output)}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"`{command}` in {workingDirectory} exited with code {process.ExitCode}; its output:\n{Snapshot(output)}"));
        }

        return Snapshot(standardOutput);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
