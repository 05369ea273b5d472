using System.Text;
using System.Text.Json;
using Analytics.Streaming.Testing;
using static Analytics.Streaming.Lambda.Tests.TestData;

namespace Analytics.Streaming.Lambda.Tests.Kinesis;

public sealed class KinesisTumblingWindowHandlerTests
{
    private static readonly JsonEventDecoder<Click> Decoder = new(TestJsonContext.Default.Click);
    private static readonly KinesisTumblingWindow Window = new() { Start = T0, End = T0.AddMinutes(2) };
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static KinesisStreamTumblingWindowEvent WindowEvent(KinesisStreamEvent records, Dictionary<string, string>? state, bool final = false)
        => new() { Records = records.Records, Window = Window, State = state, ShardId = TestShard, EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks", IsFinalInvokeForWindow = final };

    [Fact]
    public async Task HandleAsync_StateCarriedAcrossInvocations_FinalInvocationWritesOneResultPerKey()
    {
        var sink = new CollectingSink<WindowResult<string, (long, long)>>();
        var handler = KinesisTumblingWindowHandler.Create(Decoder, c => c.Page, a => a.Count().And(a.DistinctCount(c => c.User)), sink);

        var first = await handler.HandleAsync(WindowEvent(Event(TestShard, 1, Click("/a", 1, user: "ann"), Click("/b", 2, user: "bob")), []), Token);
        var second = await handler.HandleAsync(WindowEvent(Event(TestShard, 3, Click("/a", 3, user: "cy"), Click("/a", 4, user: "ann")), first.State), Token);
        Assert.Empty(sink.Items);
        var final = await handler.HandleAsync(WindowEvent(new KinesisStreamEvent(), second.State, final: true), Token);

        Assert.Empty(final.State);
        Assert.Equal("1", second.State["$v"]);
        Assert.Equal(Sequence(4), second.State["$seq"]);
        var a = Assert.Single(sink.FlushedItems, r => r.Key == "/a");
        Assert.Equal((3L, 2L), a.Value);
        Assert.Equal((3L, TestShard, "tumbling"), (a.RecordCount, a.Partition, a.Pipeline));
        Assert.Equal(new TimeWindow(T0, T0.AddMinutes(2)), a.Window);
        Assert.Equal((1L, 1L), Assert.Single(sink.FlushedItems, r => r.Key == "/b").Value);
    }

    [Fact]
    public async Task HandleAsync_KeyOrAggregatorThrowsOnARecord_TheRecordIsADeadLetterAndTheOthersCountOnce()
    {
        var sink = new CollectingSink<WindowResult<string, (long, long)>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var handler = KinesisTumblingWindowHandler.Create(
            Decoder,
            c => c.Page == "/boom" ? throw new InvalidOperationException("no page") : c.Page,
            a => a.Count().And(a.Sum(c => c.Value >= 0 ? (long)c.Value : throw new InvalidOperationException("negative value"))),
            sink,
            new KinesisTumblingWindowHandlerOptions { DeadLetterSink = deadLetters });

        // The second invocation's count of "/a" holds the record with -1 when its sum throws: the handler folds the
        // records again from the state it received, without that record (and then without the one with -3).
        var first = await handler.HandleAsync(WindowEvent(Event(TestShard, 1, Click("/a", 1, 5)), []), Token);
        var second = await handler.HandleAsync(WindowEvent(Event(TestShard, 2, Click("/a", 2, -1), Click("/boom", 3, 1), Click("/a", 4, 2), Click("/b", 5, -3), Click("/b", 6, 7)), first.State), Token);
        await handler.HandleAsync(WindowEvent(new KinesisStreamEvent(), second.State, final: true), Token);

        Assert.Empty(second.BatchItemFailures);
        Assert.Equal(["AggregatorFailed negative value", "SelectorFailed no page", "AggregatorFailed negative value"], deadLetters.FlushedItems.Select(d => $"{d.Reason} {d.Message[(d.Message.LastIndexOf(':') + 2)..]}"));
        Assert.Equal([("/a", (2L, 7L), 2L), ("/b", (1L, 7L), 1L)], sink.FlushedItems.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value, r.RecordCount)));
    }

    [Fact]
    public async Task HandleAsync_ProjectionThrowsForAKey_ThatWindowIsADeadLetterWithItsIdAndTheOtherKeysAreWritten()
    {
        var sink = new CollectingSink<WindowResult<string, long>>();
        var deadLetters = new CollectingSink<DeadLetter>();
        var handler = KinesisTumblingWindowHandler.Create(
            Decoder,
            c => c.Page,
            a => a.Count().Select(n => n == 2 ? throw new InvalidOperationException("two is not allowed") : n),
            sink,
            new KinesisTumblingWindowHandlerOptions { DeadLetterSink = deadLetters });

        var first = await handler.HandleAsync(WindowEvent(Event(TestShard, 1, Click("/a", 1), Click("/b", 2), Click("/b", 3), Click("/c", 4)), []), Token);
        await handler.HandleAsync(WindowEvent(Event(TestShard, 5, Click("/c", 5), Click("/c", 6)), first.State, final: true), Token);

        Assert.Equal([("/a", 1L), ("/c", 3L)], sink.FlushedItems.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value)));
        var deadLetter = Assert.Single(deadLetters.FlushedItems);
        Assert.Equal((DeadLetterReason.AggregatorFailed, DeadLetter.WindowResultsPartition), (deadLetter.Reason, deadLetter.Position.PartitionId));
        Assert.Equal(WindowResult<string, long>.FormatId("tumbling", TestShard, "/b", new TimeWindow(T0, T0.AddMinutes(2))), Encoding.UTF8.GetString(deadLetter.Payload.Span));
        Assert.Contains("two is not allowed", deadLetter.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_RetriedWithTheStateItReturned_SkipsTheRecordsItAlreadyCounted()
    {
        var sink = new CollectingSink<WindowResult<string, long>>();
        var handler = KinesisTumblingWindowHandler.Create(Decoder, c => c.Page, a => a.Count(), sink);
        var batch = Event(TestShard, 1, Click("/a", 1), Click("/a", 2), Click("/a", 3));

        var first = await handler.HandleAsync(WindowEvent(batch, []), Token);
        var again = await handler.HandleAsync(WindowEvent(Event(TestShard, 2, Click("/a", 2), Click("/a", 3), Click("/a", 4)), first.State), Token);
        await handler.HandleAsync(WindowEvent(new KinesisStreamEvent(), again.State, final: true), Token);

        Assert.Equal(4, Assert.Single(sink.FlushedItems).Value);
    }

    [Fact]
    public async Task HandleAsync_DecoderThrows_StateCoversTheRecordsBeforeAndTheFailureIsReported()
    {
        var sink = new CollectingSink<WindowResult<string, long>>();
        var decoder = new FlakyDecoder();
        decoder.Failing.Add(2);
        var handler = KinesisTumblingWindowHandler.Create(decoder, c => c.Page, a => a.Count(), sink);

        var response = await handler.HandleAsync(WindowEvent(Event(TestShard, 1, Click("/a", 1, 1), Click("/a", 2, 2), Click("/a", 3, 3)), []), Token);
        var (exitCode, output) = await CheckTypesAsync([("KinesisStreamStateResponse", JsonSerializer.Serialize(response, LambdaJsonContext.Default.KinesisStreamStateResponse), false)]);

        Assert.Equal(Sequence(2), Assert.Single(response.BatchItemFailures).ItemIdentifier);
        Assert.Equal(Sequence(1), response.State["$seq"]);
        Assert.True(exitCode == 0, output);
        decoder.Failing.Clear();
        await Assert.ThrowsAsync<TimeoutException>(() => handler.HandleAsync(WindowEvent(Event(TestShard, 2, Click("/a", 2, 2)), response.State, final: true), RaiseOnce(decoder)));
    }

    private static CancellationToken RaiseOnce(FlakyDecoder decoder)
    {
        decoder.Failing.Add(2);
        return Token;
    }

    [Fact]
    public async Task HandleAsync_StateOverTheLimit_FailsWithAClearError()
    {
        var sink = new CollectingSink<WindowResult<string, long>>();
        var handler = KinesisTumblingWindowHandler.Create(Decoder, c => c.User, a => a.DistinctCount(c => c.Page), sink, new KinesisTumblingWindowHandlerOptions { MaxStateBytes = 4096 });

        var error = await Assert.ThrowsAsync<LambdaStateTooLargeException>(() => handler.HandleAsync(WindowEvent(Event(TestShard, 1, Enumerable.Range(0, 400).Select(i => Click("/p" + i, i % 100, user: "user" + i)).ToArray()), []), Token));

        Assert.Equal(4096, error.LimitBytes);
        Assert.True(error.StateBytes > 4096);
        Assert.Contains("1 MB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_DocumentedFixtureStream_AnswersStateThatTypeChecks()
    {
        var sink = new CollectingSink<WindowResult<string, long>>();
        var handler = KinesisTumblingWindowHandler.Create(Decoder, c => c.Page, a => a.Count(), sink);

        await using var response = await handler.HandleAsync(FixtureStream("kinesis-tumbling-event.json"), Token);
        string json = await new StreamReader(response).ReadToEndAsync(Token);
        var (exitCode, output) = await CheckTypesAsync([("KinesisStreamStateResponse", json, false)]);

        Assert.True(exitCode == 0, output);
        using var document = JsonDocument.Parse(json);
        Assert.Equal("1", document.RootElement.GetProperty("state").GetProperty("$v").GetString());
        Assert.True(document.RootElement.GetProperty("state").TryGetProperty("/home", out _));
        Assert.Equal(0, document.RootElement.GetProperty("batchItemFailures").GetArrayLength());
    }

    [Fact]
    public async Task HandleAsync_StateWrittenByAnotherFunction_IsRefusedWithTheReason()
    {
        var handler = KinesisTumblingWindowHandler.Create(Decoder, c => c.Page, a => a.Count(), new CollectingSink<WindowResult<string, long>>());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => handler.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(Fixture("kinesis-tumbling-aws-state.json"))), Token));

        Assert.Contains("not written by this handler", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_RecordWithMalformedEventId_IsRefusedAsAnArgument()
    {
        var sink = new CollectingSink<WindowResult<string, long>>();
        var handler = KinesisTumblingWindowHandler.Create(Decoder, c => c.Page, a => a.Count(), sink);
        var records = Event(TestShard, 1, Click("/a", 1), Click("/b", 2));
        records.Records[1].EventId = "no-colon-here";

        var error = await Assert.ThrowsAsync<ArgumentException>(() => handler.HandleAsync(WindowEvent(records, [], final: true), Token));

        Assert.Contains("Record 1", error.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(error.InnerException);
        Assert.Empty(sink.Items);
    }
}
