using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>
/// INT32, INT64, FLOAT and DOUBLE leaves with min/max statistics. Pages are RLE_DICTIONARY while the dictionary pays,
/// then PLAIN; with <see cref="ParquetWriterOptions.EnableDeltaEncoding"/>, integer pages are DELTA_BINARY_PACKED instead whenever that is smaller: a chunk's first page compares
/// the dictionary (its entries and indices) with the deltas, and a page without dictionary compares PLAIN with them.
/// </summary>
internal sealed class NumericLeaf<TValue> : ValueLeaf<TValue>
    where TValue : unmanaged, INumber<TValue>
{
    private static readonly bool IsFloating = typeof(TValue) == typeof(float) || typeof(TValue) == typeof(double);
    private static readonly int Size = Unsafe.SizeOf<TValue>();
    private static readonly bool IsIntegerType = typeof(TValue) == typeof(int) || typeof(TValue) == typeof(long);

    private readonly NumericDictionary<TValue>? _dictionary;
    private readonly bool _delta;
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
        _delta = IsIntegerType && context.Options.EnableDeltaEncoding;
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
        if (_count == 0)
        {
            encoding = Encodings.Plain;
        }
        else if (_pageUsesDictionary)
        {
            int width = Math.Max(1, RleEncoder.BitWidth(_dictionary!.Count - 1));
            if (_delta && DataPages == 0 && TryDeltaInsteadOfDictionary(body, width))
            {
                encoding = Encodings.DeltaBinaryPacked;
            }
            else
            {
                body.WriteByte((byte)width);
                RleEncoder.Encode(_indices.AsSpan(0, _count), width, body);
                encoding = Encodings.RleDictionary;
            }
        }
        else if (_delta && TryDelta(body, (long)_count * Size))
        {
            encoding = Encodings.DeltaBinaryPacked;
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

    /// <summary>
    /// On a chunk's first page, encodes the page as deltas when they take fewer bytes than the dictionary entries
    /// and indices would; the chunk then leaves dictionary mode (nothing refers to the dictionary yet).
    /// </summary>
    private bool TryDeltaInsteadOfDictionary(ByteBuffer body, int width)
    {
        if (_values.Length < _count)
        {
            Pooled.Grow(ref _values, 0, _count);
        }

        var entries = _dictionary!.Values;
        for (int i = 0; i < _count; i++)
        {
            _values[i] = entries[_indices[i]];
        }

        long dictionaryBytes = ((long)entries.Length * Size) + 1 + (((long)_count * width) + 7) / 8;
        if (!TryDelta(body, dictionaryBytes))
        {
            return false;
        }

        Context.RowGroupBytes -= (long)entries.Length * Size;
        _dictionary.Clear();
        _dictionaryMode = false;
        return true;
    }

    /// <summary>Appends the page's values as deltas when that takes fewer than <paramref name="limit"/> bytes; otherwise leaves <paramref name="body"/> as it was.</summary>
    private bool TryDelta(ByteBuffer body, long limit)
    {
        int mark = body.Length;
        if (typeof(TValue) == typeof(int))
        {
            DeltaBinaryPackedEncoder.Encode(MemoryMarshal.Cast<TValue, int>(_values.AsSpan(0, _count)), body);
        }
        else
        {
            DeltaBinaryPackedEncoder.Encode(MemoryMarshal.Cast<TValue, long>(_values.AsSpan(0, _count)), body);
        }

        if (body.Length - mark < limit)
        {
            return true;
        }

        body.SetLength(mark);
        return false;
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
