using System.Diagnostics;

namespace Analytics.Streaming.Kinesis;

/// <summary>The producer's running totals (<see cref="KinesisProducer.Statistics"/>) and the same figures on the package meter, tagged with the stream.</summary>
/// <remarks>Thread-safe: senders and the pump update it.</remarks>
internal sealed class ProducerCounters(string stream)
{
    private readonly TagList _tags = new() { { "stream", stream } };
    private long _records;
    private long _bytes;
    private long _requests;
    private long _kinesisRecords;
    private long _retries;
    private long _throttles;
    private long _failures;
    private long _latencyTicks;

    public KinesisProducerStatistics Snapshot => new(
        Interlocked.Read(ref _records),
        Interlocked.Read(ref _bytes),
        Interlocked.Read(ref _requests),
        Interlocked.Read(ref _kinesisRecords),
        Interlocked.Read(ref _retries),
        Interlocked.Read(ref _throttles),
        Interlocked.Read(ref _failures),
        TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks)));

    public void Request(TimeSpan duration)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _latencyTicks, duration.Ticks);
        KinesisTelemetry.ProducerRequests.Add(1, _tags);
        KinesisTelemetry.ProducerRequestDuration.Record(duration.TotalSeconds, _tags);
    }

    public void Written(OutgoingRecord record)
    {
        Interlocked.Increment(ref _kinesisRecords);
        Interlocked.Add(ref _records, record.UserRecordCount);
        Interlocked.Add(ref _bytes, record.UserBytes);
        KinesisTelemetry.ProducerRecords.Add(record.UserRecordCount, _tags);
        KinesisTelemetry.ProducerBytes.Add(record.UserBytes, _tags);
    }

    public void Resent(int kinesisRecords)
    {
        Interlocked.Add(ref _retries, kinesisRecords);
        KinesisTelemetry.ProducerRetries.Add(kinesisRecords, _tags);
    }

    public void Throttled(int kinesisRecords)
    {
        Interlocked.Add(ref _throttles, kinesisRecords);
        KinesisTelemetry.ProducerThrottles.Add(kinesisRecords, _tags);
    }

    public void Failed(int userRecords)
    {
        Interlocked.Add(ref _failures, userRecords);
        KinesisTelemetry.ProducerFailures.Add(userRecords, _tags);
    }
}

/// <summary>
/// The user records given up on and not yet reported, with their last error, by owner: <see cref="KinesisProducer.FlushAsync"/>
/// reports those added through the public members, and a writer of this library sharing the producer (a dead-letter
/// sink) reports its own, so one writer's flush never takes another's failures.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class ProducerFailures
{
    private readonly List<(object? Owner, KinesisProducerFailure Failure)> _failures = [];

    public void Add(OutgoingRecord record, string errorCode, string errorMessage)
    {
        lock (_failures)
        {
            foreach (var member in record.Members)
            {
                _failures.Add((member.Owner, new KinesisProducerFailure(member.Span.ToArray(), member.PartitionKey, member.ExplicitHashKey, errorCode, errorMessage, record.Attempts)));
            }
        }
    }

    /// <summary>Throws the failures of <paramref name="owner"/>'s records collected so far, once, as a <see cref="KinesisProducerException"/>.</summary>
    public void ThrowIfAny(object? owner)
    {
        KinesisProducerFailure[] failures;
        lock (_failures)
        {
            failures = [.. _failures.Where(f => f.Owner == owner).Select(f => f.Failure)];
            if (failures.Length == 0)
            {
                return;
            }

            _failures.RemoveAll(f => f.Owner == owner);
        }

        throw new KinesisProducerException(
            $"{failures.Length} record(s) could not be written to Kinesis; the first failed with {failures[0].ErrorCode}: {failures[0].ErrorMessage}",
            failures);
    }
}
