using System.Buffers;
using System.Text;
using Analytics.Streaming.Kinesis.Firehose;
using Analytics.Streaming.Kinesis.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Analytics.Streaming.Kinesis.Tests.DeadLetters;

/// <summary>Dead letters as Firehose records: the record layout, payloads cut to the limit, delivery and a delivery that fails.</summary>
public sealed class DeadLetterStreamSinkTests
{
    private static readonly DateTimeOffset Arrival = new(2026, 1, 31, 10, 15, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DeadLetter Letter(int i, int payloadBytes = 20) => new(
        new StreamPosition("shardId-00000000000" + (i % 2), SequenceNumber.Parse("4959033827149025660855969253836157109592157598913658" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)), i % 3),
        (DeadLetterReason)(i % 6),
        $"record {i} is \"bad\" é",
        Enumerable.Range(0, payloadBytes).Select(b => (byte)(b + i)).ToArray());

    [Fact]
    public void Record_RoundTrip_KeepsEveryFieldInFirehosesErrorLayout()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var letter = Letter(5);
        DeadLetterRecord.Write(letter, Arrival, buffer, FirehoseSinkOptions.MaxRecordSize);
        string json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.StartsWith("""{"attemptsMade":1,"arrivalTimestamp":1769854500000,"errorCode":"Rejected","errorMessage":"record 5 is \"bad\" é","attemptEndingTimestamp":1769854500000,"rawData":""", json, StringComparison.Ordinal);
        var read = DeadLetterRecord.Parse(buffer.WrittenSpan);
        Assert.Equal(Arrival, read.Time);
        Assert.Equal(letter.Position, read.DeadLetter.Position);
        Assert.Equal(letter.Reason, read.DeadLetter.Reason);
        Assert.Equal(letter.Message, read.DeadLetter.Message);
        Assert.Equal(letter.Payload.ToArray(), read.DeadLetter.Payload.ToArray());
    }

    [Fact]
    public void Record_PayloadTooLargeForTheStream_IsCutAndMarked()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var letter = Letter(1, payloadBytes: 2 * 1024 * 1024) with { Message = new string('m', 10_000) };
        DeadLetterRecord.Write(letter, Arrival, buffer, FirehoseSinkOptions.MaxRecordSize - 1);
        Assert.InRange(buffer.WrittenCount, 900_000, FirehoseSinkOptions.MaxRecordSize - 1);
        string json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.Contains("\"rawDataTruncated\":true,\"rawDataLength\":2097152", json, StringComparison.Ordinal);
        var read = DeadLetterRecord.Parse(buffer.WrittenSpan);
        Assert.Equal(letter.Payload[..read.DeadLetter.Payload.Length].ToArray(), read.DeadLetter.Payload.ToArray());
        Assert.Equal(DeadLetterRecord.MaxMessageLength, read.DeadLetter.Message.Length);
    }

    [Fact]
    public async Task KinesisStream_ProducerSharedWithAnotherWriterWhoFlushesFirst_TheSinksFlushStillThrowsItsFailure()
    {
        // Dead letters of source shard 0 fail for good; another writer on the same producer flushes first. The failure
        // is the sink's: its flush must throw (so its pipeline does not checkpoint past it), and the other's must not.
        await using var server = new LoopbackAwsServer(r =>
        {
            var results = r.Json.GetProperty("Records").EnumerateArray().Select(record =>
                record.GetProperty("PartitionKey").GetString() == "shardId-000000000000"
                    ? """{"ErrorCode":"InternalFailure","ErrorMessage":"Internal Service Failure"}"""
                    : """{"SequenceNumber":"1","ShardId":"shardId-000000000000"}""");
            return LoopbackResponse.Ok($$"""{"FailedRecordCount":1,"Records":[{{string.Join(',', results)}}]}""");
        });
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, new KinesisProducerOptions
        {
            StreamName = "dead-letters",
            Linger = TimeSpan.FromSeconds(30),
            Retry = { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
        });
        await using var sink = DeadLetterStreamSinks.KinesisStream(producer);

        await sink.WriteAsync(new[] { Letter(0), Letter(1) }, Ct);
        await producer.AddAsync("order-7"u8.ToArray(), "orders", cancellationToken: Ct);
        await producer.FlushAsync(Ct);
        var exception = await Assert.ThrowsAsync<KinesisProducerException>(async () => await sink.FlushAsync(Ct));

        Assert.Equal("shardId-000000000000", Assert.Single(exception.Failures).PartitionKey);
        await sink.FlushAsync(Ct);
        await producer.FlushAsync(Ct);
    }

    [Fact]
    public async Task KinesisStream_ProducerWithASmallerRecordLimit_CutsDeadLettersToItsLimit()
    {
        // A 200 KiB payload under a 64 KiB record limit: cut and marked, never refused (a refusal would stop the
        // pipeline on every replay of the same dead letter).
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(
            $$"""{"FailedRecordCount":0,"Records":[{{string.Join(',', r.Json.GetProperty("Records").EnumerateArray().Select(_ => """{"SequenceNumber":"1","ShardId":"shardId-000000000000"}"""))}}]}"""));
        using var client = new KinesisClient(server.ClientOptions());
        await using var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = "dead-letters", MaxRecordSize = 64 * 1024, AggregationMaxSize = 32 * 1024 });
        await using var sink = DeadLetterStreamSinks.KinesisStream(producer);

        await sink.WriteAsync(new[] { Letter(0, payloadBytes: 200 * 1024) }, Ct);
        await sink.FlushAsync(Ct);

        var record = Assert.Single(server.Requests.SelectMany(r => r.Json.GetProperty("Records").EnumerateArray()));
        byte[] data = record.GetProperty("Data").GetBytesFromBase64();
        Assert.InRange(data.Length, 32 * 1024, 64 * 1024);
        Assert.Contains("\"rawDataTruncated\":true", Encoding.UTF8.GetString(data), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KinesisStream_ProducerLimitTooSmallForADeadLetter_IsRefusedWhenTheSinkIsMade()
    {
        using var client = new KinesisClient(new KinesisClientOptions { Region = "us-east-1", ServiceUrl = new Uri("http://127.0.0.1:9") });
        await using var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = "dead-letters", MaxRecordSize = 4 * 1024, AggregationMaxSize = 2 * 1024 });

        var error = Assert.Throws<ArgumentException>(() => DeadLetterStreamSinks.KinesisStream(producer));

        Assert.Contains("MaxRecordSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Firehose_DeadLetters_AreDeliveredAndReadBack()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(
            $$"""{"FailedPutCount":0,"RequestResponses":[{{string.Join(',', r.Json.GetProperty("Records").EnumerateArray().Select(_ => """{"RecordId":"x"}"""))}}]}"""));
        using var client = new FirehoseClient(server.FirehoseOptions());
        var letters = Enumerable.Range(0, 700).Select(i => Letter(i)).ToArray();
        await using (var sink = DeadLetterStreamSinks.Firehose(client, new FirehoseSinkOptions { DeliveryStreamName = "dead-letters", TimeProvider = new FakeTimeProvider(Arrival) }))
        {
            await sink.WriteAsync(letters, Ct);
            await sink.FlushAsync(Ct);
        }

        var records = server.Requests.SelectMany(r => r.Json.GetProperty("Records").EnumerateArray()).Select(r => r.GetProperty("Data").GetBytesFromBase64()).ToList();
        Assert.Equal(700, records.Count);
        Assert.All(records, r => Assert.Equal((byte)'\n', r[^1]));
        var read = records.Select(r => DeadLetterRecord.Parse(r).DeadLetter).ToList();
        Assert.Equal(letters.Select(l => l.Position), read.Select(l => l.Position));
        Assert.Equal(letters.Select(l => Convert.ToBase64String(l.Payload.Span)), read.Select(l => Convert.ToBase64String(l.Payload.Span)));
    }

    [Fact]
    public async Task Firehose_DeliveryThatKeepsFailing_MakesTheFlushThrow()
    {
        await using var server = new LoopbackAwsServer(r => LoopbackResponse.Ok(
            $$"""{"FailedPutCount":1,"RequestResponses":[{{string.Join(',', r.Json.GetProperty("Records").EnumerateArray().Select(_ => """{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."}"""))}}]}"""));
        using var client = new FirehoseClient(server.FirehoseOptions());
        await using var sink = DeadLetterStreamSinks.Firehose(client, new FirehoseSinkOptions
        {
            DeliveryStreamName = "dead-letters",
            Retry = new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) },
        });
        await sink.WriteAsync(new[] { Letter(1) }, Ct);
        var failure = await Assert.ThrowsAsync<FirehoseDeliveryException>(async () => await sink.FlushAsync(Ct));
        Assert.Equal(1, failure.FailedRecordCount);
        Assert.Equal(3, server.Requests.Count);
    }
}
