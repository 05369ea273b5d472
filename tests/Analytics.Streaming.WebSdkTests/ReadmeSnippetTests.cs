using System.Text.RegularExpressions;
using Analytics.Streaming.Testing;
using ReadmeSnippets;

namespace Analytics.Streaming.WebSdkTests;

/// <summary>
/// The README snippets compiled in this project (under <c>Microsoft.NET.Sdk.Web</c>) are the README's text: every
/// region marked <c>// &lt;readme file="..." block="n"&gt;</c> in Snippets/ equals, line for line (indentation and blank
/// lines aside), the n-th C# block of that README, so a README edit that no longer compiles fails the build of this
/// project's copy or this test.
/// </summary>
public sealed partial class ReadmeSnippetTests
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string, int> MarkedBlocks()
    {
        var data = new TheoryData<string, int>();
        foreach (var (file, block) in Regions().Keys.Order())
        {
            data.Add(file, block);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MarkedBlocks))]
    public void Snippet_EqualsReadmeBlock(string file, int block)
    {
        var blocks = CSharpBlock().Matches(File.ReadAllText(Path.Combine(Root, file))).Select(m => m.Groups[1].Value).ToArray();
        Assert.True(block <= blocks.Length, $"{file} has {blocks.Length} C# blocks, not {block}.");

        Assert.Equal(Normalize(blocks[block - 1]), Normalize(Regions()[(file, block)]));
    }

    [Fact]
    public void MarkedBlocks_CoverTheQuickStartsMinimalWorkersAndThePackageExamples()
    {
        Assert.Superset(
            new HashSet<(string, int)>
            {
                ("README.md", 1), ("README.md", 2), ("src/Analytics.Streaming/README.md", 1), ("src/Analytics.Streaming.Hosting/README.md", 1),
                ("src/Analytics.Streaming.Kinesis/README.md", 1), ("src/Analytics.Streaming.Lambda/README.md", 1), ("src/Analytics.Streaming.S3/README.md", 1),
                ("src/Analytics.Streaming.Parquet/README.md", 1), ("src/Analytics.Streaming.DynamoDB/README.md", 1), ("src/Analytics.Streaming.OpenSearch/README.md", 1),
                ("src/Analytics.Streaming.Scoring/README.md", 1), ("src/Analytics.Streaming.Testing/README.md", 1),
                ("src/Analytics.Streaming.Kinesis/README.md", 2), ("src/Analytics.Streaming.Kinesis/README.md", 3), ("src/Analytics.Streaming.Kinesis/README.md", 4),
                ("src/Analytics.Streaming.Lambda/README.md", 4), ("src/Analytics.Streaming.Lambda/README.md", 5), ("src/Analytics.Streaming.Lambda/README.md", 6),
                ("src/Analytics.Streaming.S3/README.md", 2), ("src/Analytics.Streaming.S3/README.md", 3),
                ("src/Analytics.Streaming.DynamoDB/README.md", 2), ("src/Analytics.Streaming.DynamoDB/README.md", 3), ("src/Analytics.Streaming.Testing/README.md", 2),
            },
            Regions().Keys.ToHashSet());
    }

    [Fact]
    public async Task RootReadmeQuickStart_CountsViewsAndVisitorsPerPageInSlidingWindows()
    {
        var t0 = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var source = InMemorySource<ClickEvent>.FromEvents(
        [
            new("/", "u1", t0, 10), new("/", "u2", t0.AddSeconds(10), 20), new("/", "u1", t0.AddSeconds(20), 30), new("/cart", "u3", t0.AddSeconds(30), 40),
        ]);
        var sink = new CollectingSink<WindowResult<string, (long, long)>>();

        await QuickStart.RootReadmeAsync(source, sink, TestContext.Current.CancellationToken);

        // Five-minute windows sliding by a minute: each event is in five windows; "/" has 3 views by 2 visitors in each.
        var home = sink.Items.Where(r => r.Key == "/").ToArray();
        Assert.Equal(5, home.Length);
        Assert.All(home, r => Assert.Equal((3L, 2L), r.Value));
        Assert.Equal(5, sink.Items.Count(r => r.Key == "/cart" && r.Value == (1L, 1L)));
    }

    private static Dictionary<(string File, int Block), string> Regions()
    {
        var regions = new Dictionary<(string, int), string>();
        foreach (string path in Directory.GetFiles(Path.Combine(Root, "tests", "Analytics.Streaming.WebSdkTests", "Snippets"), "*.cs"))
        {
            foreach (Match m in Region().Matches(File.ReadAllText(path)))
            {
                var key = (m.Groups["file"].Value, int.Parse(m.Groups["block"].Value, System.Globalization.CultureInfo.InvariantCulture));
                regions[key] = regions.GetValueOrDefault(key, string.Empty) + m.Groups["code"].Value;
            }
        }

        return regions;
    }

    private static string[] Normalize(string code) =>
        [.. code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Analytics.Streaming.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Analytics.Streaming.sln) is not above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"// <readme file=""(?<file>[^""]+)"" block=""(?<block>\d+)"">\r?\n(?<code>.*?)^\s*// </readme>", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Region();
}
