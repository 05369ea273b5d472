using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.Kinesis.Firehose;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.Kinesis.Tests.Support;

/// <summary>A request the loopback server received.</summary>
internal sealed record LoopbackRequest(string Target, string? ContentType, string? Authorization, string? AmzDate, byte[] Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Operation => Target[(Target.IndexOf('.', StringComparison.Ordinal) + 1)..];
}

/// <summary>An answer of the loopback server.</summary>
internal sealed record LoopbackResponse(int Status, string Body, string? ErrorType = null)
{
    public static LoopbackResponse Ok(string body) => new(200, body);

    public static LoopbackResponse Error(int status, string type, string message) =>
        new(status, JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = type, ["message"] = message }));
}

/// <summary>
/// An HTTP server on 127.0.0.1 that answers AWS JSON 1.1 requests with a test's handler, in the documented shapes
/// (used where no emulator exists, such as Firehose, and to inject failures).
/// </summary>
internal sealed class LoopbackAwsServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<LoopbackRequest, LoopbackResponse> _handler;
    private readonly Task _loop;

    public LoopbackAwsServer(Func<LoopbackRequest, LoopbackResponse> handler)
    {
        _handler = handler;
        int port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(RunAsync);
    }

    public Uri Endpoint { get; }

    public ConcurrentQueue<LoopbackRequest> Requests { get; } = new();

    public KinesisClientOptions ClientOptions(int maxAttempts = 3, ILoggerFactory? loggerFactory = null) => Options<KinesisClientOptions>(maxAttempts, loggerFactory);

    public FirehoseClientOptions FirehoseOptions(int maxAttempts = 3) => Options<FirehoseClientOptions>(maxAttempts, null);

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private T Options<T>(int maxAttempts, ILoggerFactory? loggerFactory)
        where T : AwsClientOptions, new() => new()
    {
        Region = "us-east-1",
        ServiceUrl = Endpoint,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        RequestTimeout = TimeSpan.FromSeconds(10),
        Retry = new RetryOptions { MaxAttempts = maxAttempts, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
        LoggerFactory = loggerFactory,
    };

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task RunAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        var request = new LoopbackRequest(
            context.Request.Headers["X-Amz-Target"] ?? string.Empty,
            context.Request.ContentType,
            context.Request.Headers["Authorization"],
            context.Request.Headers["X-Amz-Date"],
            body.ToArray());
        Requests.Enqueue(request);
        LoopbackResponse response;
        try
        {
            response = _handler(request);
        }
        catch (Exception exception)
        {
            response = LoopbackResponse.Error(500, "InternalFailure", exception.Message);
        }

        byte[] bytes = Encoding.UTF8.GetBytes(response.Body);
        context.Response.StatusCode = response.Status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        if (response.ErrorType is not null)
        {
            context.Response.Headers["x-amzn-ErrorType"] = response.ErrorType;
        }

        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }
}
