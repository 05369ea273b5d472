using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>With <c>Lake:Bucket</c> set, the lake goes to S3 (s3rver here); DuckDB reads the objects back.</summary>
public sealed class S3LakeTests
{
    [Fact]
    public async Task ClosedMinutes_InS3_ReadBackByDuckDb_MatchTheDashboard()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var s3rver = await S3rverServer.StartAsync();
        var credentials = new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.AccessKey);
        using var s3 = new AmazonS3Client(credentials, new AmazonS3Config { ServiceURL = s3rver.ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = "lake" }, ct);

        await using var factory = new WebAnalyticsFactory(
            new Dictionary<string, string?>
            {
                ["Lake:Enabled"] = "true",
                ["Lake:Bucket"] = "lake",
                ["Lake:ServiceUrl"] = s3rver.ServiceUrl,
            },
            services => services.AddSingleton<AWSCredentials>(credentials));
        using var client = factory.CreateBrowserlikeClient();
        (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();

        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = Enumerable.Range(0, 4).Select(i => new { page = "/a", visitorId = $"v{i}", timestamp = now - 120_000 + i })
            .Append(new { page = "/c", visitorId = "x", timestamp = now })
            .ToArray();
        using (var response = await client.PostAsJsonAsync("/collect", new { events }, ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(client, m => m.GetProperty("perMinute").EnumerateArray().Any(p => p.GetProperty("final").GetBoolean()), ct);
        Assert.Equal("s3://lake/analytics/", metrics.GetProperty("lake").GetString());
        var minute = metrics.GetProperty("perMinute").EnumerateArray().Single(p => p.GetProperty("final").GetBoolean());

        // Wait for the object, then read it with DuckDB.
        await using var readers = await ParquetReaders.StartAsync();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        string? key = null;
        while (key is null)
        {
            var listing = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "lake", Prefix = "analytics/events_per_minute/" }, limit.Token);
            key = listing.S3Objects?.Select(o => o.Key).FirstOrDefault(k => k.EndsWith(".parquet", StringComparison.Ordinal));
            if (key is null)
            {
                await Task.Delay(100, limit.Token);
            }
        }

        string file = Path.Combine(Path.GetTempPath(), $"s3-lake-{Guid.NewGuid():N}.parquet");
        try
        {
            using (var get = await s3.GetObjectAsync("lake", key, ct))
            await using (var output = File.Create(file))
            {
                await get.ResponseStream.CopyToAsync(output, ct);
            }

            var duck = (await readers.ReadAsync(file)).GetProperty("duckdb");
            var columns = duck.GetProperty("columns").EnumerateArray().Select(c => c.GetString()).ToList();
            var row = Assert.Single(duck.GetProperty("rows").EnumerateArray());
            Assert.Equal(minute.GetProperty("events").GetInt64().ToString(CultureInfo.InvariantCulture), row[columns.IndexOf("events")].GetString());
            Assert.Equal("4", row[columns.IndexOf("events")].GetString());
            Assert.Equal("ts:" + (minute.GetProperty("start").GetDateTimeOffset().ToUnixTimeMilliseconds() * 1000).ToString(CultureInfo.InvariantCulture), row[columns.IndexOf("window_start")].GetString());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
