namespace Analytics.Streaming.Hosting;

/// <summary>
/// Reports how far a source's readers are behind the newest record of each partition (for Kinesis, the service's
/// <c>MillisBehindLatest</c> per shard), for the health check and the pipeline's status.
/// </summary>
/// <remarks>
/// <para>
/// Without one, the host reads the lag from the batches themselves (<see cref="RecordBatch{T}.BehindLatest"/>, which the
/// Kinesis shard consumer fills in and <c>Decode(...)</c> keeps): the last value per partition, dropped when the
/// partition ends. A source that implements this interface is used as its own reader. Register another with
/// <c>ReadBehindLatestFrom(...)</c> on the pipeline's registration, for example to read the consumer's own per-shard
/// figures: <c>.ReadBehindLatestFrom&lt;KinesisShardConsumer&gt;(consumer =&gt; consumer.BehindLatest)</c>.
/// </para>
/// <para>Called from health checks on any thread, possibly while the source is read: it must be thread-safe and cheap (a snapshot of figures already known, no I/O).</para>
/// </remarks>
public interface IBehindLatestReader
{
    /// <summary>Reads, per partition, how far its reader is behind the newest record; partitions without a figure are absent.</summary>
    /// <returns>A snapshot; empty when nothing is known.</returns>
    IReadOnlyDictionary<string, TimeSpan> ReadBehindLatest();
}
