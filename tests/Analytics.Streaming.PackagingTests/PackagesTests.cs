using System.Collections.Immutable;
using System.Globalization;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace Analytics.Streaming.PackagingTests;

/// <summary>
/// What `dotnet pack` produces for every package: Source Link to this repository on GitHub at the built commit,
/// deterministic (/_/) source paths, symbols that match the binaries, and the metadata nuget.org shows.
/// </summary>
public sealed class PackagesTests(PackedPackages packed) : IClassFixture<PackedPackages>
{
    private const string RepositoryUrl = "https://github.com/analytics-streaming/analytics-streaming";

    // Kinds of custom debug information in Portable PDBs (the Portable PDB format specification).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    [Fact]
    public void Pack_Solution_ProducesPackageAndSymbolPackageForEverySourceProject()
    {
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dotnet pack took {packed.PackDuration.TotalSeconds:F1} s"));
        Assert.NotEmpty(packed.PackageProjects);
        Assert.Equal(packed.PackageProjects, packed.Packages.Select(PackedPackages.ReadId).Order(StringComparer.Ordinal));
        Assert.Equal(packed.PackageProjects, packed.SymbolPackages.Select(PackedPackages.ReadId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Pack_SymbolPackages_PdbsMapSourcesToGitHubAtTheBuiltCommit()
    {
        string expected = $"https://raw.githubusercontent.com/analytics-streaming/analytics-streaming/{packed.HeadCommit}/*";
        var failures = new List<string>();
        foreach (var (name, pdb) in Pdbs())
        {
            using var provider = MetadataReaderProvider.FromPortablePdbImage(pdb);
            MetadataReader reader = provider.GetMetadataReader();
            string[] sourceLinks = [.. reader.CustomDebugInformation
                .Select(reader.GetCustomDebugInformation)
                .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
                .Select(c => Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))];
            if (sourceLinks.Length != 1)
            {
                failures.Add($"{name}: {sourceLinks.Length} Source Link entries");
                continue;
            }

            using JsonDocument json = JsonDocument.Parse(sourceLinks[0]);
            var documents = json.RootElement.GetProperty("documents").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
            if (documents.Count != 1 || !documents.TryGetValue("/_/*", out string? url) || url != expected)
            {
                failures.Add($"{name}: Source Link {sourceLinks[0]}, expected {{\"/_/*\":\"{expected}\"}}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Pack_SymbolPackages_DocumentPathsAreDeterministicAndGeneratedSourcesEmbedded()
    {
        string[] localPaths = ["/work/", "/tmp/", "/root/", "/home/", "/Users/", ":\\", packed.RepositoryRoot];
        var failures = new List<string>();
        foreach (var (name, pdb) in Pdbs())
        {
            using var provider = MetadataReaderProvider.FromPortablePdbImage(pdb);
            MetadataReader reader = provider.GetMetadataReader();
            var embedded = reader.CustomDebugInformation
                .Select(reader.GetCustomDebugInformation)
                .Where(c => reader.GetGuid(c.Kind) == EmbeddedSourceKind)
                .Select(c => c.Parent)
                .ToHashSet();
            Assert.NotEmpty(reader.Documents);
            var local = new List<string>();
            foreach (DocumentHandle handle in reader.Documents)
            {
                string path = reader.GetString(reader.GetDocument(handle).Name);
                if (!path.StartsWith("/_/", StringComparison.Ordinal) || localPaths.Any(p => path.Contains(p, StringComparison.OrdinalIgnoreCase)))
                {
                    local.Add(path);
                }

                // Files generated into obj/ are not on GitHub: the debugger can only read them from the PDB.
                if (path.Contains("/obj/", StringComparison.Ordinal) && !embedded.Contains(handle))
                {
                    failures.Add($"{name}: generated document {path} is not embedded");
                }
            }

            if (local.Count > 0)
            {
                failures.Add($"{name}: {local.Count} of {reader.Documents.Count} document paths are not under /_/ or are local, such as {string.Join(", ", local.Take(3))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Pack_Packages_AssembliesAreReproducibleAndMatchTheirSymbols()
    {
        var pdbs = Pdbs().ToDictionary(p => p.Name, p => p.Image);
        var failures = new List<string>();
        int assemblies = 0;
        foreach (string package in packed.Packages)
        {
            using ZipArchive zip = ZipFile.OpenRead(package);
            Assert.DoesNotContain(zip.Entries, e => e.FullName.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase));
            foreach (ZipArchiveEntry entry in zip.Entries.Where(e => e.FullName.StartsWith("lib/", StringComparison.Ordinal) && e.FullName.EndsWith(".dll", StringComparison.Ordinal)))
            {
                assemblies++;
                string name = $"{Path.GetFileName(package)}:{entry.FullName}";
                using var pe = new PEReader(ReadAll(entry));
                ImmutableArray<DebugDirectoryEntry> debug = pe.ReadDebugDirectory();
                if (!debug.Any(d => d.Type == DebugDirectoryEntryType.Reproducible))
                {
                    failures.Add($"{name}: not built deterministically");
                }

                DebugDirectoryEntry codeView = debug.Single(d => d.Type == DebugDirectoryEntryType.CodeView);
                CodeViewDebugDirectoryData data = pe.ReadCodeViewDebugDirectoryData(codeView);
                if (!data.Path.StartsWith("/_/", StringComparison.Ordinal))
                {
                    failures.Add($"{name}: PDB path {data.Path}");
                }

                string pdbName = $"{Path.GetFileNameWithoutExtension(package)}.snupkg:{Path.ChangeExtension(entry.FullName, ".pdb")}";
                if (!pdbs.TryGetValue(pdbName, out ImmutableArray<byte> pdb))
                {
                    failures.Add($"{name}: no {pdbName}");
                    continue;
                }

                using var provider = MetadataReaderProvider.FromPortablePdbImage(pdb);
                ImmutableArray<byte> id = provider.GetMetadataReader().DebugMetadataHeader!.Id;
                if (new Guid(id.AsSpan(0, 16)) != data.Guid || BitConverter.ToUInt32(id.AsSpan(16, 4)) != codeView.Stamp)
                {
                    failures.Add($"{name}: {pdbName} belongs to another build");
                }
            }
        }

        Assert.Equal(packed.PackageProjects.Count, assemblies);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Pack_Packages_CarryReadmeLicenseDescriptionTagsAndRepositoryCommit()
    {
        var failures = new List<string>();
        foreach (string package in packed.Packages)
        {
            string name = Path.GetFileName(package);
            using ZipArchive zip = ZipFile.OpenRead(package);
            ZipArchiveEntry nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/', StringComparison.Ordinal));
            XElement metadata;
            using (Stream stream = nuspecEntry.Open())
            {
                metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            }

            XElement? Element(string localName) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == localName);

            string? readme = Element("readme")?.Value;
            ZipArchiveEntry? readmeEntry = readme is null ? null : zip.GetEntry(readme);
            if (readmeEntry is null || readmeEntry.Length == 0)
            {
                failures.Add($"{name}: readme '{readme}' missing or empty in the package");
            }

            XElement? license = Element("license");
            if (license?.Attribute("type")?.Value != "expression" || license.Value != "MIT")
            {
                failures.Add($"{name}: license {license}");
            }

            string description = Element("description")?.Value ?? "";
            if (description.Length < 20 || description == "Package Description")
            {
                failures.Add($"{name}: description '{description}'");
            }

            if (string.IsNullOrWhiteSpace(Element("tags")?.Value))
            {
                failures.Add($"{name}: no tags");
            }

            if (Element("projectUrl")?.Value != RepositoryUrl)
            {
                failures.Add($"{name}: projectUrl {Element("projectUrl")}");
            }

            XElement? repository = Element("repository");
            if (repository?.Attribute("type")?.Value != "git"
                || repository.Attribute("url")?.Value != RepositoryUrl
                || repository.Attribute("commit")?.Value != packed.HeadCommit)
            {
                failures.Add($"{name}: repository {repository}, expected git {RepositoryUrl} at {packed.HeadCommit}");
            }
        }

        Assert.NotEmpty(packed.Packages);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    // Every PDB in the symbol packages, named "<package>.snupkg:<path in the package>".
    private IEnumerable<(string Name, ImmutableArray<byte> Image)> Pdbs()
    {
        foreach (string symbols in packed.SymbolPackages)
        {
            using ZipArchive zip = ZipFile.OpenRead(symbols);
            var pdbs = zip.Entries.Where(e => e.FullName.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.NotEmpty(pdbs);
            foreach (ZipArchiveEntry entry in pdbs)
            {
                using MemoryStream image = ReadAll(entry);
                yield return ($"{Path.GetFileName(symbols)}:{entry.FullName}", ImmutableArray.Create(image.ToArray()));
            }
        }
    }

    private static MemoryStream ReadAll(ZipArchiveEntry entry)
    {
        var copy = new MemoryStream();
        using (Stream stream = entry.Open())
        {
            stream.CopyTo(copy);
        }

        copy.Position = 0;
        return copy;
    }
}
