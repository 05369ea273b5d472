using Analytics.Streaming.OpenSearch.Tests.Server;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>A page-view aggregate.</summary>
public readonly record struct Views(long Count, double Seconds);

/// <summary>Shared builders of the sink tests.</summary>
internal static class Support
{
    public static readonly DateTimeOffset Day = new(2026, 1, 31, 0, 0, 0, TimeSpan.Zero);

    public static OpenSearchDocumentMap<WindowResult<string, Views>> ResultMap { get; } = OpenSearchDocumentMap.ForResults<string, Views>()
        .Long("views", static r => r.Value.Count)
        .Double("seconds", static r => r.Value.Seconds)
        .Build();

    public static RetryOptions FastRetry(int attempts = 10) => new() { MaxAttempts = attempts, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), MaxElapsed = TimeSpan.FromMinutes(1) };

    public static OpenSearchSinkOptions<WindowResult<string, Views>> ResultOptions(Uri endpoint, string prefix = "views-", ISink<DeadLetter>? deadLetters = null)
    {
        var options = OpenSearchSinkOptions.ForResults(endpoint, prefix, ResultMap);
        options.Retry = FastRetry();
        options.DeadLetters = deadLetters;
        return options;
    }

    /// <summary>A result of <paramref name="key"/> in the minute <paramref name="minute"/> of <see cref="Day"/>, built from <paramref name="count"/> records.</summary>
    public static WindowResult<string, Views> Result(string key, int minute, long count, EmitReason reason = EmitReason.Closed)
    {
        var start = Day.AddMinutes(minute);
        return new WindowResult<string, Views>("page-views", key, new TimeWindow(start, start.AddMinutes(1)), new Views(count, count * 1.5), reason) { RecordCount = count };
    }

    public static (TestCluster Cluster, Uri Endpoint) Cluster(this OpenSearchTestServer server) => server.CreateCluster();
}

/// <summary>A dead-letter sink that keeps what it was given and what was flushed.</summary>
internal sealed class DeadLetterCollector : ISink<DeadLetter>
{
    private readonly List<DeadLetter> _written = [];

    public List<DeadLetter> Flushed { get; } = [];

    public ValueTask WriteAsync(ReadOnlyMemory<DeadLetter> items, CancellationToken cancellationToken)
    {
        foreach (var item in items.Span)
        {
            _written.Add(item with { Payload = item.Payload.ToArray() });
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        Flushed.AddRange(_written);
        _written.Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
