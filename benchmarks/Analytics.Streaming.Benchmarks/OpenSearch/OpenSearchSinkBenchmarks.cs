using System.Buffers;
using System.Net;
using System.Text;
using Analytics.Streaming.OpenSearch;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Benchmarks.OpenSearch;

/// <summary>
/// Documents per second into a loopback <c>_bulk</c> endpoint (Kestrel on 127.0.0.1 in this process, answering every
/// action with 201 from a prepared body), the OpenSearch sink against the floor: a bare <see cref="HttpClient"/> loop
/// posting the same NDJSON bytes, prepared beforehand, in the same 1,000-action bulks and reading the same answers. The
/// ratio is what the sink costs on top of the transport: mapping results to documents with <c>Utf8JsonWriter</c>,
/// bulk cutting, reading every item's status. Reported per document.
/// </summary>
[MemoryDiagnoser]
public class OpenSearchSinkBenchmarks
{
    private const int Documents = 10_000;
    private const int BulkActions = 1000;
    private static readonly DateTimeOffset Start = new(2026, 1, 31, 0, 0, 0, TimeSpan.Zero);

    private static readonly OpenSearchDocumentMap<WindowResult<string, (long Views, long Visitors, double Seconds)>> Map =
        OpenSearchDocumentMap.ForResults<string, (long Views, long Visitors, double Seconds)>()
            .Long("views", static r => r.Value.Views)
            .Long("visitors", static r => r.Value.Visitors)
            .Double("seconds", static r => r.Value.Seconds)
            .Build();

    private WebApplication? _server;
    private Uri _endpoint = null!;
    private WindowResult<string, (long Views, long Visitors, double Seconds)>[] _results = [];
    private byte[][] _bodies = [];
    private HttpClient _http = null!;
    private OpenSearchSink<WindowResult<string, (long Views, long Visitors, double Seconds)>> _sink = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = StartServer(out _endpoint);
        var random = new Random(5);
        _results = new WindowResult<string, (long, long, double)>[Documents];
        for (int i = 0; i < Documents; i++)
        {
            var start = Start.AddMinutes(i / 500);
            long views = random.Next(1, 10_000);
            _results[i] = new WindowResult<string, (long, long, double)>("page-views", "/page/" + (i % 500), new TimeWindow(start, start.AddMinutes(1)), (views, views / 3, views * 1.7)) { RecordCount = views };
        }

        var options = OpenSearchSinkOptions.ForResults(_endpoint, "page-views-", Map);
        options.MaxBulkActions = BulkActions;
        options.MaxBulkBytes = 50 * 1024 * 1024;
        _sink = new OpenSearchSink<WindowResult<string, (long, long, double)>>(options);

        // The same bytes the sink sends, prepared once for the bare loop.
        var bodies = new List<byte[]>();
        var index = OpenSearchIndex.ForResults<string, (long, long, double)>("page-views-");
        for (int offset = 0; offset < Documents; offset += BulkActions)
        {
            var buffer = new ArrayBufferWriter<byte>();
            for (int i = offset; i < offset + BulkActions; i++)
            {
                var r = _results[i];
                buffer.Write(Encoding.UTF8.GetBytes($$$"""{"index":{"_index":"{{{index.NameOf(r)}}}","_id":"{{{r.Id}}}","version":{{{r.RecordCount}}},"version_type":"external_gte"}}""" + "\n"));
                buffer.Write(Map.ToJson(r));
                buffer.Write("\n"u8);
            }

            bodies.Add(buffer.WrittenSpan.ToArray());
        }

        _bodies = [.. bodies];
        _http = new HttpClient(new SocketsHttpHandler()) { BaseAddress = _endpoint };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _http.Dispose();
        _server?.StopAsync().GetAwaiter().GetResult();
        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Documents)]
    public async Task<long> BareHttpClientLoop()
    {
        long answered = 0;
        foreach (byte[] body in _bodies)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
            using var response = await _http.PostAsync("_bulk", content);
            byte[] answer = await response.Content.ReadAsByteArrayAsync();
            answered += answer.Length;
        }

        return answered;
    }

    [Benchmark(OperationsPerInvoke = Documents)]
    public async Task<long> OpenSearchSink()
    {
        await _sink.WriteAsync(_results, CancellationToken.None);
        await _sink.FlushAsync(CancellationToken.None);
        return _sink.Statistics.DocumentsWritten;
    }

    /// <summary>A _bulk endpoint that reads the whole body and answers 201 for every action, with a body prepared per action count.</summary>
    private static WebApplication StartServer(out Uri endpoint)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 100 * 1024 * 1024;
        });
        var app = builder.Build();
        var answers = new System.Collections.Concurrent.ConcurrentDictionary<int, byte[]>();
        app.Run(async context =>
        {
            int lines = 0;
            while (true)
            {
                var read = await context.Request.BodyReader.ReadAsync();
                foreach (var segment in read.Buffer)
                {
                    lines += segment.Span.Count((byte)'\n');
                }

                context.Request.BodyReader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            byte[] answer = answers.GetOrAdd(lines / 2, static count =>
            {
                var text = new StringBuilder("{\"took\":3,\"errors\":false,\"items\":[");
                for (int i = 0; i < count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ",").Append("""{"index":{"_index":"page-views-2026.01.31","_id":"x","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":1,"_primary_term":1,"status":201}}""");
                }

                return Encoding.UTF8.GetBytes(text.Append("]}").ToString());
            });
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = answer.Length;
            await context.Response.Body.WriteAsync(answer);
        });
        app.StartAsync().GetAwaiter().GetResult();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        endpoint = new Uri(address.TrimEnd('/') + "/");
        return app;
    }
}
