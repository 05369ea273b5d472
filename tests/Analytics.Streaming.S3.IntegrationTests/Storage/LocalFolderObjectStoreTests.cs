namespace Analytics.Streaming.S3.IntegrationTests.Storage;

public sealed class LocalFolderObjectStoreTests(S3Fixture s3)
{
    [Fact]
    public async Task PutObjectAsync_NestedKey_FileAtPathWithSameBytesAndNoTemporaryLeft()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        byte[] bytes = [1, 2, 3, 4];

        await store.PutObjectAsync("t/year=2024/a.bin", new MemoryStream(bytes), "application/octet-stream", TestContext.Current.CancellationToken);

        string path = Path.Combine(root, "t", "year=2024", "a.bin");
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public async Task StartMultipartUploadAsync_RepeatedPart_ReplacesThatPart()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        var ct = TestContext.Current.CancellationToken;

        await using var upload = await store.StartMultipartUploadAsync("m.bin", "application/octet-stream", ct);
        await upload.UploadPartAsync(1, new MemoryStream([1, 1]), ct);
        await upload.UploadPartAsync(2, new MemoryStream([9, 9, 9]), ct);
        await upload.UploadPartAsync(2, new MemoryStream([2, 2]), ct);
        Assert.False(File.Exists(Path.Combine(root, "m.bin")));
        await upload.CompleteAsync(ct);

        Assert.Equal([1, 1, 2, 2], await File.ReadAllBytesAsync(Path.Combine(root, "m.bin"), ct));
    }

    [Fact]
    public async Task AbortAsync_AfterParts_NoFileRemains()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        var ct = TestContext.Current.CancellationToken;

        var upload = await store.StartMultipartUploadAsync("x/m.bin", "application/octet-stream", ct);
        await upload.UploadPartAsync(1, new MemoryStream([1]), ct);
        await upload.AbortAsync(ct);

        Assert.Empty(Directory.GetFiles(root, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("../escape.bin")]
    [InlineData("/absolute.bin")]
    [InlineData("a//b.bin")]
    public async Task PutObjectAsync_UnsafeKey_Throws(string key)
    {
        var store = new LocalFolderObjectStore(s3.CreateFolder());

        await Assert.ThrowsAsync<ArgumentException>(
            () => store.PutObjectAsync(key, new MemoryStream([1]), "application/octet-stream", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ListKeysAsync_PrefixInsideAFolder_OrdinalKeysWithoutTemporaryFiles()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        var ct = TestContext.Current.CancellationToken;
        foreach (string key in new[] { "t/b/2.bin", "t/b/10.bin", "t/a.bin", "t/bz.bin", "u/c.bin" })
        {
            await store.PutObjectAsync(key, new MemoryStream([1]), "application/octet-stream", ct);
        }

        await using var open = await store.StartMultipartUploadAsync("t/b/open.bin", "application/octet-stream", ct);
        await open.UploadPartAsync(1, new MemoryStream([1]), ct);

        Assert.Equal(["t/b/10.bin", "t/b/2.bin", "t/bz.bin"], await store.ListKeysAsync("t/b", ct));
        Assert.Equal(["t/b/10.bin", "t/b/2.bin"], await store.ListKeysAsync("t/b/", ct));
        Assert.Empty(await store.ListKeysAsync("missing/", ct));
    }

    [Fact]
    public async Task GetAndDeleteObjectAsync_MissingKey_NullAndNoError()
    {
        var store = new LocalFolderObjectStore(s3.CreateFolder());
        var ct = TestContext.Current.CancellationToken;
        await store.PutObjectAsync("a/b.bin", new MemoryStream([7, 8]), "application/octet-stream", ct);

        Assert.Equal([7, 8], await store.GetObjectAsync("a/b.bin", ct));
        await store.DeleteObjectAsync("a/b.bin", ct);
        await store.DeleteObjectAsync("a/b.bin", ct);
        await store.DeleteObjectAsync("no/such/folder.bin", ct);

        Assert.Null(await store.GetObjectAsync("a/b.bin", ct));
        Assert.Null(await store.GetObjectAsync("no/such/folder.bin", ct));
    }

    [Fact]
    public async Task AbortMultipartUploadsAsync_UploadLeftByACrash_TemporaryFileRemoved()
    {
        string root = s3.CreateFolder();
        var store = new LocalFolderObjectStore(root);
        var ct = TestContext.Current.CancellationToken;
        var crashed = await store.StartMultipartUploadAsync("x/m.bin", "application/octet-stream", ct);
        await crashed.UploadPartAsync(1, new MemoryStream([1, 2, 3]), ct); // never completed nor aborted: the process "died"
        Assert.Single(Directory.GetFiles(Path.Combine(root, "x")));

        await store.AbortMultipartUploadsAsync(["x/m.bin", "x/other.bin"], ct);

        Assert.Empty(Directory.GetFiles(Path.Combine(root, "x")));
    }

    [Theory]
    [InlineData(255, true)]
    [InlineData(256, false)]
    public void IsValidKey_FolderSegmentLength_LimitedToAFileName(int length, bool valid)
    {
        var store = new LocalFolderObjectStore(s3.CreateFolder());

        Assert.Equal(valid, store.IsValidKey(new string('f', length) + "/part-1.parquet", out string? reason));
        Assert.Equal(valid, reason is null);
    }
}
