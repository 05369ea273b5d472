namespace Analytics.Streaming.Kinesis.Tests.Support;

/// <summary>An <see cref="IKinesisClient"/> whose PutRecords and ListShards answers a test scripts; every other member is unused by the stage tests.</summary>
internal sealed class ScriptedKinesisClient : IKinesisClient
{
    public Func<KinesisPutRecordsRequest, int, KinesisPutRecordsResponse>? PutRecords { get; init; }

    public Func<KinesisListShardsRequest, KinesisListShardsResponse>? ListShards { get; init; }

    /// <summary>Gets every PutRecords request, in order.</summary>
    public List<KinesisPutRecordsRequest> PutRecordsCalls { get; } = [];

    public Task<KinesisPutRecordsResponse> PutRecordsAsync(KinesisPutRecordsRequest request, CancellationToken cancellationToken)
    {
        lock (PutRecordsCalls)
        {
            PutRecordsCalls.Add(request);
            return Task.FromResult(PutRecords!(request, PutRecordsCalls.Count));
        }
    }

    public Task<KinesisListShardsResponse> ListShardsAsync(KinesisListShardsRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(ListShards!(request));

    public Task<KinesisPutRecordResponse> PutRecordAsync(KinesisPutRecordRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<KinesisStreamSummary> DescribeStreamSummaryAsync(KinesisDescribeStreamSummaryRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<KinesisGetShardIteratorResponse> GetShardIteratorAsync(KinesisGetShardIteratorRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<KinesisGetRecordsResponse> GetRecordsAsync(KinesisGetRecordsRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<KinesisRegisteredConsumer> RegisterStreamConsumerAsync(KinesisRegisterStreamConsumerRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<KinesisRegisteredConsumer> DescribeStreamConsumerAsync(KinesisDescribeStreamConsumerRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DeregisterStreamConsumerAsync(KinesisDescribeStreamConsumerRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    public IAsyncEnumerable<KinesisSubscribeToShardEvent> SubscribeToShardAsync(KinesisSubscribeToShardRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

    /// <summary>An answer in which the entries whose data <paramref name="fail"/> picks fail with <paramref name="errorCode"/>.</summary>
    public static KinesisPutRecordsResponse Answer(KinesisPutRecordsRequest request, Func<string, bool> fail, string errorCode = "ProvisionedThroughputExceededException")
    {
        var results = request.Records
            .Select((entry, i) => fail(System.Text.Encoding.UTF8.GetString(entry.Data.Span))
                ? new KinesisPutRecordsEntryResult(null, null, errorCode, "scripted failure")
                : new KinesisPutRecordsEntryResult((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "shardId-000000000000", null, null))
            .ToList();
        return new KinesisPutRecordsResponse(results.Count(r => !r.IsSuccess), results, null);
    }
}
