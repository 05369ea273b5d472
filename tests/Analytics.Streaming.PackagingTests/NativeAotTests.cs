using System.Globalization;
using System.Text.RegularExpressions;

namespace Analytics.Streaming.PackagingTests;

/// <summary>
/// The core under Native AOT, as an app uses it: a small app with a fan-out of two pipelines of one shape, a filter, a
/// <c>SelectMany</c>, sliding and tumbling windows is built for the JIT and published with <c>PublishAot</c> (trim and
/// AOT warnings are errors there), and the native binary must print exactly what the JIT build prints.
/// </summary>
/// <remarks>
/// The app references the core assembly these tests were built against (and the one package it depends on), not a
/// packed package: a package of the same version already in the machine's NuGet cache would be used instead of the one
/// just built. Publishing needs clang and zlib, which the README's test command installs.
/// </remarks>
public sealed class NativeAotTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);

    private const string Program = """
        using System.Globalization;
        using Analytics.Streaming;

        var clicks = Enumerable.Range(0, 20_000)
            .Select(i => new Click($"/p{i % 7}", $"r{i % 3}", 1_767_225_600_000 + (i * 37L) - (i % 5 * 400), i % 11))
            .ToList();
        var lines = new List<string>();

        ISink<WindowResult<string, TResult>> Print<TResult>(Func<TResult, string> format)
            => Sinks.Callback<WindowResult<string, TResult>>((results, _) =>
            {
                lock (lines)
                {
                    foreach (var r in results.Span)
                    {
                        lines.Add($"{r.Id} {r.RecordCount} {r.Reason} {format(r.Value)}");
                    }
                }

                return ValueTask.CompletedTask;
            });

        StreamPipeline<Click, string, (long Count, double Average)> PerKey(string name, Func<Click, string> key)
            => StreamPipeline.Create<Click>(new() { Name = name })
                .WithEventTime(c => c.UnixMs, TimeSpan.FromSeconds(2))
                .Where(c => c.Millis != 3)
                .KeyBy(c => key(c))
                .Window(WindowSpec.Sliding(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(20)))
                .Aggregate(a => a.Count().And(a.Average(c => c.Millis)))
                .To(Print<(long Count, double Average)>(v => string.Create(CultureInfo.InvariantCulture, $"{v.Count} {v.Average:F4}")))
                .Build();

        var letters = StreamPipeline.Create<Click>(new() { Name = "letters" })
            .WithEventTime(c => c.UnixMs, TimeSpan.FromSeconds(2))
            .SelectMany(c => c.Page.ToCharArray())
            .KeyBy(letter => letter.ToString())
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count())
            .To(Print<long>(count => count.ToString(CultureInfo.InvariantCulture)))
            .Build();

        await StreamPipeline.RunAsync(InMemorySource<Click>.FromEvents(clicks), [PerKey("pages", c => c.Page), PerKey("referrers", c => c.Referrer), letters]);
        foreach (string line in lines.Order(StringComparer.Ordinal))
        {
            Console.WriteLine(line);
        }

        internal sealed record Click(string Page, string Referrer, long UnixMs, int Millis);
        """;

    [Fact]
    public async Task PublishAot_AppWithAFanOutOfPipelines_PrintsWhatTheJitBuildPrints()
    {
        string root = PackedPackages.FindRepositoryRoot();
        string core = Path.Combine(root, "src", "Analytics.Streaming", "bin", PackedPackages.Configuration, "net10.0", "Analytics.Streaming.dll");
        Assert.True(File.Exists(core), $"The core assembly is built: {core}");
        var app = Directory.CreateTempSubdirectory("analytics-streaming-aot-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(app.FullName, "AotApp.csproj"), Project(core, LoggingVersion(root)), TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(app.FullName, "Program.cs"), Program, TestContext.Current.CancellationToken);
            string dotnet = PackedPackages.DotnetHost();

            await PackedPackages.RunAsync(dotnet, ["build", "-c", "Release", "-nodeReuse:false", "-tl:off", "-v:minimal"], app.FullName, BuildTimeout);
            string jit = await PackedPackages.RunAsync(dotnet, [Path.Combine(app.FullName, "bin", "Release", "net10.0", "AotApp.dll")], app.FullName, TimeSpan.FromMinutes(2));
            string native = Path.Combine(app.FullName, "native");
            await PackedPackages.RunAsync(
                dotnet,
                ["publish", "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", native, "-nodeReuse:false", "-tl:off", "-v:minimal"],
                app.FullName,
                BuildTimeout);
            string aot = await PackedPackages.RunAsync(Path.Combine(native, "AotApp"), [], app.FullName, TimeSpan.FromMinutes(2));

            string[] results = jit.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{results.Length} results, JIT and Native AOT"));
            Assert.All(["pages|", "referrers|", "letters|"], name => Assert.Contains(results, r => r.StartsWith(name, StringComparison.Ordinal)));
            Assert.Equal(jit, aot);
        }
        finally
        {
            app.Delete(recursive: true);
        }
    }

    private static string Project(string core, string loggingVersion) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <InvariantGlobalization>true</InvariantGlobalization>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <Reference Include="{core}" />
            <PackageReference Include="Microsoft.Extensions.Logging.Abstractions" Version="{loggingVersion}" />
          </ItemGroup>
        </Project>
        """;

    // The version the core is built with, from the repository's central package versions.
    private static string LoggingVersion(string root)
    {
        string versions = File.ReadAllText(Path.Combine(root, "Directory.Packages.props"));
        var match = Regex.Match(versions, "<PackageVersion Include=\"Microsoft.Extensions.Logging.Abstractions\" Version=\"([^\"]+)\"");
        Assert.True(match.Success, "Directory.Packages.props names the version of Microsoft.Extensions.Logging.Abstractions.");
        return match.Groups[1].Value;
    }
}
