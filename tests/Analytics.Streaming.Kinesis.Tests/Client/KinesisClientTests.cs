using System.Text;
using System.Text.Json;
using Analytics.Streaming.Kinesis.Tests.Support;

namespace Analytics.Streaming.Kinesis.Tests.Client;

public sealed class KinesisClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PutRecordsAsync_Request_HasJson11FramingSignatureAndBase64Data()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Ok(
            """{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},{"SequenceNumber":"2","ShardId":"shardId-000000000001"}],"EncryptionType":"NONE"}"""));
        using var client = new KinesisClient(server.ClientOptions());

        var response = await client.PutRecordsAsync(
            new KinesisPutRecordsRequest
            {
                StreamName = "orders",
                Records = [new("hi"u8.ToArray(), "pk-1"), new(Array.Empty<byte>(), "pk-2", "42")],
            },
            Ct);

        var request = Assert.Single(server.Requests);
        Assert.Equal("Kinesis_20131202.PutRecords", request.Target);
        Assert.Equal("application/x-amz-json-1.1", request.ContentType);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", request.Authorization, StringComparison.Ordinal);
        Assert.Contains("/us-east-1/kinesis/aws4_request", request.Authorization, StringComparison.Ordinal);
        Assert.NotNull(request.AmzDate);
        var json = request.Json;
        Assert.Equal("orders", json.GetProperty("StreamName").GetString());
        var records = json.GetProperty("Records");
        Assert.Equal("aGk=", records[0].GetProperty("Data").GetString());
        Assert.Equal("pk-1", records[0].GetProperty("PartitionKey").GetString());
        Assert.False(records[0].TryGetProperty("ExplicitHashKey", out _));
        Assert.Equal(string.Empty, records[1].GetProperty("Data").GetString());
        Assert.Equal("42", records[1].GetProperty("ExplicitHashKey").GetString());
        Assert.Equal(0, response.FailedRecordCount);
        Assert.Equal("shardId-000000000001", response.Records[1].ShardId);
    }

    [Fact]
    public async Task PutRecordsAsync_PartialFailure_ReturnsPerEntryErrorsWithoutRetrying()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Ok(
            """{"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"s"},{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded"}]}"""));
        using var client = new KinesisClient(server.ClientOptions());

        var response = await client.PutRecordsAsync(new KinesisPutRecordsRequest { StreamName = "s", Records = [new("a"u8.ToArray(), "a"), new("b"u8.ToArray(), "b")] }, Ct);

        Assert.Single(server.Requests);
        Assert.Equal(1, response.FailedRecordCount);
        Assert.True(response.Records[0].IsSuccess);
        Assert.Equal(KinesisErrors.ProvisionedThroughputExceeded, response.Records[1].ErrorCode);
        Assert.Equal("Rate exceeded", response.Records[1].ErrorMessage);
    }

    [Fact]
    public async Task PutRecordAsync_ServerErrorThenSuccess_RetriesTransparently()
    {
        int calls = 0;
        await using var server = new LoopbackAwsServer(_ => Interlocked.Increment(ref calls) < 3
            ? LoopbackResponse.Error(500, "InternalFailure", "boom")
            : LoopbackResponse.Ok("""{"ShardId":"shardId-000000000000","SequenceNumber":"495","EncryptionType":"NONE"}"""));
        using var client = new KinesisClient(server.ClientOptions(maxAttempts: 3));

        var response = await client.PutRecordAsync(new KinesisPutRecordRequest { StreamName = "s", Data = "x"u8.ToArray(), PartitionKey = "k" }, Ct);

        Assert.Equal(3, calls);
        Assert.Equal("495", response.SequenceNumber);
    }

    [Fact]
    public async Task PutRecordAsync_Retries_AreLoggedWithStableEventIds()
    {
        int calls = 0;
        await using var server = new LoopbackAwsServer(_ => Interlocked.Increment(ref calls) switch
        {
            1 => LoopbackResponse.Error(400, "ProvisionedThroughputExceededException", "slow down"),
            2 => LoopbackResponse.Error(503, "ServiceUnavailable", "busy"),
            _ => LoopbackResponse.Ok("""{"ShardId":"shardId-000000000000","SequenceNumber":"7"}"""),
        });
        var logs = new CapturingLoggerFactory();
        using var client = new KinesisClient(server.ClientOptions(maxAttempts: 5, loggerFactory: logs));

        await client.PutRecordAsync(new KinesisPutRecordRequest { StreamName = "s", Data = "x"u8.ToArray(), PartitionKey = "k" }, Ct);

        Assert.Equal([2001, 2002], logs.Entries.Select(e => e.EventId.Id));
        Assert.Equal(["CallThrottled", "CallRetrying"], logs.Entries.Select(e => e.EventId.Name));
        Assert.Contains("PutRecord", logs.Entries[0].Message, StringComparison.Ordinal);
        Assert.Equal(typeof(KinesisClient).FullName, logs.Entries[0].Category);
    }

    [Fact]
    public async Task GetRecordsAsync_Throttled_ThrowsTypedExceptionAfterMaxAttempts()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Error(400, "ProvisionedThroughputExceededException", "Rate exceeded for shard"));
        using var client = new KinesisClient(server.ClientOptions(maxAttempts: 2));

        var exception = await Assert.ThrowsAsync<KinesisException>(
            () => client.GetRecordsAsync(new KinesisGetRecordsRequest { ShardIterator = "it" }, Ct));

        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(KinesisErrorCode.ProvisionedThroughputExceeded, exception.Error);
        Assert.True(exception.IsThrottling);
        Assert.True(exception.IsRetryable);
        Assert.Contains("Rate exceeded for shard", exception.Message, StringComparison.Ordinal);
        Assert.NotNull(exception.RequestId);
    }

    [Fact]
    public async Task GetRecordsAsync_ExpiredIterator_ThrowsAtOnceWithoutRetry()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Error(400, "com.amazonaws.kinesis.v20131202#ExpiredIteratorException", "Iterator expired"));
        using var client = new KinesisClient(server.ClientOptions(maxAttempts: 5));

        var exception = await Assert.ThrowsAsync<KinesisExpiredIteratorException>(() => client.GetRecordsAsync(new KinesisGetRecordsRequest { ShardIterator = "it" }, Ct));

        Assert.Single(server.Requests);
        Assert.Equal("ExpiredIteratorException", exception.ErrorCode);
        Assert.Equal(KinesisErrorCode.ExpiredIterator, exception.Error);
        Assert.False(exception.IsRetryable);
    }

    [Fact]
    public async Task DescribeStreamSummaryAsync_ErrorTypeOnlyInHeader_MapsToResourceNotFound()
    {
        await using var server = new LoopbackAwsServer(_ => new LoopbackResponse(400, "{}", "ResourceNotFoundException:http://internal"));
        using var client = new KinesisClient(server.ClientOptions());

        await Assert.ThrowsAsync<KinesisResourceNotFoundException>(() => client.DescribeStreamSummaryAsync(new KinesisDescribeStreamSummaryRequest { StreamName = "missing" }, Ct));
    }

    [Fact]
    public async Task GetRecordsAsync_Answer_ParsesRecordsTimestampsNullsAndChildren()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Ok("""
            {"Records":[{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ApproximateArrivalTimestamp":1.441215410867E9,
                         "Data":"dGVzdGRhdGE=","PartitionKey":"123","EncryptionType":null},
                        {"SequenceNumber":"7","ApproximateArrivalTimestamp":1441215410.5,"Data":"","PartitionKey":"k"}],
             "NextShardIterator":null,"MillisBehindLatest":24000,
             "ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"],
                             "HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"}}]}
            """));
        using var client = new KinesisClient(server.ClientOptions());

        var response = await client.GetRecordsAsync(new KinesisGetRecordsRequest { ShardIterator = "it", Limit = 100 }, Ct);

        Assert.Equal(100, server.Requests.Single().Json.GetProperty("Limit").GetInt32());
        Assert.Equal(2, response.Records.Count);
        var first = response.Records[0];
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", first.SequenceNumber.ToString());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_441_215_410_867), first.ApproximateArrivalTimestamp);
        Assert.Equal("testdata", Encoding.UTF8.GetString(first.Data.Span));
        Assert.Null(first.EncryptionType);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_441_215_410_500), response.Records[1].ApproximateArrivalTimestamp);
        Assert.True(response.Records[1].Data.IsEmpty);
        Assert.True(response.IsEndOfShard);
        Assert.Equal(TimeSpan.FromSeconds(24), response.BehindLatest);
        var child = Assert.Single(response.ChildShards!);
        Assert.Equal(["shardId-000000000000"], child.ParentShards);
        Assert.Equal(KinesisHashKeyRange.All, child.HashKeyRange);
    }

    [Fact]
    public async Task ListShardsAsync_WithNextToken_SendsOnlyTheToken()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Ok("""
            {"Shards":[{"ShardId":"shardId-000000000001","ParentShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"5","EndingHashKey":"10"},
                        "SequenceNumberRange":{"StartingSequenceNumber":"100","EndingSequenceNumber":"200"}}],"NextToken":null}
            """));
        using var client = new KinesisClient(server.ClientOptions());

        var page = await client.ListShardsAsync(new KinesisListShardsRequest { StreamName = "s", NextToken = "tok", MaxResults = 10 }, Ct);

        var json = server.Requests.Single().Json;
        Assert.Equal("tok", json.GetProperty("NextToken").GetString());
        Assert.False(json.TryGetProperty("StreamName", out _));
        Assert.Equal(10, json.GetProperty("MaxResults").GetInt32());
        var shard = Assert.Single(page.Shards);
        Assert.True(shard.IsClosed);
        Assert.Equal(new KinesisHashKeyRange(5, 10), shard.HashKeyRange);
        Assert.Null(page.NextToken);
    }

    [Fact]
    public async Task DescribeStreamSummaryAsync_AnswerWithNullsAndScientificTimestamp_MapsEveryMember()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Ok("""
            {"StreamDescriptionSummary":{"StreamName":"orders","StreamARN":"arn:aws:kinesis:us-east-1:1:stream/orders","StreamStatus":"UPDATING",
             "StreamModeDetails":{"StreamMode":"ON_DEMAND"},"RetentionPeriodHours":48,"StreamCreationTimestamp":1.441215410867E9,
             "EncryptionType":null,"KeyId":null,"OpenShardCount":4,"ConsumerCount":null,"EnhancedMonitoring":[{"ShardLevelMetrics":[]}]}}
            """));
        using var client = new KinesisClient(server.ClientOptions());

        var summary = await client.DescribeStreamSummaryAsync(new KinesisDescribeStreamSummaryRequest { StreamName = "orders" }, Ct);

        Assert.Equal("arn:aws:kinesis:us-east-1:1:stream/orders", summary.StreamArn);
        Assert.True(summary.IsActive);
        Assert.Equal("ON_DEMAND", summary.StreamMode);
        Assert.Equal(TimeSpan.FromHours(48), summary.RetentionPeriod);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_441_215_410_867), summary.StreamCreationTimestamp);
        Assert.Null(summary.EncryptionType);
        Assert.Equal(4, summary.OpenShardCount);
        Assert.Null(summary.ConsumerCount);
    }

    [Theory]
    [InlineData("RegisterStreamConsumer", "Consumer")]
    [InlineData("DescribeStreamConsumer", "ConsumerDescription")]
    public async Task StreamConsumerAnswers_EitherMemberName_MapToTheRegisteredConsumer(string operation, string member)
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Ok($$$"""
            {"{{{member}}}":{"ConsumerName":"app","ConsumerARN":"arn:c","ConsumerStatus":"CREATING","ConsumerCreationTimestamp":1700000000.5,"StreamARN":"arn:s"}}
            """));
        using var client = new KinesisClient(server.ClientOptions());

        var consumer = operation == "RegisterStreamConsumer"
            ? await client.RegisterStreamConsumerAsync(new KinesisRegisterStreamConsumerRequest { StreamArn = "arn:s", ConsumerName = "app" }, Ct)
            : await client.DescribeStreamConsumerAsync(new KinesisDescribeStreamConsumerRequest { ConsumerArn = "arn:c" }, Ct);

        Assert.Equal(new KinesisRegisteredConsumer("app", "arn:c", "CREATING", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_500), "arn:s"), consumer);
        Assert.False(consumer.IsActive);
    }

    [Fact]
    public async Task ErrorAnswer_CapitalMessageMember_IsKeptInTheException()
    {
        await using var server = new LoopbackAwsServer(_ => new LoopbackResponse(400, """{"__type":"AccessDeniedException","Message":"User is not authorized"}"""));
        using var client = new KinesisClient(server.ClientOptions());

        var error = await Assert.ThrowsAsync<KinesisException>(() => client.GetShardIteratorAsync(
            new KinesisGetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", StartingPosition = KinesisStartingPosition.Latest }, Ct));

        Assert.Equal(KinesisErrorCode.AccessDenied, error.Error);
        Assert.Contains("User is not authorized", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsRetryable);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task GetShardIteratorAsync_AtTimestamp_WritesEpochSecondsWithMilliseconds()
    {
        await using var server = new LoopbackAwsServer(_ => LoopbackResponse.Ok("""{"ShardIterator":"AAAA"}"""));
        using var client = new KinesisClient(server.ClientOptions());

        var response = await client.GetShardIteratorAsync(
            new KinesisGetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", StartingPosition = KinesisStartingPosition.AtTimestamp(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123)) },
            Ct);

        var json = server.Requests.Single().Json;
        Assert.Equal("AT_TIMESTAMP", json.GetProperty("ShardIteratorType").GetString());
        Assert.Equal(1_700_000_000.123m, json.GetProperty("Timestamp").GetDecimal());
        Assert.Equal("AAAA", response.ShardIterator);
    }

    [Fact]
    public async Task CallAsync_ConnectionRefused_ThrowsTransportFailureAfterRetries()
    {
        var options = new KinesisClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = new Uri("http://127.0.0.1:1/"),
            Credentials = new Amazon.Runtime.BasicAWSCredentials("a", "b"),
            Retry = new RetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(1) },
        };
        using var client = new KinesisClient(options);

        var exception = await Assert.ThrowsAsync<KinesisException>(() => client.DescribeStreamSummaryAsync(new KinesisDescribeStreamSummaryRequest { StreamName = "s" }, Ct));

        Assert.Equal(KinesisErrorCode.TransportFailure, exception.Error);
    }

    [Fact]
    public void Constructor_MissingRegion_ThrowsWithWhatToChange()
    {
        var exception = Assert.Throws<ArgumentException>(() => new KinesisClient(new KinesisClientOptions()));
        Assert.Contains("Region", exception.Message, StringComparison.Ordinal);
    }
}
