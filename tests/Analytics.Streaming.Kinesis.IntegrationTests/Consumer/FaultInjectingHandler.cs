using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

/// <summary>
/// Sits between the Kinesis client and a real emulator and answers chosen calls itself with the service's documented
/// error shapes (throttling, expired iterator, internal failure), for failures the emulators cannot produce on demand.
/// Every other call goes through unchanged. Records when each operation was called.
/// </summary>
internal sealed class FaultInjectingHandler : DelegatingHandler
{
    private readonly Func<string, int, (HttpStatusCode Status, string ErrorType)?> _inject;
    private readonly Func<string, string, string>? _rewrite;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Operation, TimeSpan At, bool Injected)> _log = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <param name="inject">Given the operation and its 1-based call number, the error to answer with, or null to pass the call on.</param>
    /// <param name="rewrite">
    /// Given the operation and the JSON body, the body to send instead (the emulators do not verify signatures), or
    /// null to send requests unchanged.
    /// </param>
    public FaultInjectingHandler(Func<string, int, (HttpStatusCode Status, string ErrorType)?> inject, Func<string, string, string>? rewrite = null)
        : base(new SocketsHttpHandler())
    {
        _inject = inject;
        _rewrite = rewrite;
    }

    public IReadOnlyList<(string Operation, TimeSpan At, bool Injected)> Log => [.. _log];

    public int InjectedCount => _log.Count(e => e.Injected);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.First() : "";
        string operation = target[(target.IndexOf('.', StringComparison.Ordinal) + 1)..];
        int call = _calls.AddOrUpdate(operation, 1, (_, n) => n + 1);
        var fault = _inject(operation, call);
        _log.Enqueue((operation, _clock.Elapsed, fault is not null));
        if (fault is { } f)
        {
            return new HttpResponseMessage(f.Status)
            {
                RequestMessage = request,
                Content = new StringContent($"{{\"__type\":\"{f.ErrorType}\",\"message\":\"injected by the test\"}}", Encoding.UTF8, "application/x-amz-json-1.1"),
            };
        }

        if (_rewrite is not null && request.Content is { } content)
        {
            string body = await content.ReadAsStringAsync(cancellationToken);
            var type = content.Headers.ContentType;
            request.Content = new StringContent(_rewrite(operation, body), Encoding.UTF8);
            request.Content.Headers.ContentType = type;
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
