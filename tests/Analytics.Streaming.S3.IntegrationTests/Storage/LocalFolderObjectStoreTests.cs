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
}
