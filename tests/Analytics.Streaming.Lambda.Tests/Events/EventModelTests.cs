using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.Lambda.Tests.Events;

public sealed class EventModelTests
{
    [Fact]
    public void KinesisStreamEvent_DocumentedFixture_ReadsEveryField()
    {
        var e = JsonSerializer.Deserialize(TestData.Fixture("kinesis-event.json"), LambdaJsonContext.Default.KinesisStreamEvent)!;

        var record = e.Records[0];
        Assert.Equal(2, e.Records.Count);
        Assert.Equal("shardId-000000000006", record.ShardId);
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", record.Kinesis.SequenceNumber);
        Assert.Equal("user-1", record.Kinesis.PartitionKey);
        Assert.Equal("{\"user\":\"user-1\",\"page\":\"/home\",\"time\":1700000000000,\"value\":3}", Encoding.UTF8.GetString(record.Kinesis.Data.Span));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1545084650987), record.Kinesis.ApproximateArrivalTimestamp);
        Assert.Equal("NONE", record.Kinesis.EncryptionType);
        Assert.Null(e.Records[1].Kinesis.EncryptionType);
        Assert.Equal("arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream", record.EventSourceArn);
        Assert.Equal("arn:aws:iam::123456789012:role/lambda-role", record.InvokeIdentityArn);
        Assert.Equal(("aws:kinesis", "1.0", "aws:kinesis:record", "us-east-2"), (record.EventSource, record.EventVersion, record.EventName, record.AwsRegion));
    }

    [Fact]
    public void KinesisStreamEvent_WrittenBack_KeepsTheDocumentedNamesAndSecondsWithMilliseconds()
    {
        var e = JsonSerializer.Deserialize(TestData.Fixture("kinesis-event.json"), LambdaJsonContext.Default.KinesisStreamEvent)!;

        using var written = JsonDocument.Parse(e.ToJson());
        using var original = JsonDocument.Parse(TestData.Fixture("kinesis-event.json"));

        Assert.True(JsonElement.DeepEquals(original.RootElement, written.RootElement), e.ToJson());
    }

    [Fact]
    public void KinesisStreamTumblingWindowEvent_DocumentedFixture_ReadsWindowStateAndFlags()
    {
        var e = JsonSerializer.Deserialize(TestData.Fixture("kinesis-tumbling-event.json"), LambdaJsonContext.Default.KinesisStreamTumblingWindowEvent)!;
        var aws = JsonSerializer.Deserialize(TestData.Fixture("kinesis-tumbling-aws-state.json"), LambdaJsonContext.Default.KinesisStreamTumblingWindowEvent)!;

        Assert.Equal(new DateTimeOffset(2020, 12, 9, 7, 4, 0, TimeSpan.Zero), e.Window!.Start);
        Assert.Equal(new DateTimeOffset(2020, 12, 9, 7, 6, 0, TimeSpan.Zero), e.Window.End);
        Assert.Equal("shardId-000000000006", e.ShardId);
        Assert.Empty(e.State!);
        Assert.False(e.IsFinalInvokeForWindow);
        Assert.Equal(new Dictionary<string, string> { ["1"] = "282", ["2"] = "715" }, aws.State);
        Assert.True(aws.IsFinalInvokeForWindow);
        Assert.Empty(aws.Records);
    }

    [Fact]
    public void FirehoseTransformationEvent_DocumentedFixture_ReadsMillisecondsAndSubsequenceAsStringOrNumber()
    {
        var e = JsonSerializer.Deserialize(TestData.Fixture("firehose-event.json"), LambdaJsonContext.Default.FirehoseTransformationEvent)!;
        var numeric = JsonSerializer.Deserialize(TestData.Fixture("firehose-event.json").Replace("\"subsequenceNumber\": \"0\"", "\"subsequenceNumber\": 7", StringComparison.Ordinal), LambdaJsonContext.Default.FirehoseTransformationEvent)!;

        var record = e.Records[0];
        Assert.Equal("invoked123", e.InvocationId);
        Assert.Equal("arn:aws:kinesis:us-east-1:123456789012:stream/test", e.SourceKinesisStreamArn);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1507217624302), record.ApproximateArrivalTimestamp);
        Assert.Equal("shardId-000000000000", record.KinesisRecordMetadata!.ShardId);
        Assert.Equal(0, record.KinesisRecordMetadata.SubsequenceNumber);
        Assert.Equal(7, numeric.Records[0].KinesisRecordMetadata!.SubsequenceNumber);
    }

    [Fact]
    public void FirehoseTransformationResult_DocumentedFixture_RoundTripsExactly()
    {
        var result = JsonSerializer.Deserialize(TestData.Fixture("firehose-response.json"), LambdaJsonContext.Default.FirehoseTransformationResult)!;

        string written = JsonSerializer.Serialize(result, LambdaJsonContext.Default.FirehoseTransformationResult);

        using var original = JsonDocument.Parse(TestData.Fixture("firehose-response.json"));
        using var again = JsonDocument.Parse(written);
        Assert.True(JsonElement.DeepEquals(original.RootElement, again.RootElement), written);
        Assert.Equal("home", result.Records[0].Metadata!.PartitionKeys["page"]);
    }

    [Fact]
    public void GetShardId_EventIdWithoutColon_FailsWithTheId()
    {
        var error = Assert.Throws<FormatException>(() => KinesisStreamRecord.GetShardId("shardId-000000000006"));

        Assert.Contains("shardId-000000000006", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fixtures_AgainstTypesAwsLambda_TypeCheck()
    {
        var (exitCode, output) = await TestData.CheckTypesAsync(
        [
            ("KinesisStreamEvent", TestData.Fixture("kinesis-event.json"), true),
            ("KinesisStreamTumblingWindowEvent", TestData.Fixture("kinesis-tumbling-event.json"), true),
            ("KinesisStreamTumblingWindowEvent", TestData.Fixture("kinesis-tumbling-aws-state.json"), true),
            ("KinesisStreamBatchResponse", TestData.Fixture("kinesis-batch-response.json"), false),
            ("KinesisStreamStateResponse", TestData.Fixture("kinesis-state-response.json"), false),
            ("FirehoseTransformationEvent", TestData.Fixture("firehose-event.json"), false),
            ("FirehoseTransformationResult", TestData.Fixture("firehose-response.json"), false),
        ]);

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task TypeChecker_MisspelledKeyOrResult_IsRejected()
    {
        var (exitCode, output) = await TestData.CheckTypesAsync(
        [
            ("KinesisStreamBatchResponse", "{ \"batchitemfailures\": [] }", false),
            ("FirehoseTransformationResult", "{ \"records\": [ { \"recordId\": \"1\", \"result\": \"TRANSFORMED_STATE_OK\" } ] }", false),
        ]);

        Assert.Equal(1, exitCode);
        Assert.Contains("batchitemfailures", output, StringComparison.Ordinal);
        Assert.Contains("TRANSFORMED_STATE_OK", output, StringComparison.Ordinal);
    }
}
