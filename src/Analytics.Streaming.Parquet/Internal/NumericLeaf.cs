using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>INT32, INT64, FLOAT and DOUBLE leaves: PLAIN or RLE_DICTIONARY pages, min/max statistics.</summary>
internal sealed class NumericLeaf<TValue> : ValueLeaf<TValue>
    where TValue : unmanaged, INumber<TValue>
{
    private static readonly bool IsFloating = typeof(TValue) == typeof(float) || typeof(TValue) == typeof(double);
    private static readonly int Size = Unsafe.SizeOf<TValue>();

    private readonly NumericDictionary<TValue>? _dictionary;
    private TValue[] _values = Pooled.Rent<TValue>(1024);
    private int[] _indices = Pooled.Rent<int>(1024);
    private int _count;
    private int _lastPageValues;
    private bool _dictionaryMode;
    private bool _pageUsesDictionary;
    private MinMax<TValue, NumberOrder<TValue>> _statistics;

    public NumericLeaf(ColumnDescriptor descriptor, WriterContext context)
        : base(descriptor, context)
    {
        if (context.Options.EnableDictionary)
        {
            _dictionary = new NumericDictionary<TValue>();
            _dictionaryMode = true;
            _pageUsesDictionary = true;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void AddValue(TValue value)
    {
        _statistics.Add(value);
        int i = _count;
        if (_pageUsesDictionary)
        {
            int slot = _dictionary!.GetOrAdd(value, out bool added);
            if (added)
            {
                Context.RowGroupBytes += Size;
                if ((long)_dictionary.Count * Size > Options.DictionaryPageSizeLimit)
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
            if (i == _values.Length)
            {
                Pooled.Grow(ref _values, i, i + 1);
            }

            _values[i] = value;
            PageBytes += Size;
        }

        _count = i + 1;
    }

    protected override int EncodeValues(ByteBuffer body)
    {
        int encoding;

        // A page of nulls only has no values: write it PLAIN, so a chunk never refers to an empty dictionary.
        if (_pageUsesDictionary && _count > 0)
        {
            int width = Math.Max(1, RleEncoder.BitWidth(_dictionary!.Count - 1));
            body.WriteByte((byte)width);
            RleEncoder.Encode(_indices.AsSpan(0, _count), width, body);
            encoding = Encodings.RleDictionary;
        }
        else
        {
            body.Write(MemoryMarshal.AsBytes(_values.AsSpan(0, _count)));
            encoding = Encodings.Plain;
        }

        _lastPageValues = _count;
        _count = 0;
        return encoding;
    }

    protected override void AfterPageFlushed()
    {
        if (_dictionaryMode && DictionaryStopsPaying(_dictionary!.Count, (long)_dictionary.Count * Size, _lastPageValues))
        {
            _dictionaryMode = false;
        }

        _pageUsesDictionary = _dictionaryMode;
    }

    protected override int EncodeDictionary(ByteBuffer body)
    {
        body.Write(MemoryMarshal.AsBytes(_dictionary!.Values));
        return _dictionary.Count;
    }

    protected override void ReleaseBuffers()
    {
        Pooled.Return(ref _values);
        Pooled.Return(ref _indices);
        _dictionary?.Dispose();
    }

    protected override void ResetValues()
    {
        _count = 0;
        _dictionary?.Clear();
        _dictionaryMode = _dictionary is not null;
        _pageUsesDictionary = _dictionaryMode;
        _statistics.Reset();
    }

    // Parquet: a zero minimum is written as -0.0 and a zero maximum as +0.0 (whichever zero was seen).
    protected override (byte[] Min, byte[] Max)? GetStatistics() => _statistics.ToPlain(
        lo => Plain(IsFloating && TValue.IsZero(lo) ? -TValue.Zero : lo),
        hi => Plain(IsFloating && TValue.IsZero(hi) ? TValue.Zero : hi));

    private static byte[] Plain(TValue value)
    {
        var bytes = new byte[Size];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }
}
