using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Analytics.Streaming;

/// <summary>
/// A consistent snapshot of a pipeline, taken between two batches: per source partition the position to resume
/// after and the partition's event-time progress, the pipeline's watermark, and (with window state snapshots) every
/// open window with its accumulators. A pipeline restored from it behaves as if it had never stopped.
/// </summary>
/// <remarks>
/// <para>
/// A checkpoint is persisted only after the sinks flushed every result emitted before it. Its binary form
/// (<see cref="ToBytes"/>, <see cref="Parse"/>) starts with <c>"ASCP"</c> and a format version, and ends with a
/// CRC-32C of everything before it, so a torn or corrupted copy is never read back as valid.
/// </para>
/// <para>
/// Without window state (<see cref="HasWindowState"/> false), a partition's <see cref="PartitionCheckpoint.ResumeAfter"/>
/// lies before every record of a window that was still open, and the restored pipeline rebuilds those windows from
/// the replayed records; records of windows that were already final are recognised and skipped.
/// </para>
/// </remarks>
public sealed class PipelineCheckpoint
{
    /// <summary>The version of the binary form this library writes (and the newest it reads).</summary>
    public const int FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "ASCP"u8;

    private readonly byte[] _state;
    private readonly byte[]? _downstream;

    internal PipelineCheckpoint(
        string pipelineName,
        long id,
        DateTimeOffset createdAt,
        long watermarkTicks,
        string fingerprint,
        IReadOnlyList<PartitionCheckpoint> partitions,
        byte[]? windowState,
        byte[]? downstream = null)
    {
        _downstream = downstream;
        PipelineName = pipelineName;
        Id = id;
        CreatedAt = createdAt;
        WatermarkTicks = watermarkTicks;
        Fingerprint = fingerprint;
        Partitions = partitions;
        _state = windowState ?? [];
        HasWindowState = windowState is not null;
    }

    /// <summary>Gets the name of the pipeline that took it.</summary>
    public string PipelineName { get; }

    /// <summary>Gets the checkpoint number: 1 for the first checkpoint of a pipeline, one more for each later one, continued across restarts.</summary>
    public long Id { get; }

    /// <summary>Gets when it was taken, on the pipeline's clock.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets the pipeline's watermark when it was taken; <see cref="DateTimeOffset.MinValue"/> before any event, <see cref="DateTimeOffset.MaxValue"/> after the source ended.</summary>
    public DateTimeOffset Watermark => TimeMath.ToTime(WatermarkTicks);

    /// <summary>Gets the source partitions the pipeline knew, in ordinal order of their ids.</summary>
    public IReadOnlyList<PartitionCheckpoint> Partitions { get; }

    /// <summary>Gets a value indicating whether the open windows are saved (otherwise they are rebuilt from replayed records).</summary>
    public bool HasWindowState { get; }

    /// <summary>Gets the size of the saved window state in bytes.</summary>
    public int WindowStateSize => _state.Length + (_downstream?.Length ?? 0);

    internal long WatermarkTicks { get; }

    /// <summary>Gets what the window state depends on (window, lateness, key and accumulator types): a restore into a pipeline that differs is refused.</summary>
    internal string Fingerprint { get; }

    internal ReadOnlySpan<byte> WindowState => _state;

    /// <summary>Gets the checkpoint (binary form) of the window stages fed by this one's results, when the pipeline chains windows.</summary>
    internal byte[]? Downstream => _downstream;

    /// <summary>Finds the checkpoint of a partition.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <returns>Its checkpoint, or <see langword="null"/> when the pipeline did not know it.</returns>
    public PartitionCheckpoint? FindPartition(string partitionId)
    {
        ArgumentNullException.ThrowIfNull(partitionId);
        foreach (var partition in Partitions)
        {
            if (string.Equals(partition.PartitionId, partitionId, StringComparison.Ordinal))
            {
                return partition;
            }
        }

        return null;
    }

    /// <summary>Writes the binary form: the header, the partitions, the window state, then a CRC-32C of all of it.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        // The small parts go through a buffer; the window state is copied once, straight into the result.
        var head = new ArrayBufferWriter<byte>(256 + (Partitions.Count * 96));
        head.Write(Magic);
        WriteUInt16(head, FormatVersion);
        WriteUInt16(head, (ushort)((HasWindowState ? 1 : 0) | (_downstream is null ? 0 : 2)));
        StateCodec.String.Write(head, PipelineName);
        StateCodec.WriteInt64(head, Id);
        StateCodec.WriteInt64(head, CreatedAt.UtcTicks);
        StateCodec.WriteInt64(head, WatermarkTicks);
        StateCodec.String.Write(head, Fingerprint);
        StateCodec.WriteVarInt(head, (ulong)Partitions.Count);
        foreach (var partition in Partitions)
        {
            partition.Write(head);
        }

        StateCodec.WriteVarInt(head, (ulong)_state.Length);
        var between = new ArrayBufferWriter<byte>(10);
        if (_downstream is not null)
        {
            StateCodec.WriteVarInt(between, (ulong)_downstream.Length);
        }

        byte[] bytes = GC.AllocateUninitializedArray<byte>(head.WrittenCount + _state.Length + between.WrittenCount + (_downstream?.Length ?? 0) + 4);
        var rest = bytes.AsSpan();
        Append(ref rest, head.WrittenSpan);
        Append(ref rest, _state);
        Append(ref rest, between.WrittenSpan);
        Append(ref rest, _downstream);
        BinaryPrimitives.WriteUInt32LittleEndian(rest, Crc32C(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;

        static void Append(ref Span<byte> destination, ReadOnlySpan<byte> part)
        {
            part.CopyTo(destination);
            destination = destination[part.Length..];
        }
    }

    /// <summary>Reads the binary form written by <see cref="ToBytes"/>.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a whole, intact checkpoint of a version this library reads.</exception>
    public static PipelineCheckpoint Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Magic.Length + 8 || !bytes.StartsWith(Magic))
        {
            throw new InvalidDataException("The data is not a pipeline checkpoint (it does not start with \"ASCP\").");
        }

        var body = bytes[..^4];
        uint expected = BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]);
        if (Crc32C(body) != expected)
        {
            throw new InvalidDataException("The pipeline checkpoint is damaged or incomplete (checksum mismatch); it was not written whole.");
        }

        var source = body[Magic.Length..];
        int version = BinaryPrimitives.ReadUInt16LittleEndian(source);
        if (version is < 1 or > FormatVersion)
        {
            throw new InvalidDataException($"The pipeline checkpoint has format version {version}; this library reads versions 1 to {FormatVersion}.");
        }

        int flags = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]);
        bool hasState = (flags & 1) != 0;
        source = source[4..];
        try
        {
            string name = StateCodec.String.Read(ref source) ?? throw new FormatException("The pipeline name is missing.");
            long id = StateCodec.ReadInt64(ref source);
            long created = StateCodec.ReadInt64(ref source);
            long watermark = StateCodec.ReadInt64(ref source);
            string fingerprint = StateCodec.String.Read(ref source) ?? string.Empty;
            ulong count = StateCodec.ReadVarInt(ref source);
            if (count > (ulong)source.Length)
            {
                throw new FormatException("The partition count is larger than the data.");
            }

            var partitions = new PartitionCheckpoint[count];
            for (ulong i = 0; i < count; i++)
            {
                partitions[i] = PartitionCheckpoint.Read(ref source);
            }

            byte[] state = StateCodec.ReadBytes(ref source).ToArray();
            byte[]? downstream = (flags & 2) != 0 ? StateCodec.ReadBytes(ref source).ToArray() : null;
            if (!source.IsEmpty)
            {
                throw new FormatException($"{source.Length} bytes follow the window state.");
            }

            return new PipelineCheckpoint(name, id, new DateTimeOffset(created, TimeSpan.Zero), watermark, fingerprint, partitions, hasState ? state : null, downstream);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new InvalidDataException($"The pipeline checkpoint is malformed: {ex.Message}", ex);
        }
    }

    /// <summary>Returns a one-line description: pipeline, id, watermark, partitions and state size.</summary>
    public override string ToString()
        => $"checkpoint {Id} of '{PipelineName}': watermark {Watermark:O}, {Partitions.Count} partitions, {(HasWindowState ? $"{WindowStateSize} bytes of window state" : "no window state")}";

    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    private static void WriteUInt16(ArrayBufferWriter<byte> buffer, int value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.GetSpan(2), (ushort)value);
        buffer.Advance(2);
    }
}

/// <summary>What a checkpoint holds for one source partition.</summary>
/// <remarks>
/// A source resumes a partition after <see cref="ResumeAfter"/> and does not read a <see cref="IsFinished"/> partition
/// again. The other members describe the partition's event-time progress, which the restored pipeline continues
/// from, so the watermark neither starts over nor runs ahead of partitions that have not reported yet.
/// </remarks>
public sealed record PartitionCheckpoint
{
    internal PartitionCheckpoint(
        string partitionId,
        StreamPosition? resumeAfter,
        StreamPosition? processedThrough,
        bool isEnded,
        bool isFinished,
        long maxEventTicks,
        long idleTicks)
    {
        PartitionId = partitionId;
        ResumeAfter = resumeAfter;
        ProcessedThrough = processedThrough;
        IsEnded = isEnded;
        IsFinished = isFinished;
        MaxEventTicks = maxEventTicks;
        IdleTicks = idleTicks;
    }

    /// <summary>Gets the partition id.</summary>
    public string PartitionId { get; }

    /// <summary>Gets the position after which the source resumes; <see langword="null"/> to read the partition from its start.</summary>
    public StreamPosition? ResumeAfter { get; }

    /// <summary>
    /// Gets the last position the pipeline had processed when the checkpoint was taken. Records up to it that are
    /// read again are replays: with window state they are skipped, without it they rebuild the open windows.
    /// </summary>
    public StreamPosition? ProcessedThrough { get; }

    /// <summary>Gets a value indicating whether the pipeline had processed the partition's end.</summary>
    public bool IsEnded { get; }

    /// <summary>Gets a value indicating whether the partition was read to its end and everything from it is delivered: it is not read again, and partitions that follow it (child shards) may start.</summary>
    public bool IsFinished { get; }

    /// <summary>Gets the largest event time the partition delivered; <see langword="null"/> before its first record.</summary>
    public DateTimeOffset? MaxEventTime => MaxEventTicks == long.MinValue ? null : TimeMath.ToTime(MaxEventTicks);

    /// <summary>Gets how long the partition had gone without records, on the pipeline's clock, when the checkpoint was taken.</summary>
    public TimeSpan SinceLastRecord => TimeSpan.FromTicks(IdleTicks);

    internal long MaxEventTicks { get; }

    internal long IdleTicks { get; }

    /// <summary>Creates the checkpoint of a partition that is read to its end and fully delivered, or one to resume after a position: for sources driven without a pipeline.</summary>
    /// <param name="partitionId">The partition.</param>
    /// <param name="resumeAfter">The position after which to resume.</param>
    /// <param name="isFinished">Whether the partition is finished.</param>
    /// <returns>The partition checkpoint.</returns>
    public static PartitionCheckpoint Create(string partitionId, StreamPosition? resumeAfter, bool isFinished = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(partitionId);
        return new PartitionCheckpoint(partitionId, resumeAfter, resumeAfter, isFinished, isFinished, long.MinValue, 0);
    }

    internal void Write(ArrayBufferWriter<byte> buffer)
    {
        StateCodec.String.Write(buffer, PartitionId);
        int flags = (IsEnded ? 1 : 0) | (IsFinished ? 2 : 0) | (ResumeAfter is null ? 0 : 4) | (ProcessedThrough is null ? 0 : 8);
        StateCodec.WriteVarInt(buffer, (ulong)flags);
        WritePosition(buffer, ResumeAfter);
        WritePosition(buffer, ProcessedThrough);
        StateCodec.WriteInt64(buffer, MaxEventTicks);
        StateCodec.WriteInt64(buffer, IdleTicks);
    }

    internal static PartitionCheckpoint Read(ref ReadOnlySpan<byte> source)
    {
        string id = StateCodec.String.Read(ref source) ?? throw new FormatException("A partition id is missing.");
        int flags = (int)StateCodec.ReadVarInt(ref source);
        var resumeAfter = (flags & 4) != 0 ? ReadPosition(ref source, id) : (StreamPosition?)null;
        var processedThrough = (flags & 8) != 0 ? ReadPosition(ref source, id) : (StreamPosition?)null;
        long maxEventTicks = StateCodec.ReadInt64(ref source);
        long idleTicks = StateCodec.ReadInt64(ref source);
        return new PartitionCheckpoint(id, resumeAfter, processedThrough, (flags & 1) != 0, (flags & 2) != 0, maxEventTicks, idleTicks);
    }

    private static void WritePosition(ArrayBufferWriter<byte> buffer, StreamPosition? position)
    {
        if (position is { } value)
        {
            StateCodec.String.Write(buffer, value.Sequence.ToString());
            StateCodec.WriteInt64(buffer, value.SubSequence);
        }
    }

    private static StreamPosition ReadPosition(ref ReadOnlySpan<byte> source, string partitionId)
    {
        string text = StateCodec.String.Read(ref source) ?? string.Empty;
        if (!SequenceNumber.TryParse(text, out var sequence))
        {
            throw new FormatException($"'{text}' is not a sequence number.");
        }

        return new StreamPosition(partitionId, sequence, StateCodec.ReadInt64(ref source));
    }

    internal static string Describe(StreamPosition? position) => position?.ToString() ?? "(start)";

    /// <summary>Returns a one-line description.</summary>
    public override string ToString()
        => new StringBuilder(PartitionId).Append(": resume after ").Append(Describe(ResumeAfter))
            .Append(IsFinished ? ", finished" : IsEnded ? ", ended" : string.Empty).ToString();
}
