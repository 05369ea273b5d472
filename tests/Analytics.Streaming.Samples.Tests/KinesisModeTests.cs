using System.Net;
using System.Net.Http.Json;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>With <c>Ingest:Kinesis:StreamName</c> set, beacons go through Kinesis (kinesalite): the producer writes, the shard consumer reads back.</summary>
public sealed class KinesisModeTests(KinesaliteServer kinesalite) : IClassFixture<KinesaliteServer>
{
    [Fact]
    public async Task Beacons_ThroughKinesis_ReachTheDashboard()
    {
        var ct = TestContext.Current.CancellationToken;
        string stream = KinesaliteServer.NewStreamName("web-analytics");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, ct);
        await kinesalite.Admin.WaitForActiveAsync(stream, ct);
        string checkpoints = Directory.CreateTempSubdirectory("web-analytics-checkpoints-").FullName;
        try
        {
            await using var factory = new WebAnalyticsFactory(
                new Dictionary<string, string?>
                {
                    ["Ingest:Kinesis:StreamName"] = stream,
                    ["Ingest:Kinesis:ServiceUrl"] = kinesalite.Endpoint.ToString(),
                    ["CheckpointFolder"] = checkpoints,
                },
                services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTEST", "secret")));
            using var client = factory.CreateBrowserlikeClient();
            (await WebAnalyticsFactory.SignInAsync(client, cancellationToken: ct)).Dispose();

            var events = Enumerable.Range(0, 20).Select(i => new { page = $"/p{i % 3}", visitorId = $"v{i}" }).ToArray();
            using (var response = await client.PostAsJsonAsync("/collect", new { events }, ct))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            var metrics = await WebAnalyticsFactory.WaitForMetricsAsync(client, m => m.GetProperty("totals").GetProperty("events").GetInt64() == 20, ct);
            Assert.StartsWith("Kinesis stream", metrics.GetProperty("mode").GetString(), StringComparison.Ordinal);
            Assert.Equal(20, metrics.GetProperty("totals").GetProperty("visitorsToday").GetInt64());
        }
        finally
        {
            try
            {
                Directory.Delete(checkpoints, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
