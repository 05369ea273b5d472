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

/// <summary>The user records given up on since the last <see cref="KinesisProducer.FlushAsync"/>, with their last error.</summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class ProducerFailures
{
    private readonly List<KinesisProducerFailure> _failures = [];

    public void Add(OutgoingRecord record, string errorCode, string errorMessage)
    {
        lock (_failures)
        {
            foreach (var member in record.Members)
            {
                _failures.Add(new KinesisProducerFailure(member.Span.ToArray(), member.PartitionKey, member.ExplicitHashKey, errorCode, errorMessage, record.Attempts));
            }
        }
    }

    /// <summary>Throws the failures collected so far, once, as a <see cref="KinesisProducerException"/>.</summary>
    public void ThrowIfAny()
    {
        KinesisProducerFailure[] failures;
        lock (_failures)
        {
            if (_failures.Count == 0)
            {
                return;
            }

            failures = [.. _failures];
            _failures.Clear();
        }

        throw new KinesisProducerException(
            $"{failures.Length} record(s) could not be written to Kinesis; the first failed with {failures[0].ErrorCode}: {failures[0].ErrorMessage}",
            failures);
    }
}
