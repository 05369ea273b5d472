using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.S3.IntegrationTests;

/// <summary>One bad record never stops the stream: it goes to the error prefix with its reason, on a local folder and on s3rver.</summary>
public sealed class S3SinkBadRecordTests(S3Fixture s3)
{
    private const string TableFolder = "lake/processed/clicks/";
    private const string ErrorFolder = "lake/processed/errors/clicks/format-conversion-failed/";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static S3SinkOptions<Click> Options(IObjectStore store, KeyLayout<Click> layout) => new()
    {
        Store = store,
        Format = LineFormats.JsonLines(TestJson.Default.Click),
        TableName = "clicks",
        Prefix = "lake/",
        Zone = DataLakeZone.Processed,
        Layout = layout,
        ErrorPayload = c => Encoding.UTF8.GetBytes(c.Id),
        TimeProvider = new FakeTimeProvider(Clicks.Start), // arrival time, which dates the error objects
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteAsync_PlainLayoutDotSegmentsAndKeyOver1024Bytes_RecordsGoToErrorPrefixAndTheRestIsStored(bool onS3)
    {
        var (store, read) = await CreateAsync(onS3);
        var clicks = Clicks.Make(12);
        clicks[2] = clicks[2] with { Page = ".." };
        clicks[5] = clicks[5] with { Page = new string('x', 1100) };
        clicks[8] = clicks[8] with { Page = "." };
        clicks[9] = clicks[9] with { Page = string.Concat(Enumerable.Repeat("é", 500)) }; // 1,000 bytes of UTF-8 in 500 characters
        var options = Options(store, KeyLayout<Click>.Plain(TimePartitioning.Day, c => c.Time).PartitionBy("page", c => c.Page));
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(clicks.AsMemory(0, 6), Ct);
        await sink.WriteAsync(clicks.AsMemory(6), Ct);
        await sink.FlushAsync(Ct);

        var objects = await read();
        var stored = objects.Where(o => o.Key.StartsWith(TableFolder, StringComparison.Ordinal))
            .SelectMany(o => Lines(o.Value)).Select(l => JsonSerializer.Deserialize(l, TestJson.Default.Click)!).OrderBy(c => c.UserId).ToList();
        Assert.Equal(clicks.Where((_, i) => i is not (2 or 5 or 8 or 9)), stored);
        var error = Assert.Single(objects, o => o.Key.StartsWith(ErrorFolder + "2024/05/01/10/part-", StringComparison.Ordinal));
        var lines = Lines(error.Value).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([clicks[2].Id, clicks[5].Id, clicks[8].Id, clicks[9].Id], lines.Select(l => Encoding.UTF8.GetString(l.GetProperty("rawData").GetBytesFromBase64())));
        Assert.All(lines, l => Assert.Equal("InvalidObjectKey", l.GetProperty("errorCode").GetString()));
        Assert.Contains("'..' segments", lines[0].GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Contains("longer than 1024", lines[1].GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Contains("longer than 1024", lines[3].GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, sink.Statistics.ErrorRecords);
    }

    [Fact]
    public async Task WriteAsync_HiveLayoutDotDotValue_StoredUnderItsOwnFolder()
    {
        var (store, read) = await CreateAsync(onS3: false);
        var clicks = Clicks.Make(3).Select(c => c with { Page = ".." }).ToArray();
        await using var sink = new S3Sink<Click>(Options(store, KeyLayout<Click>.Hive(TimePartitioning.None).PartitionBy("page", c => c.Page)));

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var key = Assert.Single((await read()).Keys);
        Assert.StartsWith(TableFolder + "page=../part-", key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_PartitionValueLongerThanAFileNameOnLocalFolder_RecordGoesToErrorPrefix()
    {
        var (store, read) = await CreateAsync(onS3: false);
        var clicks = Clicks.Make(4).Select((c, i) => c with { Page = $"page-{i}" }).ToArray();
        clicks[1] = clicks[1] with { Page = new string('y', 300) }; // a 1,024-byte key is fine, a 305-byte folder name is not
        await using var sink = new S3Sink<Click>(Options(store, KeyLayout<Click>.Hive(TimePartitioning.None).PartitionBy("page", c => c.Page)));

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var objects = await read();
        Assert.Equal(3, objects.Where(o => o.Key.StartsWith(TableFolder, StringComparison.Ordinal)).Sum(o => Lines(o.Value).Count()));
        var line = JsonDocument.Parse(Lines(Assert.Single(objects, o => o.Key.StartsWith(ErrorFolder, StringComparison.Ordinal)).Value).Single()).RootElement;
        Assert.Contains("file-name limit", line.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_LoneSurrogateInPartitionValue_RecordGoesToErrorPrefixAsValidJson()
    {
        var (store, read) = await CreateAsync(onS3: false);
        var clicks = Clicks.Make(3);
        clicks[0] = clicks[0] with { Page = "bad\uD800page" };
        await using var sink = new S3Sink<Click>(Options(store, KeyLayout<Click>.Hive(TimePartitioning.None).PartitionBy("page", c => c.Page)));

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var objects = await read();
        var line = JsonDocument.Parse(Lines(Assert.Single(objects, o => o.Key.StartsWith(ErrorFolder, StringComparison.Ordinal)).Value).Single()).RootElement;
        Assert.Equal("InvalidObjectKey", line.GetProperty("errorCode").GetString());
        Assert.Contains("lone surrogate", line.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, objects.Where(o => o.Key.StartsWith(TableFolder, StringComparison.Ordinal)).Sum(o => Lines(o.Value).Count()));
    }

    [Fact]
    public async Task WriteAsync_ErrorPayloadSelectorThrows_RecordStillInErrorPrefixWithEmptyRawData()
    {
        var (store, read) = await CreateAsync(onS3: false);
        var clicks = Clicks.Make(3);
        clicks[1] = clicks[1] with { Page = ".." };
        var options = Options(store, KeyLayout<Click>.Plain(TimePartitioning.None).PartitionBy("page", c => c.Page));
        options.ErrorPayload = _ => throw new FormatException("no bytes for you");
        await using var sink = new S3Sink<Click>(options);

        await sink.WriteAsync(clicks, Ct);
        await sink.FlushAsync(Ct);

        var objects = await read();
        var line = JsonDocument.Parse(Lines(Assert.Single(objects, o => o.Key.StartsWith(ErrorFolder, StringComparison.Ordinal)).Value).Single()).RootElement;
        Assert.Empty(line.GetProperty("rawData").GetBytesFromBase64());
        Assert.Contains("FormatException: no bytes for you", line.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, sink.Statistics.RecordsWritten);
    }

    [Fact]
    public async Task WriteAsync_JsonLinesValueJsonCannotHold_RecordGoesToErrorPrefix()
    {
        string root = s3.CreateFolder();
        Reading[] readings =
        [
            new("a", Clicks.Start, 1.5),
            new("b", Clicks.Start, double.NaN),
            new("c", Clicks.Start, 2.5),
        ];
        await using var sink = new S3Sink<Reading>(new S3SinkOptions<Reading>
        {
            Store = new LocalFolderObjectStore(root),
            Format = LineFormats.JsonLines(TestJson.Default.Reading),
            TableName = "readings",
            Layout = KeyLayout<Reading>.Unpartitioned(),
        });

        await sink.WriteAsync(readings, Ct);
        await sink.FlushAsync(Ct);

        string table = Assert.Single(Directory.GetFiles(Path.Combine(root, "readings")));
        Assert.Equal(["a", "c"], File.ReadAllLines(table).Select(l => JsonSerializer.Deserialize(l, TestJson.Default.Reading)!.Sensor));
        string error = Assert.Single(Directory.GetFiles(Path.Combine(root, "errors"), "*.json", SearchOption.AllDirectories));
        var line = JsonDocument.Parse(File.ReadAllLines(error).Single()).RootElement;
        Assert.Equal("InvalidValue", line.GetProperty("errorCode").GetString());
    }

    private static IEnumerable<string> Lines(byte[] bytes) => Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A store under test and a way to read everything in it back, independently of the store's own reads.</summary>
    private async Task<(IObjectStore Store, Func<Task<Dictionary<string, byte[]>>> Read)> CreateAsync(bool onS3)
    {
        if (onS3)
        {
            string bucket = await s3.CreateBucketAsync();
            return (new S3ObjectStore(s3.Client, bucket), async () =>
            {
                var objects = new Dictionary<string, byte[]>();
                foreach (string key in await s3.ListKeysAsync(bucket))
                {
                    objects[key] = await s3.ReadAsync(bucket, key);
                }

                return objects;
            });
        }

        string root = s3.CreateFolder();
        return (new LocalFolderObjectStore(root), () => Task.FromResult(
            Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), File.ReadAllBytes)));
    }
}
