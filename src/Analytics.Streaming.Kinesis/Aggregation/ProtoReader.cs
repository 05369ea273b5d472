namespace Analytics.Streaming.Kinesis;

/// <summary>A minimal protobuf wire-format reader over a span (varints, length-delimited fields, skipping).</summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _buffer;

    public ProtoReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly bool End => Position >= _buffer.Length;

    public bool TryReadTag(out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (!TryReadVarint(out ulong tag) || tag > int.MaxValue)
        {
            return false;
        }

        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return field > 0;
    }

    public bool TryReadVarint(out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (Position >= _buffer.Length)
            {
                return false;
            }

            byte b = _buffer[Position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }

    public bool TryReadLengthDelimited(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (!TryReadVarint(out ulong length) || length > (ulong)(_buffer.Length - Position))
        {
            return false;
        }

        bytes = _buffer.Slice(Position, (int)length);
        Position += (int)length;
        return true;
    }

    public bool TrySkip(int wireType)
    {
        switch (wireType)
        {
            case 0:
                return TryReadVarint(out _);
            case 1:
                return Advance(8);
            case 2:
                return TryReadLengthDelimited(out _);
            case 5:
                return Advance(4);
            default:
                return false;
        }
    }

    private bool Advance(int count)
    {
        if (_buffer.Length - Position < count)
        {
            return false;
        }

        Position += count;
        return true;
    }
}
