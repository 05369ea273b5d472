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
/// Failures surface as <see cref="KinesisException"/> (<see cref="KinesisException.Error"/> says which; callers catch
/// the subclasses <see cref="KinesisExpiredIteratorException"/>, <see cref="KinesisResourceNotFoundException"/> and
/// <see cref="KinesisResourceInUseException"/>) after the retry policy of the implementation has given up on
/// retryable errors (throttling, 5xx, connection failures). Cancellation surfaces as
/// <see cref="OperationCanceledException"/>.
/// </para>
/// <para>
/// Administration that only tests and tools need (creating, deleting and resharding streams) is not part of this
/// seam; use the AWS CLI, infrastructure code or the AWS SDK for it. <see cref="KinesisClientExtensions"/> adds the
/// listing of every shard of a stream on top of these members.
/// </para>
/// </remarks>
public interface IKinesisClient
{
    /// <summary>Writes one record (<c>PutRecord</c>).</summary>
    /// <param name="request">The record and its stream.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The shard and sequence number the record got.</returns>
    Task<KinesisPutRecordResponse> PutRecordAsync(KinesisPutRecordRequest request, CancellationToken cancellationToken);

    /// <summary>Writes up to 500 records in one call (<c>PutRecords</c>).</summary>
    /// <param name="request">The records and their stream.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// One result per request entry, in request order. Entries can fail individually
    /// (<see cref="KinesisPutRecordsEntryResult.ErrorCode"/>) while the call as a whole succeeds; the client does not retry
    /// them: that is the caller's (the producer's) job.
    /// </returns>
    Task<KinesisPutRecordsResponse> PutRecordsAsync(KinesisPutRecordsRequest request, CancellationToken cancellationToken);

    /// <summary>Lists one page of shards (<c>ListShards</c>).</summary>
    /// <param name="request">The stream, filter and paging token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page; <see cref="KinesisListShardsResponse.NextToken"/> is set when more pages follow.</returns>
    Task<KinesisListShardsResponse> ListShardsAsync(KinesisListShardsRequest request, CancellationToken cancellationToken);

    /// <summary>Describes a stream without listing its shards (<c>DescribeStreamSummary</c>).</summary>
    /// <param name="request">The stream.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The summary.</returns>
    Task<KinesisStreamSummary> DescribeStreamSummaryAsync(KinesisDescribeStreamSummaryRequest request, CancellationToken cancellationToken);

    /// <summary>Gets an iterator to read a shard from a starting position (<c>GetShardIterator</c>).</summary>
    /// <param name="request">The stream, shard and starting position.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The iterator, valid for 5 minutes.</returns>
    Task<KinesisGetShardIteratorResponse> GetShardIteratorAsync(KinesisGetShardIteratorRequest request, CancellationToken cancellationToken);

    /// <summary>Reads records from a shard iterator (<c>GetRecords</c>).</summary>
    /// <param name="request">The iterator and the maximum record count.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// The records, the next iterator (<see langword="null"/> at the end of a closed shard), the lag and, at the end
    /// of a closed shard, its children.
    /// </returns>
    /// <exception cref="KinesisExpiredIteratorException">The iterator is older than 5 minutes; get a new one.</exception>
    Task<KinesisGetRecordsResponse> GetRecordsAsync(KinesisGetRecordsRequest request, CancellationToken cancellationToken);

    /// <summary>Registers an enhanced fan-out consumer on a stream (<c>RegisterStreamConsumer</c>).</summary>
    /// <param name="request">The stream ARN and consumer name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The consumer, usually in status <c>CREATING</c>; poll <see cref="DescribeStreamConsumerAsync"/> until <c>ACTIVE</c>.</returns>
    /// <exception cref="KinesisResourceInUseException">A consumer with that name exists already.</exception>
    Task<KinesisRegisteredConsumer> RegisterStreamConsumerAsync(KinesisRegisterStreamConsumerRequest request, CancellationToken cancellationToken);

    /// <summary>Describes an enhanced fan-out consumer (<c>DescribeStreamConsumer</c>).</summary>
    /// <param name="request">The consumer ARN, or the stream ARN and consumer name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The consumer.</returns>
    Task<KinesisRegisteredConsumer> DescribeStreamConsumerAsync(KinesisDescribeStreamConsumerRequest request, CancellationToken cancellationToken);

    /// <summary>Deregisters an enhanced fan-out consumer (<c>DeregisterStreamConsumer</c>).</summary>
    /// <param name="request">The consumer ARN, or the stream ARN and consumer name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the service accepted the request.</returns>
    Task DeregisterStreamConsumerAsync(KinesisDescribeStreamConsumerRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes an enhanced fan-out consumer to one shard (<c>SubscribeToShard</c>, an HTTP/2 event stream) and
    /// yields its events as they arrive.
    /// </summary>
    /// <param name="request">The consumer ARN, shard and starting position.</param>
    /// <param name="cancellationToken">Cancels the subscription and ends the enumeration.</param>
    /// <returns>
    /// The events. The enumeration ends normally when the service closes the subscription (after about 5 minutes,
    /// or at the end of a closed shard: the last event then carries <see cref="KinesisSubscribeToShardEvent.ChildShards"/>);
    /// subscribe again from <see cref="KinesisSubscribeToShardEvent.ContinuationSequenceNumber"/> to continue.
    /// </returns>
    /// <remarks>
    /// Errors the service sends inside the stream are thrown from the enumerator as <see cref="KinesisException"/>
    /// subclasses. The subscription itself is not retried once events have been yielded.
    /// </remarks>
    IAsyncEnumerable<KinesisSubscribeToShardEvent> SubscribeToShardAsync(KinesisSubscribeToShardRequest request, CancellationToken cancellationToken);
}
