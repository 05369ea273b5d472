using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Turns the records of one GetRecords response (or enhanced fan-out event) of a shard into a
/// <see cref="RecordBatch{T}"/>: unpacks KPL aggregates, sends bad aggregates to dead letters, drops aggregates that
/// belong to another shard, and drops the records at or before the checkpoint the reader resumed from.
/// </summary>
/// <remarks>Not thread-safe: one per shard reader. The batch owns the arrays it gets.</remarks>
internal sealed class ShardBatchBuilder
{
    private readonly string _shardId;
    private readonly KinesisHashKeyRange _hashKeyRange;
    private readonly bool _deaggregate;
    private readonly TagList _tags;
    private readonly ILogger _logger;
    private readonly string _stream;
    private readonly List<UserRecord> _userRecords = [];
    private StreamPosition? _resumeAfter;

    /// <summary>Creates a builder for one shard.</summary>
    /// <param name="shardId">The shard.</param>
    /// <param name="hashKeyRange">The shard's hash key range (user records of an aggregate must hash into it).</param>
    /// <param name="deaggregate">Whether to unpack KPL aggregates.</param>
    /// <param name="resumeAfter">
    /// The checkpoint the reader resumed from with <c>AT_SEQUENCE_NUMBER</c>: records at or before it (by sequence and
    /// sub-sequence) are dropped, so that a partly processed aggregate continues with its next user record.
    /// </param>
    /// <param name="tags">Telemetry tags (stream, shard).</param>
    /// <param name="logger">Where bad and misrouted aggregates are logged; <see langword="null"/> for nowhere.</param>
    /// <param name="stream">How logs name the stream.</param>
    public ShardBatchBuilder(string shardId, KinesisHashKeyRange hashKeyRange, bool deaggregate, StreamPosition? resumeAfter, TagList tags, ILogger? logger = null, string stream = "")
    {
        _logger = logger ?? NullLogger.Instance;
        _stream = stream;
        _shardId = shardId;
        _hashKeyRange = hashKeyRange;
        _deaggregate = deaggregate;
        _resumeAfter = resumeAfter;
        _tags = tags;
        LastPosition = resumeAfter;
    }

    /// <summary>Gets the position of the last record (outer record, last sub-sequence) seen so far, or the resume checkpoint.</summary>
    public StreamPosition? LastPosition { get; private set; }

    /// <summary>Gets the sequence number of the last outer record seen so far, for renewing an expired iterator.</summary>
    public SequenceNumber? LastSequenceNumber { get; private set; }

    /// <summary>Builds the batch of one response.</summary>
    /// <param name="records">The records in shard order.</param>
    /// <param name="behindLatest">The response's lag, if known.</param>
    /// <param name="isEndOfShard">Whether this response ends a closed shard.</param>
    /// <param name="endOfShardFallback">The position to report for an end-of-shard batch when no record was ever seen.</param>
    /// <param name="payloadBytes">The payload bytes of the outer records, for rate limiting.</param>
    /// <returns>The batch.</returns>
    public RecordBatch<RawRecord> Build(
        IReadOnlyList<KinesisRecord> records,
        TimeSpan? behindLatest,
        bool isEndOfShard,
        StreamPosition endOfShardFallback,
        out long payloadBytes)
    {
        payloadBytes = 0;
        StreamRecord<RawRecord>[] output = records.Count == 0 ? [] : new StreamRecord<RawRecord>[records.Count];
        int count = 0;
        List<DeadLetter>? deadLetters = null;
        for (int i = 0; i < records.Count; i++)
        {
            var record = records[i];
            payloadBytes += record.Data.Length;
            var sequence = record.SequenceNumber;
            if (_resumeAfter is { } resume)
            {
                int bySequence = sequence.CompareTo(resume.Sequence);
                if (bySequence < 0)
                {
                    continue;
                }

                if (bySequence > 0)
                {
                    _resumeAfter = null;
                }
            }

            LastSequenceNumber = sequence;
            long lastSub = 0;
            if (!_deaggregate || !KplFormat.HasAggregateMagic(record.Data.Span))
            {
                if (_resumeAfter is null)
                {
                    Append(ref output, ref count, new StreamRecord<RawRecord>(new RawRecord(record.Data, record.PartitionKey, record.ApproximateArrivalTimestamp), sequence));
                }
            }
            else
            {
                _userRecords.Clear();
                if (!KplDeaggregator.TryDeaggregate(record, _userRecords, out string? error))
                {
                    if (_resumeAfter is null)
                    {
                        (deadLetters ??= []).Add(new DeadLetter(
                            new StreamPosition(_shardId, sequence),
                            DeadLetterReason.InvalidRecord,
                            $"Record {sequence} of {_shardId} looks like a KPL aggregate but is not a valid one: {error}",
                            record.Data));
                        KinesisTelemetry.ConsumerDeadLetters.Add(1, _tags);
                        KinesisLog.BadAggregate(_logger, _stream, _shardId, sequence, error);
                    }
                }
                else if (BelongsToOtherShard(out string? problem))
                {
                    if (problem is not null && _resumeAfter is null)
                    {
                        (deadLetters ??= []).Add(new DeadLetter(
                            new StreamPosition(_shardId, sequence),
                            DeadLetterReason.InvalidRecord,
                            $"KPL aggregate {sequence} of {_shardId}: {problem}",
                            record.Data));
                        KinesisTelemetry.ConsumerDeadLetters.Add(1, _tags);
                        KinesisLog.BadAggregate(_logger, _stream, _shardId, sequence, problem);
                    }
                    else if (problem is null)
                    {
                        KinesisTelemetry.ConsumerMisroutedAggregates.Add(1, _tags);
                        KinesisLog.MisroutedAggregate(_logger, _stream, _shardId, sequence);
                    }

                    lastSub = _userRecords.Count - 1;
                }
                else
                {
                    if (output.Length - count < _userRecords.Count)
                    {
                        Array.Resize(ref output, Math.Max(output.Length * 2, count + _userRecords.Count + (records.Count - i - 1)));
                    }

                    foreach (var user in _userRecords)
                    {
                        if (_resumeAfter is { } partly && user.SubSequenceNumber <= partly.SubSequence)
                        {
                            continue;
                        }

                        output[count++] = new StreamRecord<RawRecord>(
                            new RawRecord(user.Data, user.PartitionKey, user.ApproximateArrivalTimestamp), sequence, user.SubSequenceNumber);
                    }

                    lastSub = _userRecords.Count - 1;
                }
            }

            var position = new StreamPosition(_shardId, sequence, lastSub);
            if (_resumeAfter is null || position > _resumeAfter.Value)
            {
                LastPosition = position;
            }

            // The checkpointed record itself is done: stop filtering after it.
            _resumeAfter = null;
        }

        if (count > 0)
        {
            KinesisTelemetry.ConsumerRecords.Add(count, _tags);
        }

        KinesisTelemetry.ConsumerBytes.Add(payloadBytes, _tags);
        StreamPosition? end = LastPosition ?? (isEndOfShard ? endOfShardFallback : null);
        return new RecordBatch<RawRecord>(
            _shardId,
            output.AsMemory(0, count),
            deadLetters,
            end,
            isEndOfShard,
            behindLatest);
    }

    private static void Append(ref StreamRecord<RawRecord>[] output, ref int count, in StreamRecord<RawRecord> record)
    {
        if (count == output.Length)
        {
            Array.Resize(ref output, Math.Max(4, output.Length * 2));
        }

        output[count++] = record;
    }

    private bool BelongsToOtherShard(out string? problem)
    {
        problem = null;
        foreach (var user in _userRecords)
        {
            if (!user.IsAggregated)
            {
                return false;
            }

            UInt128 hashKey;
            try
            {
                hashKey = user.GetHashKey();
            }
            catch (FormatException e)
            {
                problem = $"user record {user.SubSequenceNumber} has an invalid explicit hash key: {e.Message}";
                return true;
            }

            if (!_hashKeyRange.Contains(hashKey))
            {
                return true;
            }
        }

        return false;
    }
}
