using Analytics.Streaming.Kinesis;

namespace Analytics.Streaming.Lambda;

/// <summary>Turns the records of a Lambda Kinesis event into events and dead letters, in shard order.</summary>
internal static class KinesisBatchDecoder
{
    /// <summary>The shard of an event's record, from its event id; an <see cref="ArgumentException"/> names the record when the id is malformed.</summary>
    public static string ShardOf(KinesisStreamRecord? record, int index)
    {
        try
        {
            return KinesisStreamRecord.GetShardId(record?.EventId);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"Record {index} of the Kinesis event: {ex.Message}", ex);
        }
    }

    /// <summary>The sequence numbers of the event's records, parsed, after checking that they all come from <paramref name="shardId"/>.</summary>
    public static SequenceNumber[] ParseSequenceNumbers(IList<KinesisStreamRecord> records, string shardId)
    {
        var sequences = new SequenceNumber[records.Count];
        for (int i = 0; i < sequences.Length; i++)
        {
            var record = records[i] ?? throw new ArgumentException($"Record {i} of the Kinesis event is null.", nameof(records));
            string text = record.Kinesis?.SequenceNumber ?? string.Empty;
            if (!SequenceNumber.TryParse(text, out sequences[i]))
            {
                throw new ArgumentException($"Record {i} of the Kinesis event has sequence number '{text}', which is not a decimal number.", nameof(records));
            }

            string recordShard = ShardOf(record, i);
            if (!string.Equals(recordShard, shardId, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"A Kinesis event holds records of one shard, but record {i} comes from {recordShard} and record 0 from {shardId}. Invoke the handler once per shard.",
                    nameof(records));
            }

            if (i > 0 && sequences[i] <= sequences[i - 1])
            {
                throw new ArgumentException($"The records of a Kinesis event are in shard order, but record {i} ({text}) does not follow record {i - 1} ({sequences[i - 1]}).", nameof(records));
            }
        }

        return sequences;
    }

    /// <summary>
    /// Decodes records <c>[start, count)</c>: KPL aggregates are unpacked, bad aggregates and records the decoder refuses
    /// become dead letters. Stops at the first record whose decoding throws: nothing of that record is kept.
    /// </summary>
    /// <returns>The index of the first record not decoded (the failed record, or the record count).</returns>
    public static int Decode<TEvent>(
        IList<KinesisStreamRecord> records,
        SequenceNumber[] sequences,
        int start,
        string shardId,
        IEventDecoder<TEvent> decoder,
        bool deaggregate,
        List<StreamRecord<TEvent>> values,
        List<DeadLetter> deadLetters,
        ref int userRecordCount,
        out Exception? failure)
    {
        failure = null;
        var userRecords = new List<UserRecord>();
        for (int i = start; i < records.Count; i++)
        {
            var payload = records[i].Kinesis;
            var sequence = sequences[i];
            var arrival = payload.ApproximateArrivalTimestamp;
            userRecords.Clear();
            if (!deaggregate)
            {
                userRecords.Add(new UserRecord(payload.Data, payload.PartitionKey, null, sequence, 0, arrival, false));
            }
            else if (!KplDeaggregator.TryDeaggregate(payload.Data, payload.PartitionKey ?? string.Empty, sequence, arrival, userRecords, out string? error))
            {
                deadLetters.Add(new DeadLetter(new StreamPosition(shardId, sequence), DeadLetterReason.InvalidRecord, "Bad KPL aggregate: " + error, payload.Data));
                userRecordCount++;
                continue;
            }

            int valuesBefore = values.Count, deadBefore = deadLetters.Count;
            try
            {
                foreach (var user in userRecords)
                {
                    if (decoder.TryDecode(new RawRecord(user.Data, user.PartitionKey, user.ApproximateArrivalTimestamp), out var value, out var decodeError))
                    {
                        values.Add(new StreamRecord<TEvent>(value, sequence, user.SubSequenceNumber));
                    }
                    else
                    {
                        deadLetters.Add(new DeadLetter(new StreamPosition(shardId, sequence, user.SubSequenceNumber), decodeError.Reason, decodeError.Message, user.Data));
                    }
                }
            }
#pragma warning disable CA1031 // A decoder that throws marks its record failed: Lambda retries from it (documented).
            catch (Exception ex) // a cancellation too: the decoder has no token, so it is its own (an HTTP timeout)
#pragma warning restore CA1031
            {
                values.RemoveRange(valuesBefore, values.Count - valuesBefore);
                deadLetters.RemoveRange(deadBefore, deadLetters.Count - deadBefore);
                failure = ex;
                return i;
            }

            userRecordCount += userRecords.Count;
        }

        return records.Count;
    }
}
