using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Tests.DeadLetters;

public sealed record View(string? Page, DateTimeOffset Time);

[JsonSerializable(typeof(View))]
internal sealed partial class ViewJsonContext : JsonSerializerContext;

/// <summary>The JSON-lines file dead-letter sink: fields, rolling, reading back, and its failures stopping the pipeline.</summary>
public sealed class JsonLinesDeadLetterSinkTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 31, 10, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dead-letter-tests-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
        else if (File.Exists(_folder))
        {
            File.Delete(_folder);
        }
    }

    [Fact]
    public async Task Write_DeadLetters_AreReadBackWithEveryField()
    {
        var time = new FakeTimeProvider(Start);
        var letters = new[]
        {
            new DeadLetter(new StreamPosition("shardId-000000000001", SequenceNumber.Parse("49590338271490256608559692538361571095921575989136588898"), 3), DeadLetterReason.DecodeFailed, "'{' is invalid \"here\"\n", new byte[] { 0, 1, 2, 255 }),
            new DeadLetter(new StreamPosition("file.json", SequenceNumber.FromInt64(7)), DeadLetterReason.NullKey, "The key selector returned null; é ✓"),
            new DeadLetter(new StreamPosition("p", SequenceNumber.Zero), DeadLetterReason.Rejected, "broken \ud800 text", Encoding.UTF8.GetBytes("{\"a\":1}")),
        };
        await using (var sink = new JsonLinesDeadLetterSink(new() { Directory = _folder, TimeProvider = time }))
        {
            await sink.WriteAsync(letters, Token);
            await sink.FlushAsync(Token);
            Assert.Equal(3, sink.Written);
            Assert.StartsWith(Path.Combine(Path.GetFullPath(_folder), "dead-letters-20260131T100000000Z-0000.jsonl"), sink.CurrentFile, StringComparison.Ordinal);
        }

        var read = JsonLinesDeadLetterSink.ReadAll(_folder).ToList();
        Assert.Equal(3, read.Count);
        Assert.All(read, r => Assert.Equal(Start, r.Time));
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(letters[i].Position, read[i].DeadLetter.Position);
            Assert.Equal(letters[i].Reason, read[i].DeadLetter.Reason);
            Assert.Equal(letters[i].Message, read[i].DeadLetter.Message);
            Assert.Equal(letters[i].Payload.ToArray(), read[i].DeadLetter.Payload.ToArray());
        }

        Assert.Equal("broken \ufffd text", read[2].DeadLetter.Message);
        string line = File.ReadAllLines(Directory.GetFiles(_folder).Single())[1];
        Assert.Equal("""{"time":"2026-01-31T10:00:00.000Z","reason":"NullKey","message":"The key selector returned null; é ✓","partition":"file.json","sequence":"7","subSequence":0,"payload":""}""", line);
    }

    [Fact]
    public async Task Write_RollsBySizeAndByAge_AndNeverOverwrites()
    {
        var time = new FakeTimeProvider(Start);
        await using (var sink = new JsonLinesDeadLetterSink(new() { Directory = _folder, TimeProvider = time, MaxFileBytes = 1024, MaxFileAge = TimeSpan.FromMinutes(5) }))
        {
            for (int i = 0; i < 40; i++)
            {
                await sink.WriteAsync(new[] { Letter(i) }, Token);
            }

            await sink.FlushAsync(Token);
            int bySize = sink.FilesOpened;
            Assert.True(bySize >= 4, $"{bySize} files");
            foreach (string file in Directory.GetFiles(_folder))
            {
                Assert.InRange(new FileInfo(file).Length, 1, 1024 + 200);
            }

            time.Advance(TimeSpan.FromMinutes(5));
            await sink.WriteAsync(new[] { Letter(40) }, Token);
            Assert.Equal(bySize + 1, sink.FilesOpened);
            Assert.Contains("20260131T100500000Z", sink.CurrentFile, StringComparison.Ordinal);
        }

        // A second sink in the same millisecond takes new names.
        await using (var again = new JsonLinesDeadLetterSink(new() { Directory = _folder, TimeProvider = new FakeTimeProvider(Start) }))
        {
            await again.WriteAsync(new[] { Letter(41) }, Token);
        }

        var read = JsonLinesDeadLetterSink.ReadAll(_folder).Select(r => r.DeadLetter.Position.Sequence.ToInt64()).ToList();
        Assert.Equal(42, read.Count);
        Assert.Equal(Enumerable.Range(0, 42).Select(i => (long)i).Order(), read.Order());
    }

    [Fact]
    public async Task ReadFile_TruncatedLastLineIsSkipped_CorruptLineElsewhereThrows()
    {
        await using (var sink = new JsonLinesDeadLetterSink(new() { Directory = _folder }))
        {
            await sink.WriteAsync(new[] { Letter(1), Letter(2) }, Token);
        }

        string file = Directory.GetFiles(_folder).Single();
        string text = await File.ReadAllTextAsync(file, Token);
        await File.WriteAllTextAsync(file, text + text[..40], Token); // a crash in the middle of a third line
        Assert.Equal(2, JsonLinesDeadLetterSink.ReadFile(file).Count());
        await File.WriteAllTextAsync(file, text[..40] + "\n" + text, Token);
        Assert.Throws<InvalidDataException>(() => JsonLinesDeadLetterSink.ReadFile(file).ToList());
    }

    [Fact]
    public async Task Pipeline_EveryDeadLetterIsReadBack_AndRecordsAreAccountedFor()
    {
        var (source, bad) = Source();
        await using var sink = new JsonLinesDeadLetterSink(new() { Directory = _folder });
        var pipeline = Pipeline(sink, store: null);
        await pipeline.RunAsync(source, Token);

        var statistics = pipeline.Statistics;
        Assert.Equal(statistics.RecordsIn, statistics.RecordsAccepted + statistics.LateRecords + statistics.DeadLetters);
        var read = JsonLinesDeadLetterSink.ReadAll(_folder).Select(r => r.DeadLetter).ToList();
        Assert.Equal(statistics.DeadLetters, read.Count);
        Assert.Equal(bad.Keys.Order(), read.Select(r => r.Position).Order());
        foreach (var letter in read)
        {
            Assert.Equal(bad[letter.Position].Reason, letter.Reason);
            Assert.Equal(bad[letter.Position].Payload, letter.Payload.ToArray());
        }
    }

    [Fact]
    public async Task Pipeline_FailingDeadLetterSink_StopsWithoutCheckpointingPastItsRecords()
    {
        var (source, bad) = Source();
        var store = new InMemoryCheckpointStore();
        await using (var failing = new JsonLinesDeadLetterSink(new() { Directory = _folder }))
        {
            // The folder disappears and a file takes its place: the sink cannot open a file.
            Directory.Delete(_folder);
            await File.WriteAllTextAsync(_folder, "not a folder", Token);
            var pipeline = Pipeline(failing, store);
            await Assert.ThrowsAnyAsync<IOException>(() => pipeline.RunAsync(source, Token));
            Assert.Null(pipeline.Statistics.LastCheckpoint);
        }

        Assert.Null(await store.LoadAsync("views", Token));

        // The restart replays from the last checkpoint (none): every dead letter is stored this time.
        File.Delete(_folder);
        var (again, _) = Source();
        await using var working = new JsonLinesDeadLetterSink(new() { Directory = _folder });
        var restarted = Pipeline(working, store);
        await restarted.RunAsync(again, Token);
        Assert.Equal(bad.Keys.Order(), JsonLinesDeadLetterSink.ReadAll(_folder).Select(r => r.DeadLetter.Position).Order());
        Assert.NotNull(await store.LoadAsync("views", Token));
    }

    [Fact]
    public void Options_Validate_NamesTheSetting()
    {
        Assert.Contains("Directory", Assert.Throws<ArgumentException>(() => new JsonLinesDeadLetterSinkOptions().Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MaxFileBytes", Assert.Throws<ArgumentException>(() => new JsonLinesDeadLetterSinkOptions { Directory = "x", MaxFileBytes = 1 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("FilePrefix", Assert.Throws<ArgumentException>(() => new JsonLinesDeadLetterSinkOptions { Directory = "x", FilePrefix = "a/b" }.Validate()).Message, StringComparison.Ordinal);
    }

    private static DeadLetter Letter(int i) => new(new StreamPosition("shard", SequenceNumber.FromInt64(i)), DeadLetterReason.DecodeFailed, "bad record " + i, Encoding.UTF8.GetBytes("{not json " + i));

    /// <summary>Views over two partitions, where every fifth record is not JSON and every seventh has no page (a null key); the first record of each partition is bad.</summary>
    private static (IEventSource<View> Source, Dictionary<StreamPosition, (DeadLetterReason Reason, byte[] Payload)> Bad) Source()
    {
        var bad = new Dictionary<StreamPosition, (DeadLetterReason, byte[])>();
        var batches = new List<RecordBatch<RawRecord>>();
        foreach (string partition in new[] { "shard-a", "shard-b" })
        {
            var records = new List<StreamRecord<RawRecord>>();
            for (int i = 0; i < 60; i++)
            {
                var position = new StreamPosition(partition, SequenceNumber.FromInt64(i + 1));
                byte[] payload;
                if (i % 5 == 0)
                {
                    payload = Encoding.UTF8.GetBytes("{\"Page\": oops " + i);
                    bad[position] = (DeadLetterReason.DecodeFailed, payload);
                }
                else if (i % 7 == 0)
                {
                    payload = Encoding.UTF8.GetBytes($$"""{"Page":null,"Time":"{{Start.AddSeconds(i):O}}"}""");
                    bad[position] = (DeadLetterReason.NullKey, []);
                }
                else
                {
                    payload = Encoding.UTF8.GetBytes($$"""{"Page":"/p{{i % 3}}","Time":"{{Start.AddSeconds(i):O}}"}""");
                }

                records.Add(new StreamRecord<RawRecord>(new RawRecord(payload, "k"), position.Sequence));
            }

            for (int i = 0; i < records.Count; i += 10)
            {
                batches.Add(new RecordBatch<RawRecord>(partition, records.Skip(i).Take(10).ToArray()));
            }
        }

        var ordered = batches.Where((_, i) => i % 2 == 0).Concat(batches.Where((_, i) => i % 2 == 1)).ToList();
        return (new InMemorySource<RawRecord>(ordered).Decode(new JsonEventDecoder<View>(ViewJsonContext.Default.View)), bad);
    }

    private static StreamPipeline<View, string, long> Pipeline(ISink<DeadLetter> deadLetters, ICheckpointStore? store)
        => StreamPipeline.Create<View>(new() { Name = "views", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(1) })
            .WithEventTime(static v => v.Time)
            .KeyBy(static v => v.Page)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
            .Aggregate(static a => a.Count())
            .To(Sinks.Discard<WindowResult<string, long>>())
            .DeadLettersTo(deadLetters)
            .Build();
}
