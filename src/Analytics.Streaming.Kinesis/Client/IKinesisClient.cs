namespace Analytics.Streaming.Kinesis;

/// <summary>
/// The Kinesis Data Streams operations this package uses: a thin, replaceable seam over the service's JSON 1.1 API.
/// </summary>
/// <remarks>
/// <para>
/// <c>KinesisClient</c> implements it over <see cref="HttpClient"/> with SigV4 signing; an adapter over the
/// official AWS SDK client can implement it too. Implementations are thread-safe: any number of calls may run at
/// once.
/// </para>
/// <para>
/// Failures surface as <see cref="KinesisException"/> (or a subclass such as
/// <see cref="ProvisionedThroughputExceededException"/> or <see cref="ExpiredIteratorException"/>) after the
/// retry policy of the implementation has given up on retryable errors (throttling, 5xx, connection failures).
/// Cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </para>
/// </remarks>
public interface IKinesisClient
{
    /// <summary>Writes one record (<c>PutRecord</c>).</summary>
    /// <param name="request">The record and its stream.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The shard and sequence number the record got.</returns>
    Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken);

    /// <summary>Writes up to 500 records in one call (<c>PutRecords</c>).</summary>
    /// <param name="request">The records and their stream.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// One result per request entry, in request order. Entries can fail individually
    /// (<see cref="PutRecordsResultEntry.ErrorCode"/>) while the call as a whole succeeds; the client does not retry
    /// them: that is the caller's (the producer's) job.
    /// </returns>
    Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken);

    /// <summary>Lists one page of shards (<c>ListShards</c>).</summary>
    /// <param name="request">The stream, filter and paging token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page; <see cref="ListShardsResponse.NextToken"/> is set when more pages follow.</returns>
    Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken);

    /// <summary>Describes a stream without listing its shards (<c>DescribeStreamSummary</c>).</summary>
    /// <param name="request">The stream.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The summary.</returns>
    Task<StreamDescriptionSummary> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken);

    /// <summary>Gets an iterator to read a shard from a starting position (<c>GetShardIterator</c>).</summary>
    /// <param name="request">The stream, shard and starting position.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The iterator, valid for 5 minutes.</returns>
    Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken);

    /// <summary>Reads records from a shard iterator (<c>GetRecords</c>).</summary>
    /// <param name="request">The iterator and the maximum record count.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// The records, the next iterator (<see langword="null"/> at the end of a closed shard), the lag and, at the end
    /// of a closed shard, its children.
    /// </returns>
    /// <exception cref="ExpiredIteratorException">The iterator is older than 5 minutes; get a new one.</exception>
    Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken);

    /// <summary>Registers an enhanced fan-out consumer on a stream (<c>RegisterStreamConsumer</c>).</summary>
    /// <param name="request">The stream ARN and consumer name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The consumer, usually in status <c>CREATING</c>; poll <see cref="DescribeStreamConsumerAsync"/> until <c>ACTIVE</c>.</returns>
    /// <exception cref="ResourceInUseException">A consumer with that name exists already.</exception>
    Task<StreamConsumerDescription> RegisterStreamConsumerAsync(RegisterStreamConsumerRequest request, CancellationToken cancellationToken);

    /// <summary>Describes an enhanced fan-out consumer (<c>DescribeStreamConsumer</c>).</summary>
    /// <param name="request">The consumer ARN, or the stream ARN and consumer name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The consumer.</returns>
    Task<StreamConsumerDescription> DescribeStreamConsumerAsync(DescribeStreamConsumerRequest request, CancellationToken cancellationToken);

    /// <summary>Deregisters an enhanced fan-out consumer (<c>DeregisterStreamConsumer</c>).</summary>
    /// <param name="request">The consumer ARN, or the stream ARN and consumer name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the service accepted the request.</returns>
    Task DeregisterStreamConsumerAsync(DescribeStreamConsumerRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes an enhanced fan-out consumer to one shard (<c>SubscribeToShard</c>, an HTTP/2 event stream) and
    /// yields its events as they arrive.
    /// </summary>
    /// <param name="request">The consumer ARN, shard and starting position.</param>
    /// <param name="cancellationToken">Cancels the subscription and ends the enumeration.</param>
    /// <returns>
    /// The events. The enumeration ends normally when the service closes the subscription (after about 5 minutes,
    /// or at the end of a closed shard: the last event then carries <see cref="SubscribeToShardEvent.ChildShards"/>);
    /// subscribe again from <see cref="SubscribeToShardEvent.ContinuationSequenceNumber"/> to continue.
    /// </returns>
    /// <remarks>
    /// Errors the service sends inside the stream are thrown from the enumerator as <see cref="KinesisException"/>
    /// subclasses. The subscription itself is not retried once events have been yielded.
    /// </remarks>
    IAsyncEnumerable<SubscribeToShardEvent> SubscribeToShardAsync(SubscribeToShardRequest request, CancellationToken cancellationToken);

    /// <summary>Creates a provisioned stream (<c>CreateStream</c>); mostly for tests and tools.</summary>
    /// <param name="request">The stream name and shard count.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the service accepted the request (the stream is then <c>CREATING</c>).</returns>
    Task CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken);

    /// <summary>Deletes a stream (<c>DeleteStream</c>); mostly for tests and tools.</summary>
    /// <param name="request">The stream.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the service accepted the request.</returns>
    Task DeleteStreamAsync(StreamRequest request, CancellationToken cancellationToken);

    /// <summary>Splits a shard into two (<c>SplitShard</c>); mostly for tests and tools.</summary>
    /// <param name="request">The shard and the new starting hash key of the upper child.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the service accepted the request (the stream is then <c>UPDATING</c>).</returns>
    Task SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken);

    /// <summary>Merges two adjacent shards (<c>MergeShards</c>); mostly for tests and tools.</summary>
    /// <param name="request">The two shards.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the service accepted the request (the stream is then <c>UPDATING</c>).</returns>
    Task MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken);
}
