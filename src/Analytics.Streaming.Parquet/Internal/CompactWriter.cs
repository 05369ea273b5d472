using System.Text;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>Thrift compact protocol writer for the Parquet metadata structs (fields written in ascending id order).</summary>
internal sealed class CompactWriter
{
    public const byte TypeBoolTrue = 1;
    public const byte TypeBoolFalse = 2;
    public const byte TypeI8 = 3;
    public const byte TypeI16 = 4;
    public const byte TypeI32 = 5;
    public const byte TypeI64 = 6;
    public const byte TypeDouble = 7;
    public const byte TypeBinary = 8;
    public const byte TypeList = 9;
    public const byte TypeStruct = 12;

    private readonly ByteBuffer _out;
    private readonly Stack<short> _lastIds = new();
    private short _lastId;

    public CompactWriter(ByteBuffer output) => _out = output;

    public void StructBegin()
    {
        _lastIds.Push(_lastId);
        _lastId = 0;
    }

    public void StructEnd()
    {
        _out.WriteByte(0);
        _lastId = _lastIds.Pop();
    }

    public void FieldStructBegin(short id)
    {
        FieldHeader(id, TypeStruct);
        StructBegin();
    }

    public void FieldI32(short id, int value)
    {
        FieldHeader(id, TypeI32);
        _out.WriteVarint(ZigZag(value));
    }

    public void FieldI16(short id, short value)
    {
        FieldHeader(id, TypeI16);
        _out.WriteVarint(ZigZag((int)value));
    }

    public void FieldI64(short id, long value)
    {
        FieldHeader(id, TypeI64);
        _out.WriteVarint(ZigZag(value));
    }

    public void FieldBool(short id, bool value) => FieldHeader(id, value ? TypeBoolTrue : TypeBoolFalse);

    public void FieldBinary(short id, ReadOnlySpan<byte> value)
    {
        FieldHeader(id, TypeBinary);
        _out.WriteVarint((ulong)value.Length);
        _out.Write(value);
    }

    public void FieldString(short id, string value)
    {
        FieldHeader(id, TypeBinary);
        int count = Encoding.UTF8.GetByteCount(value);
        _out.WriteVarint((ulong)count);
        Encoding.UTF8.GetBytes(value, _out.GetSpan(count));
        _out.Advance(count);
    }

    public void FieldListBegin(short id, byte elementType, int count)
    {
        FieldHeader(id, TypeList);
        if (count <= 14)
        {
            _out.WriteByte((byte)((count << 4) | elementType));
        }
        else
        {
            _out.WriteByte((byte)(0xF0 | elementType));
            _out.WriteVarint((ulong)count);
        }
    }

    public void ListI32(int value) => _out.WriteVarint(ZigZag(value));

    public void ListString(string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        _out.WriteVarint((ulong)count);
        Encoding.UTF8.GetBytes(value, _out.GetSpan(count));
        _out.Advance(count);
    }

    /// <summary>Writes an empty struct field (e.g. a union member such as <c>StringType{}</c>).</summary>
    public void FieldEmptyStruct(short id)
    {
        FieldStructBegin(id);
        StructEnd();
    }

    private static ulong ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private void FieldHeader(short id, byte type)
    {
        int delta = id - _lastId;
        if (delta is > 0 and <= 15)
        {
            _out.WriteByte((byte)((delta << 4) | type));
        }
        else
        {
            _out.WriteByte(type);
            _out.WriteVarint(ZigZag((int)id));
        }

        _lastId = id;
    }
}
