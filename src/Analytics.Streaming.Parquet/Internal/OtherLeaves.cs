using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>A PLAIN-only leaf of fixed-width values, kept in a pooled array until their page is written.</summary>
internal abstract class PlainArrayLeaf<TValue, TOrder> : ValueLeaf<TValue>
    where TOrder : IStatisticsOrder<TValue>
{
    private readonly int _valueBytes;
    private TValue[] _values = Pooled.Rent<TValue>(256);
    private int _count;
    private MinMax<TValue, TOrder> _statistics;

    /// <param name="descriptor">The leaf column.</param>
    /// <param name="context">The writer's shared state.</param>
    /// <param name="valueBytes">Encoded bytes per value counted toward the page size (0 when less than a byte).</param>
    protected PlainArrayLeaf(ColumnDescriptor descriptor, WriterContext context, int valueBytes)
        : base(descriptor, context) => _valueBytes = valueBytes;

    public override void AddValue(TValue value)
    {
        if (_count == _values.Length)
        {
            Pooled.Grow(ref _values, _count, _count + 1);
        }

        _values[_count++] = value;
        PageBytes += _valueBytes;
        _statistics.Add(value);
    }

    protected sealed override int EncodeValues(ByteBuffer body)
    {
        EncodePlain(_values.AsSpan(0, _count), body);
        _count = 0;
        return Encodings.Plain;
    }

    /// <summary>Appends the PLAIN encoding of a page's values.</summary>
    protected abstract void EncodePlain(ReadOnlySpan<TValue> values, ByteBuffer body);

    /// <summary>The PLAIN encoding of one value, as statistics store it.</summary>
    protected abstract byte[] Plain(TValue value);

    protected sealed override void ReleaseBuffers() => Pooled.Return(ref _values);

    protected sealed override void ResetValues()
    {
        _count = 0;
        _statistics.Reset();
    }

    protected sealed override (byte[] Min, byte[] Max)? GetStatistics() => _statistics.ToPlain(Plain);
}

/// <summary>BOOLEAN leaf: PLAIN (bit-packed) pages.</summary>
internal sealed class BooleanLeaf : PlainArrayLeaf<bool, BooleanOrder>
{
    public BooleanLeaf(ColumnDescriptor descriptor, WriterContext context)
        : base(descriptor, context, valueBytes: 0)
    {
    }

    protected override void EncodePlain(ReadOnlySpan<bool> values, ByteBuffer body)
    {
        int bytes = (values.Length + 7) / 8;
        var span = body.GetSpan(bytes)[..bytes];
        span.Clear();
        for (int i = 0; i < values.Length; i++)
        {
            span[i >> 3] |= (byte)((values[i] ? 1 : 0) << (i & 7));
        }

        body.Advance(bytes);
    }

    protected override byte[] Plain(bool value) => [value ? (byte)1 : (byte)0];
}

/// <summary>Orders strings as Parquet does: by their UTF-8 bytes, unsigned (which is code point order).</summary>
internal static class Utf8Order
{
    public static int Compare(string a, string b)
    {
        int common = a.AsSpan().CommonPrefixLength(b);
        if (common == a.Length || common == b.Length)
        {
            return a.Length - b.Length;
        }

        return Fix(a[common]) - Fix(b[common]);
    }

    /// <summary>True when the string is well-formed UTF-16 (no lone surrogates), so it has an exact UTF-8 form.</summary>
    public static bool IsValid(string value)
    {
        if (System.Text.Ascii.IsValid(value))
        {
            return true;
        }

        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    // UTF-16 order differs from code point order only between surrogates (D800-DFFF) and E000-FFFF.
    private static int Fix(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}

/// <summary>STRING leaf (BYTE_ARRAY, UTF-8): RLE_DICTIONARY with fallback to PLAIN.</summary>
internal sealed class StringLeaf : ValueLeaf<string>
{
    private readonly Dictionary<string, int>? _dictionary;
    private readonly ByteBuffer _plain = new(4096);
    private readonly ByteBuffer _dictionaryBytes = new(1024);
    private readonly List<string> _dictionaryStrings = [];
    private int[] _indices = Pooled.Rent<int>(1024);
    private int _count;
    private int _lastPageValues;
    private bool _dictionaryMode;
    private bool _pageUsesDictionary;
    private MinMax<string, Utf8StringOrder> _plainStatistics;

    public StringLeaf(ColumnDescriptor descriptor, WriterContext context)
        : base(descriptor, context)
    {
        if (context.Options.EnableDictionary)
        {
            _dictionary = new Dictionary<string, int>(StringComparer.Ordinal);
            _dictionaryMode = true;
            _pageUsesDictionary = true;
        }
    }

    public override void AddValue(string value)
    {
        int i = _count;
        if (_pageUsesDictionary)
        {
            ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_dictionary!, value, out bool exists);
            if (!exists)
            {
                slot = _dictionaryStrings.Count;
                _dictionaryStrings.Add(value);
                int before = _dictionaryBytes.Length;
                AppendPlain(_dictionaryBytes, value);
                Context.RowGroupBytes += _dictionaryBytes.Length - before;
                if (_dictionaryBytes.Length > Options.DictionaryPageSizeLimit)
                {
                    ForceFlush = true;
                }
            }

            if (i == _indices.Length)
            {
                Pooled.Grow(ref _indices, i, i + 1);
            }

            _indices[i] = slot;
        }
        else
        {
            int before = _plain.Length;
            AppendPlain(_plain, value);
            PageBytes += _plain.Length - before;
            _plainStatistics.Add(value);
        }

        _count = i + 1;
    }

    protected override int EncodeValues(ByteBuffer body)
    {
        int encoding;

        // A page of nulls only has no values: write it PLAIN, so a chunk never refers to an empty dictionary.
        if (_pageUsesDictionary && _count > 0)
        {
            int width = Math.Max(1, RleEncoder.BitWidth(_dictionaryStrings.Count - 1));
            body.WriteByte((byte)width);
            RleEncoder.Encode(_indices.AsSpan(0, _count), width, body);
            encoding = Encodings.RleDictionary;
        }
        else
        {
            body.Write(_plain.Span);
            _plain.Clear();
            encoding = Encodings.Plain;
        }

        _lastPageValues = _count;
        _count = 0;
        return encoding;
    }

    protected override void AfterPageFlushed()
    {
        if (_dictionaryMode && DictionaryStopsPaying(_dictionaryStrings.Count, _dictionaryBytes.Length, _lastPageValues))
        {
            _dictionaryMode = false;
        }

        _pageUsesDictionary = _dictionaryMode;
    }

    protected override int EncodeDictionary(ByteBuffer body)
    {
        body.Write(_dictionaryBytes.Span);
        return _dictionaryStrings.Count;
    }

    protected override void ReleaseBuffers()
    {
        Pooled.Return(ref _indices);
        _plain.Dispose();
        _dictionaryBytes.Dispose();
    }

    protected override void ResetValues()
    {
        _count = 0;
        _plain.Clear();
        _dictionary?.Clear();
        _dictionaryStrings.Clear();
        _dictionaryBytes.Clear();
        _dictionaryMode = _dictionary is not null;
        _pageUsesDictionary = _dictionaryMode;
        _plainStatistics.Reset();
    }

    protected override (byte[] Min, byte[] Max)? GetStatistics()
    {
        // PLAIN pages were tracked as written; dictionary entries are each seen once here.
        var all = _plainStatistics;
        foreach (string s in _dictionaryStrings)
        {
            all.Add(s);
        }

        return all.ToPlain(Encoding.UTF8.GetBytes);
    }

    private static void AppendPlain(ByteBuffer buffer, string value)
    {
        var span = buffer.GetSpan(4 + (value.Length * 3));
        Utf8.FromUtf16(value, span[4..], out _, out int written, replaceInvalidSequences: true);
        BinaryPrimitives.WriteInt32LittleEndian(span, written);
        buffer.Advance(4 + written);
    }
}

/// <summary>BINARY leaf (BYTE_ARRAY without annotation): PLAIN pages.</summary>
internal sealed class BinaryLeaf : ValueLeaf<byte[]>
{
    private readonly ByteBuffer _plain = new(4096);
    private MinMax<byte[], BinaryOrder> _statistics;

    public BinaryLeaf(ColumnDescriptor descriptor, WriterContext context)
        : base(descriptor, context)
    {
    }

    public override void AddValue(byte[] value)
    {
        _plain.WriteInt32LittleEndian(value.Length);
        _plain.Write(value);
        PageBytes += 4 + value.Length;
        _statistics.Add(value);
    }

    protected override int EncodeValues(ByteBuffer body)
    {
        body.Write(_plain.Span);
        _plain.Clear();
        return Encodings.Plain;
    }

    protected override void ReleaseBuffers() => _plain.Dispose();

    protected override void ResetValues()
    {
        _plain.Clear();
        _statistics.Reset();
    }

    protected override (byte[] Min, byte[] Max)? GetStatistics() => _statistics.ToPlain(value => value);
}

/// <summary>DECIMAL leaf with precision above 18: FIXED_LEN_BYTE_ARRAY, big-endian two's complement, PLAIN pages.</summary>
internal sealed class FixedDecimalLeaf : PlainArrayLeaf<Int128, NumberOrder<Int128>>
{
    public FixedDecimalLeaf(ColumnDescriptor descriptor, WriterContext context)
        : base(descriptor, context, valueBytes: descriptor.TypeLength)
    {
    }

    protected override void EncodePlain(ReadOnlySpan<Int128> values, ByteBuffer body)
    {
        int width = Descriptor.TypeLength;
        var span = body.GetSpan(values.Length * width);
        for (int i = 0; i < values.Length; i++)
        {
            Write(values[i], span.Slice(i * width, width));
        }

        body.Advance(values.Length * width);
    }

    protected override byte[] Plain(Int128 value)
    {
        var bytes = new byte[Descriptor.TypeLength];
        Write(value, bytes);
        return bytes;
    }

    private static void Write(Int128 value, Span<byte> destination)
    {
        Span<byte> full = stackalloc byte[16];
        BinaryPrimitives.WriteInt128BigEndian(full, value);
        full[(16 - destination.Length)..].CopyTo(destination);
    }
}
