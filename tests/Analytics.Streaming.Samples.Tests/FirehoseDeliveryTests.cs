using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Analytics.Streaming.Samples.Tests;

/// <summary>
/// Beacons also delivered to Firehose. No Firehose emulator exists: a loopback endpoint on 127.0.0.1 answers
/// PutRecordBatch in its documented shape, and fails its first calls to show that a Firehose outage never reaches the
/// beacon's request.
/// </summary>
public sealed class FirehoseDeliveryTests
{
    [Fact]
    public async Task Beacons_AreDeliveredToFirehoseOnceEach_AndAFailingFirehoseNeverFailsABeacon()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var firehose = new LoopbackFirehose(failFirst: 2);
        await using var factory = new WebAnalyticsFactory(
            new Dictionary<string, string?>
            {
                ["Ingest:Firehose:DeliveryStreamName"] = "beacons",
                ["Ingest:Firehose:ServiceUrl"] = firehose.Endpoint.ToString(),
            },
            services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTEST", "secret")));
        using var client = factory.CreateBrowserlikeClient();

        var events = Enumerable.Range(0, 30).Select(i => new { page = "/p" + (i % 3), visitorId = $"v{i}" }).ToArray();
        foreach (var chunk in events.Chunk(10))
        {
            using var response = await client.PostAsJsonAsync("/collect", new { events = chunk }, ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(2));
        while (firehose.Delivered.Count < events.Length)
        {
            await Task.Delay(50, limit.Token);
        }

        Assert.True(firehose.Calls > 2, $"{firehose.Calls} calls");
        var visitors = firehose.Delivered.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userId").GetString()).ToList();
        Assert.Equal(events.Select(e => e.visitorId).Order(StringComparer.Ordinal), visitors.Order(StringComparer.Ordinal));
    }

    /// <summary>Answers PutRecordBatch: a 500 for the first calls, then every record accepted and kept.</summary>
    private sealed class LoopbackFirehose : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private int _failures;

        public LoopbackFirehose(int failFirst)
        {
            _failures = failFirst;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/");
            }

            _listener.Prefixes.Add(Endpoint.ToString());
            _listener.Start();
            _loop = Task.Run(RunAsync);
        }

        public Uri Endpoint { get; }

        public ConcurrentQueue<string> Delivered { get; } = new();

        public int Calls;

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _loop.ConfigureAwait(false);
            _listener.Close();
        }

        private async Task RunAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                using var request = JsonDocument.Parse(await reader.ReadToEndAsync().ConfigureAwait(false));
                Interlocked.Increment(ref Calls);
                string answer;
                if (Interlocked.Decrement(ref _failures) >= 0)
                {
                    context.Response.StatusCode = 500;
                    answer = """{"__type":"ServiceUnavailableException","message":"Slow down."}""";
                }
                else
                {
                    var records = request.RootElement.GetProperty("Records").EnumerateArray().ToList();
                    foreach (var record in records)
                    {
                        Delivered.Enqueue(Encoding.UTF8.GetString(record.GetProperty("Data").GetBytesFromBase64()));
                    }

                    answer = $$"""{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[{{string.Join(',', records.Select(_ => """{"RecordId":"r"}"""))}}]}""";
                }

                byte[] body = Encoding.UTF8.GetBytes(answer);
                context.Response.ContentType = "application/x-amz-json-1.1";
                await context.Response.OutputStream.WriteAsync(body).ConfigureAwait(false);
                context.Response.Close();
            }
        }
    }
}
