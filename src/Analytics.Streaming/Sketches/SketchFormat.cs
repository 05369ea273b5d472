using System.Buffers.Binary;

namespace Analytics.Streaming.Sketches;

/// <summary>The bytes given to a sketch's <c>Deserialize</c> are not a valid serialized sketch of that kind.</summary>
/// <remarks>The message says what is wrong (truncated, wrong kind, unsupported version, checksum, bad field).</remarks>
public sealed class SketchFormatException : FormatException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public SketchFormatException()
        : base("The bytes are not a valid serialized sketch.")
    {
    }

    /// <summary>Initializes a new instance.</summary>
    /// <param name="message">What is wrong.</param>
    public SketchFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public SketchFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The kinds of sketch in the shared binary envelope.</summary>
internal enum SketchKind : byte
{
    None = 0,
    HyperLogLog = 1,
    Quantile = 2,
    TopK = 3,
}

/// <summary>
/// The shared envelope: magic <c>"ASSK"</c>, kind (1 byte), version (1 byte), payload, and an 8-byte checksum
/// (<see cref="SketchHash"/> of everything before it, seed <see cref="ChecksumSeed"/>). Little-endian throughout.
/// </summary>
internal static class SketchFormat
{
    public const int HeaderSize = 6;
    public const int ChecksumSize = 8;
    public const int OverheadSize = HeaderSize + ChecksumSize;
    public const ulong ChecksumSeed = 0x534B4554434853UL;
    private const uint Magic = 0x4B535341; // "ASSK" little-endian

    public static void WriteHeader(Span<byte> destination, SketchKind kind, byte version)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = (byte)kind;
        destination[5] = version;
    }

    public static void WriteChecksum(Span<byte> whole)
    {
        int bodyLength = whole.Length - ChecksumSize;
        ulong checksum = SketchHash.Hash(whole.Slice(0, bodyLength), ChecksumSeed);
        BinaryPrimitives.WriteUInt64LittleEndian(whole.Slice(bodyLength), checksum);
    }

    /// <summary>Checks the envelope and returns the payload.</summary>
    public static ReadOnlySpan<byte> OpenEnvelope(ReadOnlySpan<byte> source, SketchKind kind, byte maxVersion, out byte version)
    {
        string name = Name(kind);
        if (source.Length < OverheadSize)
        {
            throw new SketchFormatException(
                $"The {name} sketch is truncated: {source.Length} bytes, fewer than the {OverheadSize} of header and checksum alone.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            throw new SketchFormatException($"The bytes do not start with the sketch magic \"ASSK\"; they are not a serialized {name} sketch.");
        }

        var actualKind = (SketchKind)source[4];
        if (actualKind != kind)
        {
            throw new SketchFormatException($"The bytes hold a {Name(actualKind)} sketch, not a {name} sketch.");
        }

        version = source[5];
        if (version == 0 || version > maxVersion)
        {
            throw new SketchFormatException(
                $"The {name} sketch has format version {version}; this library reads versions 1 to {maxVersion}. Upgrade the package that reads it.");
        }

        int bodyLength = source.Length - ChecksumSize;
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(source.Slice(bodyLength));
        ulong actual = SketchHash.Hash(source.Slice(0, bodyLength), ChecksumSeed);
        if (expected != actual)
        {
            throw new SketchFormatException(
                $"The {name} sketch fails its checksum: the bytes were truncated, extended or corrupted after serialization.");
        }

        return source.Slice(HeaderSize, bodyLength - HeaderSize);
    }

    private static string Name(SketchKind kind) => kind switch
    {
        SketchKind.HyperLogLog => "HyperLogLog",
        SketchKind.Quantile => "quantile",
        SketchKind.TopK => "top-K",
        _ => "unknown (kind " + ((byte)kind).ToString(System.Globalization.CultureInfo.InvariantCulture) + ")",
    };
}

/// <summary>Reads little-endian fields from a payload, throwing <see cref="SketchFormatException"/> on truncation.</summary>
internal ref struct SketchReader(ReadOnlySpan<byte> payload, string sketchName)
{
    private readonly ReadOnlySpan<byte> _payload = payload;
    private readonly string _name = sketchName;
    private int _position;

    public readonly int Remaining => _payload.Length - _position;

    public byte ReadByte() => Take(1)[0];

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            throw Invalid("a negative length");
        }

        return Take(count);
    }

    public readonly SketchFormatException Invalid(string what)
        => new($"The {_name} sketch is invalid: {what}.");

    public readonly void EnsureEnd()
    {
        if (_position != _payload.Length)
        {
            throw Invalid($"{_payload.Length - _position} unexpected bytes after the last field");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_payload.Length - _position < count)
        {
            throw new SketchFormatException(
                $"The {_name} sketch is truncated: a field at payload offset {_position} needs {count} bytes, {_payload.Length - _position} remain.");
        }

        ReadOnlySpan<byte> slice = _payload.Slice(_position, count);
        _position += count;
        return slice;
    }
}

/// <summary>Writes little-endian fields into a span sized in advance.</summary>
internal ref struct SketchWriter(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;
    private int _position;

    public readonly int Position => _position;

    public void WriteByte(byte value) => _destination[_position++] = value;

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_destination.Slice(_position), value);
        _position += 4;
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_destination.Slice(_position), value);
        _position += 8;
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(_destination.Slice(_position), value);
        _position += 8;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_destination.Slice(_position));
        _position += value.Length;
    }

    public Span<byte> Reserve(int count)
    {
        Span<byte> slice = _destination.Slice(_position, count);
        _position += count;
        return slice;
    }
}
