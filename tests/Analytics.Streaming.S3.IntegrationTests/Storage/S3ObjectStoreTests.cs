using System.Net;
using Amazon.S3;

namespace Analytics.Streaming.S3.IntegrationTests.Storage;

public sealed class S3ObjectStoreTests(S3Fixture s3)
{
    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task PutObjectAsync_Bytes_ReadBackEqual()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        byte[] bytes = RandomBytes(100_000, 1);

        await store.PutObjectAsync("a/b/object.bin", new MemoryStream(bytes), "application/octet-stream", TestContext.Current.CancellationToken);

        Assert.Equal(bytes, await s3.ReadAsync(bucket, "a/b/object.bin"));
    }

    [Fact]
    public async Task PutObjectAsync_SameKeyTwice_SecondReplacesFirst()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        var ct = TestContext.Current.CancellationToken;

        await store.PutObjectAsync("k", new MemoryStream(RandomBytes(10, 1)), "application/octet-stream", ct);
        await store.PutObjectAsync("k", new MemoryStream(RandomBytes(20, 2)), "application/octet-stream", ct);

        Assert.Equal(RandomBytes(20, 2), await s3.ReadAsync(bucket, "k"));
        Assert.Equal(["k"], await s3.ListKeysAsync(bucket));
    }

    [Fact]
    public async Task StartMultipartUploadAsync_TwoPartsOneRetried_ObjectWholeInOrder()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        var ct = TestContext.Current.CancellationToken;
        byte[] first = RandomBytes(S3ObjectStore.MinimumPartSize, 1);
        byte[] last = RandomBytes(12_345, 3);

        await using var upload = await store.StartMultipartUploadAsync("big/object.bin", "application/octet-stream", ct);
        await upload.UploadPartAsync(1, new MemoryStream(first), ct);
        await upload.UploadPartAsync(2, new MemoryStream(RandomBytes(999, 99)), ct);
        await upload.UploadPartAsync(2, new MemoryStream(last), ct); // a retried part replaces the first attempt
        await upload.CompleteAsync(ct);

        byte[] expected = [.. first, .. last];
        Assert.Equal(expected, await s3.ReadAsync(bucket, "big/object.bin"));
    }

    [Fact]
    public async Task AbortAsync_AgainstS3rverWithoutAbort_DoesNotThrowAndLeavesNoObject()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        var ct = TestContext.Current.CancellationToken;

        var upload = await store.StartMultipartUploadAsync("aborted.bin", "application/octet-stream", ct);
        await upload.UploadPartAsync(1, new MemoryStream(RandomBytes(100, 1)), ct);
        await upload.AbortAsync(ct);

        Assert.Empty(await s3.ListKeysAsync(bucket));
    }

    [Fact]
    public async Task PutObjectAsync_MissingBucket_ThrowsPermanentError()
    {
        var store = new S3ObjectStore(s3.Client, "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8]);

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(
            () => store.PutObjectAsync("k", new MemoryStream([1, 2, 3]), "application/octet-stream", TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.False(store.IsTransient(error));
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, "SlowDown", true)]
    [InlineData(HttpStatusCode.InternalServerError, "InternalError", true)]
    [InlineData(HttpStatusCode.Forbidden, "AccessDenied", false)]
    [InlineData(HttpStatusCode.NotFound, "NoSuchBucket", false)]
    public void IsTransientFailure_ServiceErrors_ClassifiedByStatusAndCode(HttpStatusCode status, string code, bool expected)
    {
        var error = new AmazonS3Exception("test", Amazon.Runtime.ErrorType.Sender, code, "request-id", status);

        Assert.Equal(expected, S3ObjectStore.IsTransientFailure(error));
    }

    [Fact]
    public void IsTransientFailure_DroppedConnection_IsTransient()
    {
        Assert.True(S3ObjectStore.IsTransientFailure(new HttpRequestException("connection reset", new IOException("reset"))));
    }

    [Theory]
    [InlineData("")]
    [InlineData("s3://bucket")]
    [InlineData("bucket/prefix")]
    public void Constructor_BadBucketName_ThrowsWithAdvice(string bucket)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new S3ObjectStore(s3.Client, bucket));

        Assert.Contains("BucketName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListGetDeleteAsync_OnS3rver_BehaveLikeTheLocalFolder()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        var ct = TestContext.Current.CancellationToken;
        foreach (string key in new[] { "t/b/2.bin", "t/b/10.bin", "t/bz.bin", "u/c.bin" })
        {
            await store.PutObjectAsync(key, new MemoryStream([1, 2]), "application/octet-stream", ct);
        }

        Assert.Equal(["t/b/10.bin", "t/b/2.bin", "t/bz.bin"], await store.ListKeysAsync("t/b", ct));
        Assert.Equal([1, 2], await store.GetObjectAsync("t/bz.bin", ct));
        await store.DeleteObjectAsync("t/bz.bin", ct);
        await store.DeleteObjectAsync("t/bz.bin", ct);
        Assert.Null(await store.GetObjectAsync("t/bz.bin", ct));
        Assert.Equal(["t/b/10.bin", "t/b/2.bin", "u/c.bin"], await s3.ListKeysAsync(bucket));
    }

    [Fact]
    public async Task AbortMultipartUploadsAsync_S3rverCannotListUploads_DoesNotThrow()
    {
        string bucket = await s3.CreateBucketAsync();
        var store = new S3ObjectStore(s3.Client, bucket);
        var ct = TestContext.Current.CancellationToken;
        var upload = await store.StartMultipartUploadAsync("left/behind.bin", "application/octet-stream", ct);
        await upload.UploadPartAsync(1, new MemoryStream(RandomBytes(100, 1)), ct);

        await store.AbortMultipartUploadsAsync(["left/behind.bin"], ct);

        Assert.Empty(await s3.ListKeysAsync(bucket));
    }

    [Fact]
    public void IsTransientFailure_NotImplemented_IsPermanent()
    {
        var error = new AmazonS3Exception("no", Amazon.Runtime.ErrorType.Sender, "NotImplemented", "request-id", HttpStatusCode.NotImplemented);

        Assert.False(S3ObjectStore.IsTransientFailure(error));
    }
}
