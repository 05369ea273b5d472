using System.Text;
using System.Text.Json.Serialization;

namespace Analytics.Streaming.Tests.Sources;

public sealed record Click(string Page, DateTimeOffset Time);

[JsonSerializable(typeof(Click))]
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

        var batches = await raw.Decode(new JsonEventDecoder<Click>(SourceJsonContext.Default.Click)).ReadBatchesAsync(TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

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
        var batches = await InMemorySource<int>.FromEvents(Enumerable.Range(0, 5), "p", batchSize: 2).ReadBatchesAsync(TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);

        Assert.Equal([2, 2, 1], batches.Select(b => b.Records.Length));
        Assert.True(batches[^1].IsEndOfPartition);
        Assert.Equal(SequenceNumber.FromInt64(5), batches[^1].EndPosition!.Value.Sequence);
    }
}
