using System.Text;
using System.Text.Json.Serialization;

namespace Analytics.Streaming.Tests.Sources;

public sealed record Click(string Page, DateTimeOffset Time);

public sealed record Purchase(string Item, double Amount, float Weight);

[JsonSerializable(typeof(Click))]
[JsonSerializable(typeof(Purchase))]
internal sealed partial class SourceJsonContext : JsonSerializerContext;

public sealed class SourceTests
{
    [Fact]
    public async Task Decode_MalformedPayload_BecomesDeadLetterWithBytesAndPosition()
    {
        byte[] good = Encoding.UTF8.GetBytes("""{"Page":"home","Time":"2026-01-01T00:00:00Z"}""");
        byte[] bad = Encoding.UTF8.GetBytes("{not json");
        var raw = new InMemorySource<RawRecord>([new RecordBatch<RawRecord>("shard-1", new[]
        {
            new StreamRecord<RawRecord>(new RawRecord(good, "k"), SequenceNumber.FromInt64(1)),
            new StreamRecord<RawRecord>(new RawRecord(bad, "k"), SequenceNumber.FromInt64(2)),
            new StreamRecord<RawRecord>(new RawRecord("null"u8.ToArray(), "k"), SequenceNumber.FromInt64(3)),
        })]);

        var batches = await raw.Decode(new JsonEventDecoder<Click>(SourceJsonContext.Default.Click)).ReadBatchesAsync(new SourceContext(), TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        var batch = Assert.Single(batches);
        Assert.Equal("home", Assert.Single(batch.Records.ToArray()).Value.Page);
        Assert.Equal(2, batch.DeadLetters.Count);
        Assert.Equal(DeadLetterReason.DecodeFailed, batch.DeadLetters[0].Reason);
        Assert.Equal(new StreamPosition("shard-1", SequenceNumber.FromInt64(2)), batch.DeadLetters[0].Position);
        Assert.Equal(bad, batch.DeadLetters[0].Payload.ToArray());
        Assert.Contains("JSON null", batch.DeadLetters[1].Message, StringComparison.Ordinal);
        Assert.Equal(new StreamPosition("shard-1", SequenceNumber.FromInt64(3)), batch.EndPosition);
    }

    [Fact]
    public async Task FromEvents_CutsBatchesAndEndsThePartition()
    {
        var batches = await InMemorySource<int>.FromEvents(Enumerable.Range(0, 5), "p", batchSize: 2).ReadBatchesAsync(new SourceContext(), TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        Assert.Equal([2, 2, 1], batches.Select(b => b.Records.Length));
        Assert.True(batches[^1].IsEndOfPartition);
        Assert.Equal(SequenceNumber.FromInt64(5), batches[^1].EndPosition!.Value.Sequence);
    }

    [Theory]
    [InlineData("""{"Item":"tea","Amount":1e400,"Weight":1}""")]
    [InlineData("""{"Item":"tea","Amount":-1e309,"Weight":1}""")]
    [InlineData("""{"Item":"tea","Amount":2,"Weight":1e39}""")]
    public void JsonDecoder_NumberOutOfRange_IsAnInvalidValueNotInfinity(string json)
    {
        var decoder = new JsonEventDecoder<Purchase>(SourceJsonContext.Default.Purchase);

        bool decoded = decoder.TryDecode(new RawRecord(Encoding.UTF8.GetBytes(json), "k"), out _, out var error);

        Assert.False(decoded);
        Assert.Equal(DeadLetterReason.InvalidValue, error.Reason);
        Assert.Contains("out of range", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonDecoder_LargeFiniteNumbers_AreKept()
    {
        var decoder = new JsonEventDecoder<Purchase>(SourceJsonContext.Default.Purchase);

        Assert.True(decoder.TryDecode(new RawRecord("""{"Item":"tea","Amount":1.7e308,"Weight":3e38}"""u8.ToArray(), "k"), out var purchase, out _));

        Assert.Equal(1.7e308, purchase.Amount);
    }

    [Fact]
    public async Task InMemorySource_Resuming_SkipsWhatTheCheckpointCoversAndFinishedPartitions()
    {
        RecordBatch<int> Batch(string partition, int from, int count, bool end = false)
            => new(partition, Enumerable.Range(from, count).Select(i => new StreamRecord<int>(i, SequenceNumber.FromInt64(i))).ToArray(), isEndOfPartition: end);
        var source = new InMemorySource<int>([Batch("a", 1, 3), Batch("b", 1, 2, end: true), Batch("a", 4, 3, end: true)]);
        var context = new SourceContext([
            PartitionCheckpoint.Create("a", new StreamPosition("a", SequenceNumber.FromInt64(2))),
            PartitionCheckpoint.Create("b", new StreamPosition("b", SequenceNumber.FromInt64(2)), isFinished: true)]);

        var batches = await source.ReadBatchesAsync(context, TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        Assert.Equal([[3], [4, 5, 6]], batches.Select(b => b.Records.ToArray().Select(r => r.Value).ToArray()));
        Assert.All(batches, b => Assert.Equal("a", b.PartitionId));
        Assert.True(batches[^1].IsEndOfPartition);
    }
}
