using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Analytics.Streaming.Kinesis;

/// <summary>
/// Packs user records into one KPL aggregated record (magic, protobuf <c>AggregatedRecord</c>, MD5) that the KPL,
/// the KCL, aws-kinesis-agg and <see cref="KplDeaggregator"/> unpack.
/// </summary>
/// <remarks>
/// <para>
/// Partition keys and explicit hash keys are deduplicated into the key tables. The proto2 <c>required</c> fields
/// (<c>partition_key_index</c>, <c>data</c>) are always written, zero and empty included. The builder copies the data
/// it is given, so callers may reuse their buffers at once.
/// </para>
/// <para>
/// Only user records that go to the same shard belong together: send the aggregate with partition key
/// <see cref="KplFormat.AggregatePartitionKey"/> and explicit hash key <see cref="AggregateExplicitHashKey"/> (the
/// hash key of the first user record), as the KPL does. Not thread-safe; reusable after <see cref="Clear"/>.
/// </para>
/// </remarks>
public sealed class KplAggregateBuilder : IDisposable
{
    private readonly Dictionary<string, int> _partitionKeyIndex = new(StringComparer.Ordinal);
    private readonly List<string> _partitionKeys = [];
    private readonly Dictionary<string, int> _hashKeyIndex = new(StringComparer.Ordinal);
    private readonly List<string> _hashKeys = [];
    private readonly List<Entry> _entries = [];
    private byte[] _data;
    private int _dataUsed;
    private int _messageSize;

    /// <summary>Creates a builder.</summary>
    /// <param name="maxSize">
    /// The largest aggregate in bytes, format overhead included; default 51,200 (the KPL's <c>AggregationMaxSize</c>).
    /// Kinesis accepts at most 1 MiB minus the 1-byte outer partition key per record.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is below 64 or above 10 MiB.</exception>
    public KplAggregateBuilder(int maxSize = 51_200)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, 64);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxSize, 10 * 1024 * 1024);
        MaxSize = maxSize;
        _data = ArrayPool<byte>.Shared.Rent(Math.Min(maxSize, 64 * 1024));
    }

    /// <summary>Gets the largest aggregate this builder produces, in bytes.</summary>
    public int MaxSize { get; }

    /// <summary>Gets the number of user records added since the last <see cref="Clear"/>.</summary>
    public int Count => _entries.Count;

    /// <summary>Gets the size of the aggregate as it stands, format overhead included.</summary>
    public int Size => KplFormat.Overhead + _messageSize;

    /// <summary>Gets the explicit hash key to send the aggregate with: the hash key of the first user record (decimal).</summary>
    /// <exception cref="InvalidOperationException">The builder is empty.</exception>
    public string AggregateExplicitHashKey => _entries.Count == 0
        ? throw new InvalidOperationException("The aggregate is empty.")
        : _entries[0].HashKey;

    /// <summary>Returns the size a user record adds to the aggregate (key table growth included).</summary>
    /// <param name="dataLength">The record's data length.</param>
    /// <param name="partitionKey">The record's partition key.</param>
    /// <param name="explicitHashKey">The record's explicit hash key, or <see langword="null"/>.</param>
    /// <returns>The number of bytes the aggregate would grow by.</returns>
    public int SizeIncrease(int dataLength, string partitionKey, string? explicitHashKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        int growth = 0;
        int pkIndex;
        if (!_partitionKeyIndex.TryGetValue(partitionKey, out pkIndex))
        {
            pkIndex = _partitionKeys.Count;
            growth += FieldSize(Encoding.UTF8.GetByteCount(partitionKey));
        }

        int recordSize = 1 + VarintSize((ulong)pkIndex) + 1 + VarintSize((ulong)dataLength) + dataLength;
        if (explicitHashKey is not null)
        {
            if (!_hashKeyIndex.TryGetValue(explicitHashKey, out int ehkIndex))
            {
                ehkIndex = _hashKeys.Count;
                growth += FieldSize(Encoding.UTF8.GetByteCount(explicitHashKey));
            }

            recordSize += 1 + VarintSize((ulong)ehkIndex);
        }

        return growth + FieldSize(recordSize);
    }

    /// <summary>Adds a user record when it fits under <see cref="MaxSize"/>.</summary>
    /// <param name="data">The record's data (copied).</param>
    /// <param name="partitionKey">The record's partition key.</param>
    /// <param name="explicitHashKey">The record's explicit hash key (decimal), or <see langword="null"/>.</param>
    /// <returns>
    /// <see langword="true"/> when the record was added; <see langword="false"/> when it would make the aggregate
    /// larger than <see cref="MaxSize"/> (nothing changes: build this aggregate and start a new one). A first
    /// record is always added, even when it alone is larger (send such a record unaggregated instead).
    /// </returns>
    public bool TryAdd(ReadOnlySpan<byte> data, string partitionKey, string? explicitHashKey = null)
    {
        int growth = SizeIncrease(data.Length, partitionKey, explicitHashKey);
        if (_entries.Count > 0 && Size + growth > MaxSize)
        {
            return false;
        }

        string firstHashKey = _entries.Count == 0
            ? explicitHashKey ?? KinesisHashKey.Format(KinesisHashKey.FromPartitionKey(partitionKey))
            : string.Empty;
        AddUnchecked(data, partitionKey, explicitHashKey, firstHashKey);
        _messageSize += growth;
        return true;
    }

    /// <summary>Writes the aggregate (magic, protobuf, MD5) to <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <returns>The number of bytes written, <see cref="Size"/>.</returns>
    /// <exception cref="InvalidOperationException">The builder is empty.</exception>
    [SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms", Justification = "The KPL format's checksum is MD5.")]
    public int WriteTo(Span<byte> destination)
    {
        if (_entries.Count == 0)
        {
            throw new InvalidOperationException("The aggregate is empty: add at least one user record.");
        }

        int size = Size;
        if (destination.Length < size)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; the aggregate needs {size}.", nameof(destination));
        }

        KplFormat.Magic.CopyTo(destination);
        int at = KplFormat.MagicSize;
        foreach (string key in _partitionKeys)
        {
            at += WriteString(destination[at..], 0x0A, key);
        }

        foreach (string key in _hashKeys)
        {
            at += WriteString(destination[at..], 0x12, key);
        }

        foreach (var entry in _entries)
        {
            int recordSize = 1 + VarintSize((ulong)entry.PartitionKeyIndex) + 1 + VarintSize((ulong)entry.Length) + entry.Length;
            if (entry.HashKeyIndex >= 0)
            {
                recordSize += 1 + VarintSize((ulong)entry.HashKeyIndex);
            }

            destination[at++] = 0x1A;
            at += WriteVarint(destination[at..], (ulong)recordSize);
            destination[at++] = 0x08;
            at += WriteVarint(destination[at..], (ulong)entry.PartitionKeyIndex);
            if (entry.HashKeyIndex >= 0)
            {
                destination[at++] = 0x10;
                at += WriteVarint(destination[at..], (ulong)entry.HashKeyIndex);
            }

            destination[at++] = 0x1A;
            at += WriteVarint(destination[at..], (ulong)entry.Length);
            _data.AsSpan(entry.Offset, entry.Length).CopyTo(destination[at..]);
            at += entry.Length;
        }

        MD5.HashData(destination[KplFormat.MagicSize..at], destination.Slice(at, KplFormat.ChecksumSize));
        at += KplFormat.ChecksumSize;
        return at == size ? at : throw new InvalidOperationException($"Internal error: the aggregate is {at} bytes, {size} were computed.");
    }

    /// <summary>Returns the aggregate as a new array.</summary>
    /// <returns>The aggregated record's data.</returns>
    /// <exception cref="InvalidOperationException">The builder is empty.</exception>
    public byte[] ToArray()
    {
        byte[] result = new byte[Size];
        WriteTo(result);
        return result;
    }

    /// <summary>Empties the builder for the next aggregate (keeps its buffers).</summary>
    public void Clear()
    {
        _partitionKeyIndex.Clear();
        _partitionKeys.Clear();
        _hashKeyIndex.Clear();
        _hashKeys.Clear();
        _entries.Clear();
        _dataUsed = 0;
        _messageSize = 0;
    }

    /// <summary>Returns the pooled buffer.</summary>
    public void Dispose()
    {
        byte[] data = _data;
        _data = [];
        if (data.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(data);
        }
    }

    private void AddUnchecked(ReadOnlySpan<byte> data, string partitionKey, string? explicitHashKey, string firstHashKey)
    {
        if (!_partitionKeyIndex.TryGetValue(partitionKey, out int pkIndex))
        {
            pkIndex = _partitionKeys.Count;
            _partitionKeys.Add(partitionKey);
            _partitionKeyIndex.Add(partitionKey, pkIndex);
        }

        int ehkIndex = -1;
        if (explicitHashKey is not null && !_hashKeyIndex.TryGetValue(explicitHashKey, out ehkIndex))
        {
            ehkIndex = _hashKeys.Count;
            _hashKeys.Add(explicitHashKey);
            _hashKeyIndex.Add(explicitHashKey, ehkIndex);
        }

        if (_data.Length - _dataUsed < data.Length)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_data.Length * 2, _dataUsed + data.Length));
            _data.AsSpan(0, _dataUsed).CopyTo(bigger);
            if (_data.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_data);
            }

            _data = bigger;
        }

        data.CopyTo(_data.AsSpan(_dataUsed));
        _entries.Add(new Entry(pkIndex, ehkIndex, _dataUsed, data.Length, firstHashKey));
        _dataUsed += data.Length;
    }

    private static int FieldSize(int length) => 1 + VarintSize((ulong)length) + length;

    internal static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    private static int WriteString(Span<byte> destination, byte tag, string value)
    {
        destination[0] = tag;
        int length = Encoding.UTF8.GetByteCount(value);
        int at = 1 + WriteVarint(destination[1..], (ulong)length);
        at += Encoding.UTF8.GetBytes(value, destination[at..]);
        return at;
    }

    private readonly record struct Entry(int PartitionKeyIndex, int HashKeyIndex, int Offset, int Length, string HashKey);
}
