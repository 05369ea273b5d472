using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Analytics.Streaming.Kinesis.Firehose;
using Analytics.Streaming.Kinesis.Tests.Support;

namespace Analytics.Streaming.Kinesis.Tests.Firehose;

/// <summary>No Firehose emulator exists: these tests run against a loopback server answering in the documented PutRecordBatch shape.</summary>
public sealed class FirehoseSinkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void WriteString(string item, IBufferWriter<byte> output) => output.Write(Encoding.UTF8.GetBytes(item));

    private static string Answer(LoopbackRequest request, Func<string, bool> fail)
    {
        var results = request.Json.GetProperty("Records").EnumerateArray().Select(r =>
            fail(Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64()))
                ? """{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."}"""
                : """{"RecordId":"Mx=="}""").ToList();
        int failed = results.Count(r => r.Contains("ErrorCode", StringComparison.Ordinal));
        return $$"""{"FailedPutCount":{{failed}},"Encrypted":false,"RequestResponses":[{{string.Join(',', results)}}]}""";
    }

    private static FirehoseSinkOptions Options(Action<FirehoseSinkOptions>? configure = null)
    {
        var options = new FirehoseSinkOptions { DeliveryStreamName = "s3-sink", Retry = { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) } };
        configure?.Invoke(options);
        return options;
    }

    [Fact]
    public async Task FlushAsync_1200Items_BatchesOf500NewlineDelimitedInOrder()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Answer(r, _ => false)));
        using var client = new FirehoseClient(server.FirehoseOptions());
        await using var sink = new FirehoseSink<string>(client, Options(), WriteString);
        string[] items = Enumerable.Range(0, 1200).Select(i => $$"""{"id":{{i}}}""").ToArray();

        await sink.WriteAsync(items.AsMemory(0, 700), Ct);
        await sink.WriteAsync(items.AsMemory(700), Ct);
        await sink.FlushAsync(Ct);

        var requests = server.Requests.ToList();
        Assert.All(requests, r => Assert.Equal("Firehose_20150804.PutRecordBatch", r.Target));
        Assert.All(requests, r => Assert.Contains("/firehose/aws4_request", r.Authorization, StringComparison.Ordinal));
        Assert.Equal([500, 500, 200], requests.Select(r => r.Json.GetProperty("Records").GetArrayLength()));
        Assert.All(requests, r => Assert.Equal("s3-sink", r.Json.GetProperty("DeliveryStreamName").GetString()));
        var delivered = requests.SelectMany(r => r.Json.GetProperty("Records").EnumerateArray())
            .Select(r => Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64())).ToList();
        Assert.Equal(items.Select(i => i + "\n"), delivered);
        Assert.Equal(1200, sink.DeliveredRecords);
    }

    [Fact]
    public async Task FlushAsync_PartialFailure_ResendsOnlyFailedRecords()
    {
        var failedOnce = new ConcurrentDictionary<string, bool>();
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Answer(r, data => data.StartsWith('b') && failedOnce.TryAdd(data, true))));
        using var client = new FirehoseClient(server.FirehoseOptions());
        await using var sink = new FirehoseSink<string>(client, Options(o => o.AppendNewline = false), WriteString);

        await sink.WriteAsync(new[] { "a1", "b1", "a2", "b2" }, Ct);
        await sink.FlushAsync(Ct);

        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        var resent = requests[1].Json.GetProperty("Records").EnumerateArray().Select(r => Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64()));
        Assert.Equal(["b1", "b2"], resent);
        Assert.Equal(4, sink.DeliveredRecords);
        Assert.Equal(2, sink.RetriedRecords);
    }

    [Fact]
    public async Task FlushAsync_AlwaysFailing_ThrowsAfterMaxAttempts()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Answer(r, data => data == "x")));
        using var client = new FirehoseClient(server.FirehoseOptions());
        await using var sink = new FirehoseSink<string>(client, Options(o => { o.AppendNewline = false; o.Retry.MaxAttempts = 3; }), WriteString);

        await sink.WriteAsync(new[] { "ok", "x" }, Ct);
        var exception = await Assert.ThrowsAsync<FirehoseDeliveryException>(() => sink.FlushAsync(Ct).AsTask());

        Assert.Equal(1, exception.FailedRecordCount);
        Assert.Equal("ServiceUnavailableException", exception.ErrorCode);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task FlushAsync_RetriesAndGivingUp_AreLoggedWithStableEventIds()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Answer(r, data => data == "x")));
        using var client = new FirehoseClient(server.FirehoseOptions());
        var logs = new CapturingLoggerFactory();
        await using var sink = new FirehoseSink<string>(client, Options(o => { o.AppendNewline = false; o.Retry.MaxAttempts = 2; o.LoggerFactory = logs; }), WriteString);

        await sink.WriteAsync(new[] { "ok", "x" }, Ct);
        await Assert.ThrowsAsync<FirehoseDeliveryException>(() => sink.FlushAsync(Ct).AsTask());

        Assert.Equal([2301, 2302], logs.Entries.Select(e => e.EventId.Id));
        Assert.Contains("1 of 2 records to s3-sink failed with ServiceUnavailableException", logs.Entries[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlushAsync_StreamMissing_ThrowsWithoutRetrying()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Error(400, "ResourceNotFoundException", "Firehose s3-sink under account 1 not found."));
        using var client = new FirehoseClient(server.FirehoseOptions(maxAttempts: 5));
        await using var sink = new FirehoseSink<string>(client, Options(), WriteString);

        await sink.WriteAsync(new[] { "a" }, Ct);
        var exception = await Assert.ThrowsAsync<FirehoseDeliveryException>(() => sink.FlushAsync(Ct).AsTask());

        Assert.Equal("ResourceNotFoundException", exception.ErrorCode);
        Assert.IsType<KinesisResourceNotFoundException>(exception.InnerException);
        Assert.Contains("not retryable", exception.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task WriteAsync_LargeRecords_SplitsBatchesByBytes()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Answer(r, _ => false)));
        using var client = new FirehoseClient(server.FirehoseOptions());
        await using var sink = new FirehoseSink<string>(client, Options(o => o.MaxBatchBytes = 1_100_000), WriteString);
        string big = new('z', 600_000);

        await sink.WriteAsync(new[] { big, big, big }, Ct);
        await sink.FlushAsync(Ct);

        Assert.Equal([1, 1, 1], server.Requests.Select(r => r.Json.GetProperty("Records").GetArrayLength()));
        Assert.All(server.Requests, r => Assert.Equal(600_001, r.Json.GetProperty("Records")[0].GetProperty("Data").GetBytesFromBase64().Length));
    }

    [Fact]
    public async Task WriteAsync_ItemOver1000KiB_IsRefused()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Answer(r, _ => false)));
        using var client = new FirehoseClient(server.FirehoseOptions());
        await using var sink = new FirehoseSink<string>(client, Options(), WriteString);

        var exception = await Assert.ThrowsAsync<ArgumentException>(() => sink.WriteAsync(new[] { "fine", new string('z', 1_024_000) }, Ct).AsTask());
        Assert.Contains("1,000 KiB", exception.Message, StringComparison.Ordinal);

        await sink.FlushAsync(Ct);
        var request = Assert.Single(server.Requests);
        Assert.Equal("fine\n", Encoding.UTF8.GetString(request.Json.GetProperty("Records")[0].GetProperty("Data").GetBytesFromBase64()));
    }

    [Fact]
    public async Task WriteAsync_ItemsThatCannotBeRecords_GoToTheDeadLettersAndTheOthersAreDelivered()
    {
        // Without dead letters such an item stops the pipeline for good (its replay meets it again); with them, it goes on.
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(Answer(r, _ => false)));
        using var client = new FirehoseClient(server.FirehoseOptions());
        var deadLetters = new DeadLetterList();
        await using var sink = new FirehoseSink<string>(client, Options(o => o.DeadLetters = deadLetters), (item, output) =>
        {
            if (item == "poison")
            {
                output.Write("half"u8);
                throw new FormatException("cannot write poison");
            }

            WriteString(item, output);
        });

        await sink.WriteAsync(new[] { "first", new string('z', 1_024_000), "poison", "last" }, Ct);
        await sink.FlushAsync(Ct);

        var request = Assert.Single(server.Requests);
        Assert.Equal(["first\n", "last\n"], request.Json.GetProperty("Records").EnumerateArray().Select(r => Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64())));
        Assert.Equal(2, deadLetters.FlushedItems.Count);
        Assert.All(deadLetters.FlushedItems, d => Assert.Equal((DeadLetterReason.InvalidValue, "firehose:s3-sink"), (d.Reason, d.Position.PartitionId)));
        Assert.Contains("1,000 KiB", deadLetters.FlushedItems[0].Message, StringComparison.Ordinal);
        Assert.Equal(1_024_000, deadLetters.FlushedItems[0].Payload.Length);
        Assert.Contains("FormatException", deadLetters.FlushedItems[1].Message, StringComparison.Ordinal);
        Assert.Equal("poison", Encoding.UTF8.GetString(deadLetters.FlushedItems[1].Payload.Span));
    }

    /// <summary>Keeps the dead letters written, and those flushed.</summary>
    private sealed class DeadLetterList : ISink<DeadLetter>
    {
        private readonly List<DeadLetter> _written = [];

        public List<DeadLetter> FlushedItems { get; } = [];

        public ValueTask WriteAsync(ReadOnlyMemory<DeadLetter> items, CancellationToken cancellationToken)
        {
            _written.AddRange(items.ToArray());
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            FlushedItems.AddRange(_written);
            _written.Clear();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
