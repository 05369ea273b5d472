using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Analytics.Streaming.Lambda.Tests;
using Analytics.Streaming.Testing;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Lambda.IntegrationTests;

/// <summary>
/// The Kinesis handler under the local event source mapping on kinesalite: 4 shards, 20,000 page views whose partition
/// keys spread every page over every shard, random function errors (before and after the handler commits), random
/// transient decoder failures (partial batch responses), a poison record, retries and bisection. The per-shard partial
/// results, summed per page and window, must equal one uninterrupted pipeline over the same page views.
/// </summary>
public sealed class KinesisHandlerEndToEndTests(KinesaliteServer kinesalite)
{
    private const int Events = 20_000;
    private const int Pages = 50;
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HandleAsync_FourShardsWithFailuresRetriesAndBisection_MergedPartialsEqualOneUninterruptedRun()
    {
        string stream = KinesaliteServer.NewStreamName("lambda-e2e");
        await kinesalite.Admin.CreateStreamAsync(stream, 4, Token);
        var random = new Random(20_000);
        var clicks = new List<Click>(Events);
        var records = new List<(string PartitionKey, byte[] Data)>(Events + 1);
        for (int i = 0; i < Events; i++)
        {
            var click = new Click { Page = "/p" + random.Next(Pages), User = "user-" + random.Next(1000), Time = TestData.T0.AddMilliseconds(i * 150L).ToUnixTimeMilliseconds(), Value = random.Next(1, 10) };
            clicks.Add(click);
            records.Add((click.User, click.ToJson()));
            if (i == Events / 2)
            {
                records.Add(("user-poison", "{\"page\":"u8.ToArray()));
            }
        }

        foreach (var chunk in records.Chunk(500))
        {
            await kinesalite.Admin.PutRecordsAsync(stream, chunk, Token);
        }

        var table = new ResultTable();
        var deadLetters = new CollectingSink<DeadLetter>();
        var pipeline = StreamPipeline.Create<Click>(new() { Name = "page-views", CheckpointStore = new InMemoryCheckpointStore(), WindowState = WindowStateMode.Always })
            .WithEventTime(c => c.Time)
            .KeyBy(c => c.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.Sum(c => (long)c.Value)))
            .To(table)
            .DeadLettersTo(deadLetters)
            .Build();
        var chaos = new Chaos(new Random(7));
        var handler = KinesisEventHandler.Create(pipeline, new ChaoticDecoder(chaos));
        long replayed = 0;
        using var client = Emulator.Client(kinesalite.Endpoint);
        var mapping = LocalEventSourceMapping.ForStreamHandler(
            client,
            new() { StreamName = stream, BatchSize = 300, BisectBatchOnFunctionError = true, PollInterval = TimeSpan.FromMilliseconds(20) },
            async (input, ct) =>
            {
                chaos.MaybeFail(0.10, "function crashed before the handler ran");
                var e = (await System.Text.Json.JsonSerializer.DeserializeAsync(input, LambdaJsonContext.Default.KinesisStreamEvent, ct))!;
                var outcome = await handler.ProcessAsync(e, ct);
                Interlocked.Add(ref replayed, outcome.Receipt.Replayed);
                chaos.MaybeFail(0.10, "function timed out after the handler committed");
                return new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(outcome.Response, LambdaJsonContext.Default.KinesisStreamBatchResponse));
            });

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        await mapping.RunUntilCaughtUpAsync(timeout.Token);
        var shards = await kinesalite.Admin.ListShardsAsync(stream, Token);
        foreach (var shard in shards)
        {
            await handler.CompleteShardAsync(shard.ShardId, Token);
        }

        // The same page views through one uninterrupted engine.
        var expected = new CollectingSink<WindowResult<string, (long Count, long Sum)>>();
        var reference = StreamPipeline.Create<Click>(new() { Name = "page-views" })
            .WithEventTime(c => c.Time).KeyBy(c => c.Page).Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1)))
            .Aggregate(a => a.Count().And(a.Sum(c => (long)c.Value))).To(expected).Build();
        var driver = new PipelineTestDriver<Click, string, (long Count, long Sum)>(reference);
        driver.Push([.. clicks]);
        driver.Complete();

        var merged = table.Latest.Values
            .GroupBy(r => (r.Key, r.Window))
            .ToDictionary(g => g.Key, g => (Count: g.Sum(r => r.Value.Count), Sum: g.Sum(r => r.Value.Sum)));
        var want = driver.Results.ToDictionary(r => (r.Key, r.Window), r => (r.Value.Count, r.Value.Sum));
        Assert.Equal(want.Count, merged.Count);
        foreach (var (identity, value) in want)
        {
            Assert.True(merged.TryGetValue(identity, out var got), $"missing {identity}");
            Assert.Equal(value, got);
        }

        Assert.Equal(Events, merged.Values.Sum(v => v.Count));
        var dead = Assert.Single(deadLetters.FlushedItems);
        Assert.Equal(DeadLetterReason.DecodeFailed, dead.Reason);
        Assert.Empty(mapping.Discarded);
        Assert.True(table.Latest.Values.Select(r => r.Partition).Distinct().Count() == 4, "every shard contributed partial results");
        Assert.True(mapping.Statistics.Bisections > 0, "no batch was bisected");
        Assert.True(mapping.Statistics.PartialFailures > 0, "no partial batch failure happened");
        Assert.True(replayed > 0, "no retried batch held records its shard's checkpoint covered");
    }

    /// <summary>A results table that writes by identity and keeps the version with the most records (an idempotent sink).</summary>
    private sealed class ResultTable : ISink<WindowResult<string, (long Count, long Sum)>>
    {
        public ConcurrentDictionary<string, WindowResult<string, (long Count, long Sum)>> Latest { get; } = new(StringComparer.Ordinal);

        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, (long Count, long Sum)>> items, CancellationToken cancellationToken)
        {
            foreach (var item in items.Span)
            {
                Latest.AddOrUpdate(item.Id, item, (_, old) => item.RecordCount >= old.RecordCount ? item : old);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Chaos(Random random)
    {
        private readonly Lock _gate = new();

        public bool Roll(double probability)
        {
            lock (_gate)
            {
                return random.NextDouble() < probability;
            }
        }

        public void MaybeFail(double probability, string what)
        {
            if (Roll(probability))
            {
                throw new InvalidOperationException(what);
            }
        }
    }

    /// <summary>JSON decoding that now and then throws a transient failure (the handler then reports a partial batch failure).</summary>
    private sealed class ChaoticDecoder(Chaos chaos) : IEventDecoder<Click>
    {
        private readonly JsonEventDecoder<Click> _inner = new(TestJsonContext.Default.Click);

        public bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out Click value, out DecodeError error)
        {
            if (chaos.Roll(0.0005))
            {
                throw new TimeoutException("enrichment lookup timed out");
            }

            return _inner.TryDecode(record, out value, out error);
        }
    }
}
