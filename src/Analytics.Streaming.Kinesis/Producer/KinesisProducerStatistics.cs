namespace Analytics.Streaming.Kinesis;

/// <summary>Running totals of one <see cref="KinesisProducer"/> (the same figures it reports through <see cref="KinesisTelemetry"/>).</summary>
/// <param name="Records">User records written.</param>
/// <param name="Bytes">User record bytes written (data and partition keys).</param>
/// <param name="Batches">PutRecords calls made.</param>
/// <param name="KinesisRecords">Kinesis records written (aggregates count once).</param>
/// <param name="Retries">Kinesis records sent again after a failure.</param>
/// <param name="Throttles">Kinesis records throttled.</param>
/// <param name="Failures">User records given up on.</param>
/// <param name="TotalLatency">Total duration of PutRecords calls.</param>
public readonly record struct KinesisProducerStatistics(
    long Records,
    long Bytes,
    long Batches,
    long KinesisRecords,
    long Retries,
    long Throttles,
    long Failures,
    TimeSpan TotalLatency);
