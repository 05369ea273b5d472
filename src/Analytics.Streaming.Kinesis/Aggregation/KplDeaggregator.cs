using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Turns Kinesis records into the user records a producer wrote, unpacking KPL aggregated records with their
/// sub-sequence numbers and checking their MD5 checksum.
/// </summary>
/// <remarks>
/// <para>
/// A record whose data does not start with the KPL magic bytes is a plain record: it yields itself with
/// sub-sequence 0. A record that does start with the magic bytes must be a valid aggregate (checksum, protobuf,
/// required fields, table indexes); otherwise <see cref="TryDeaggregate(KinesisRecord, List{UserRecord}, out string)"/>
/// returns <see langword="false"/> with the reason, for the dead-letter output. (The KCL hands such records on as
/// plain records; this library treats them as bad input so that nothing is silently misread.)
/// </para>
/// <para>
/// User records' data are slices of the outer record's data: nothing is copied. Thread-safe, no shared state.
/// </para>
/// </remarks>
public static class KplDeaggregator
{
    /// <summary>Appends the user records of <paramref name="record"/> to <paramref name="output"/>.</summary>
    /// <param name="record">A record read from a shard.</param>
    /// <param name="output">Receives the user records, in sub-sequence order.</param>
    /// <param name="error">Why the record is a bad aggregate, when the method returns <see langword="false"/>.</param>
    /// <returns><see langword="true"/> on success; <see langword="false"/> for a bad aggregate (nothing is appended).</returns>
    public static bool TryDeaggregate(KinesisRecord record, List<UserRecord> output, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(record);
        return TryDeaggregate(record.Data, record.PartitionKey, record.SequenceNumber, record.ApproximateArrivalTimestamp, output, out error);
    }

    /// <summary>Appends the user records of one record, given by its parts, to <paramref name="output"/>.</summary>
    /// <param name="data">The record's data.</param>
    /// <param name="partitionKey">The record's partition key (used for a plain record).</param>
    /// <param name="sequenceNumber">The record's sequence number.</param>
    /// <param name="arrival">The record's arrival time, when known.</param>
    /// <param name="output">Receives the user records, in sub-sequence order.</param>
    /// <param name="error">Why the record is a bad aggregate, when the method returns <see langword="false"/>.</param>
    /// <returns><see langword="true"/> on success; <see langword="false"/> for a bad aggregate (nothing is appended).</returns>
    public static bool TryDeaggregate(
        ReadOnlyMemory<byte> data,
        string partitionKey,
        SequenceNumber sequenceNumber,
        DateTimeOffset? arrival,
        List<UserRecord> output,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(partitionKey);
        if (!KplFormat.HasAggregateMagic(data.Span))
        {
            output.Add(new UserRecord(data, partitionKey, null, sequenceNumber, 0, arrival, false));
            error = null;
            return true;
        }

        int start = output.Count;
        error = Parse(data, sequenceNumber, arrival, output);
        if (error is null)
        {
            return true;
        }

        output.RemoveRange(start, output.Count - start);
        return false;
    }

    /// <summary>Returns the user records of <paramref name="record"/>.</summary>
    /// <param name="record">A record read from a shard.</param>
    /// <returns>The user records, in sub-sequence order.</returns>
    /// <exception cref="InvalidDataException">The record starts with the KPL magic bytes but is not a valid aggregate.</exception>
    public static IReadOnlyList<UserRecord> Deaggregate(KinesisRecord record)
    {
        var output = new List<UserRecord>();
        return TryDeaggregate(record, output, out string? error)
            ? output
            : throw new InvalidDataException($"Record {record.SequenceNumber} is not a valid KPL aggregate: {error}");
    }

    [SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms", Justification = "The KPL format's checksum is MD5.")]
    private static string? Parse(ReadOnlyMemory<byte> data, SequenceNumber sequenceNumber, DateTimeOffset? arrival, List<UserRecord> output)
    {
        var span = data.Span;
        int messageLength = span.Length - KplFormat.Overhead;
        var message = span.Slice(KplFormat.MagicSize, messageLength);
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(message, digest);
        if (!digest.SequenceEqual(span[^KplFormat.ChecksumSize..]))
        {
            return "the MD5 checksum of the aggregate does not match its content (corrupted or truncated record).";
        }

        // First pass: the key tables (they may appear anywhere in the message).
        string[]? partitionKeys = null;
        string[]? hashKeys = null;
        int pkCount = 0, ehkCount = 0, recordCount = 0;
        var reader = new ProtoReader(message);
        while (!reader.End)
        {
            if (!reader.TryReadTag(out int field, out int wireType))
            {
                return "the aggregate's protobuf message is malformed (bad field tag).";
            }

            if (field is 1 or 2 or 3 && wireType != 2)
            {
                return $"the aggregate's protobuf field {field} has wire type {wireType}, expected 2 (length-delimited).";
            }

            if (field is 1 or 2)
            {
                if (!reader.TryReadLengthDelimited(out var bytes))
                {
                    return "the aggregate's protobuf message is malformed (truncated key table entry).";
                }

                string key;
                try
                {
                    key = StrictUtf8.GetString(bytes);
                }
                catch (DecoderFallbackException)
                {
                    return "a key table entry of the aggregate is not valid UTF-8.";
                }

                if (field == 1)
                {
                    Append(ref partitionKeys, ref pkCount, key);
                }
                else
                {
                    Append(ref hashKeys, ref ehkCount, key);
                }
            }
            else if (field == 3)
            {
                if (!reader.TryReadLengthDelimited(out _))
                {
                    return "the aggregate's protobuf message is malformed (truncated record).";
                }

                recordCount++;
            }
            else if (!reader.TrySkip(wireType))
            {
                return $"the aggregate's protobuf message is malformed (cannot skip field {field}).";
            }
        }

        if (recordCount == 0)
        {
            return "the aggregate holds no user records.";
        }

        // Second pass: the records, in order.
        output.EnsureCapacity(output.Count + recordCount);
        int messageOffset = KplFormat.MagicSize;
        reader = new ProtoReader(message);
        long subSequence = 0;
        while (!reader.End)
        {
            reader.TryReadTag(out int field, out int wireType);
            if (field != 3)
            {
                if (wireType == 2)
                {
                    reader.TryReadLengthDelimited(out _);
                }
                else
                {
                    reader.TrySkip(wireType);
                }

                continue;
            }

            reader.TryReadLengthDelimited(out var recordBytes);
            int recordStart = reader.Position - recordBytes.Length;
            string? problem = ParseRecord(recordBytes, out ulong pkIndex, out ulong? ehkIndex, out int dataStart, out int dataLength);
            if (problem is not null)
            {
                return $"user record {subSequence}: {problem}";
            }

            if (pkIndex >= (ulong)pkCount)
            {
                return $"user record {subSequence}: partition key index {pkIndex} is outside the table of {pkCount} keys.";
            }

            if (ehkIndex is { } e && e >= (ulong)ehkCount)
            {
                return $"user record {subSequence}: explicit hash key index {e} is outside the table of {ehkCount} keys.";
            }

            var userData = data.Slice(messageOffset + recordStart + dataStart, dataLength);
            output.Add(new UserRecord(
                userData,
                partitionKeys![(int)pkIndex],
                ehkIndex is { } h ? hashKeys![(int)h] : null,
                sequenceNumber,
                subSequence,
                arrival,
                true));
            subSequence++;
        }

        return null;
    }

    private static string? ParseRecord(ReadOnlySpan<byte> record, out ulong pkIndex, out ulong? ehkIndex, out int dataStart, out int dataLength)
    {
        pkIndex = 0;
        ehkIndex = null;
        dataStart = 0;
        dataLength = 0;
        bool hasPk = false, hasData = false;
        var reader = new ProtoReader(record);
        while (!reader.End)
        {
            if (!reader.TryReadTag(out int field, out int wireType))
            {
                return "malformed field tag.";
            }

            switch (field)
            {
                case 1 when wireType == 0:
                    if (!reader.TryReadVarint(out pkIndex))
                    {
                        return "malformed partition key index.";
                    }

                    hasPk = true;
                    break;
                case 2 when wireType == 0:
                    if (!reader.TryReadVarint(out ulong e))
                    {
                        return "malformed explicit hash key index.";
                    }

                    ehkIndex = e;
                    break;
                case 3 when wireType == 2:
                    if (!reader.TryReadLengthDelimited(out var bytes))
                    {
                        return "truncated data.";
                    }

                    dataStart = reader.Position - bytes.Length;
                    dataLength = bytes.Length;
                    hasData = true;
                    break;
                case 1 or 2 or 3:
                    return $"field {field} has the wrong wire type {wireType}.";
                default:
                    if (!reader.TrySkip(wireType))
                    {
                        return $"cannot skip field {field}.";
                    }

                    break;
            }
        }

        return !hasPk ? "the required partition_key_index is missing."
            : !hasData ? "the required data field is missing."
            : null;
    }

    private static void Append(ref string[]? array, ref int count, string value)
    {
        array ??= new string[4];
        if (count == array.Length)
        {
            Array.Resize(ref array, count * 2);
        }

        array[count++] = value;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
