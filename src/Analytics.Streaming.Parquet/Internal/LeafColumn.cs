using System.Runtime.CompilerServices;

namespace Analytics.Streaming.Parquet.Internal;

/// <summary>State shared by the leaves of one writer: options, codec, scratch buffers, the row group's byte count.</summary>
internal sealed class WriterContext : IDisposable
{
    public WriterContext(ParquetWriterOptions options)
    {
        Options = options;
        Compressor = new PageCompressor(options.Compression, options.CompressionLevel);
        Header = new CompactWriter(HeaderBuffer);
    }

    public ParquetWriterOptions Options { get; }

    public PageCompressor Compressor { get; }

    public ByteBuffer PageBody { get; } = new(64 * 1024);

    public ByteBuffer HeaderBuffer { get; } = new(64);

    public CompactWriter Header { get; }

    /// <summary>Bytes buffered for the current row group: finished (compressed) pages plus dictionary entries (uncompressed).</summary>
    public long RowGroupBytes { get; set; }

    /// <summary>Uncompressed bytes (with page headers) of the current row group.</summary>
    public long RowGroupUncompressedBytes { get; set; }

    public void Dispose()
    {
        Compressor.Dispose();
        PageBody.Dispose();
        HeaderBuffer.Dispose();
    }
}

/// <summary>
/// One leaf column of the current row group: levels and values of the open page, the finished pages of the column
/// chunk, and its statistics. Pages end only at row boundaries (<see cref="EndRow"/>).
/// </summary>
internal abstract class LeafColumn : IDisposable
{
    private const int DataPage = 0;
    private const int DictionaryPage = 2;
    private readonly WriterContext _context;
    private readonly ByteBuffer _chunk = new(1024);
    private readonly ByteBuffer _dictionaryPage = new(16);
    private byte[] _definition;
    private byte[] _repetition;
    private long _chunkEntries;
    private long _chunkNulls;
    private long _chunkUncompressed;
    private long _chunkCompressed;
    private bool _usedPlain;
    private bool _usedDictionary;
    private bool _usedDelta;
    private int _dictionaryPageHeaderAndBody;
    private readonly int _maxValuesPerPage;
    private readonly int _pageSize;
    private readonly bool _hasDefinition;
    private readonly bool _hasRepetition;

    protected LeafColumn(ColumnDescriptor descriptor, WriterContext context)
    {
        Descriptor = descriptor;
        _context = context;
        _maxValuesPerPage = context.Options.MaxValuesPerPage;
        _pageSize = context.Options.PageSize;
        int initial = Math.Min(context.Options.MaxValuesPerPage, 4096) + 1;
        _hasDefinition = descriptor.MaxDefinitionLevel > 0;
        _hasRepetition = descriptor.MaxRepetitionLevel > 0;
        _definition = descriptor.MaxDefinitionLevel > 0 ? Pooled.Rent<byte>(initial) : [];
        _repetition = descriptor.MaxRepetitionLevel > 0 ? Pooled.Rent<byte>(initial) : [];
    }

    public ColumnDescriptor Descriptor { get; }

    protected WriterContext Context => _context;

    protected ParquetWriterOptions Options => _context.Options;

    /// <summary>Level entries (values and nulls) in the open page.</summary>
    protected int Entries { get; set; }

    /// <summary>Estimated encoded bytes of the open page's values.</summary>
    protected long PageBytes { get; set; }

    /// <summary>Set by a leaf when the page must end at the next row boundary (e.g. its dictionary grew too big).</summary>
    protected bool ForceFlush { get; set; }

    /// <summary>Number of data pages in the current chunk.</summary>
    protected int DataPages { get; private set; }

    /// <summary>Null entries (definition level below the maximum) in the open page.</summary>
    protected int PageNulls { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Levels(int repetition, int definition)
    {
        int i = Entries;
        if (_hasDefinition)
        {
            if (i == _definition.Length)
            {
                Pooled.Grow(ref _definition, i, i + 1);
            }

            _definition[i] = (byte)definition;
        }

        if (_hasRepetition)
        {
            if (i == _repetition.Length)
            {
                Pooled.Grow(ref _repetition, i, i + 1);
            }

            _repetition[i] = (byte)repetition;
        }

        Entries = i + 1;
    }

    /// <summary>Adds a null / empty entry (no value) with the given levels.</summary>
    public void AddNull(int repetition, int definition)
    {
        Levels(repetition, definition);
        PageNulls++;
    }

    /// <summary>Ends a row for this column: closes the page when it is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EndRow()
    {
        if (Entries >= _maxValuesPerPage || PageBytes >= _pageSize || ForceFlush)
        {
            FlushPage();
        }
    }

    /// <summary>Encodes, compresses and appends the open page to the chunk.</summary>
    public void FlushPage()
    {
        if (Entries == 0)
        {
            return;
        }

        var body = _context.PageBody;
        body.Clear();
        if (Descriptor.MaxRepetitionLevel > 0)
        {
            WriteLevels(body, _repetition.AsSpan(0, Entries), Descriptor.MaxRepetitionLevel);
        }

        if (Descriptor.MaxDefinitionLevel > 0)
        {
            WriteLevels(body, _definition.AsSpan(0, Entries), Descriptor.MaxDefinitionLevel);
        }

        int encoding = EncodeValues(body);
        switch (encoding)
        {
            case Encodings.Plain:
                _usedPlain = true;
                break;
            case Encodings.DeltaBinaryPacked:
                _usedDelta = true;
                break;
            default:
                _usedDictionary = true;
                break;
        }

        long written = AppendPage(_chunk, DataPage, Entries, encoding);
        _context.RowGroupBytes += written;
        _chunkEntries += Entries;
        _chunkNulls += PageNulls;
        DataPages++;
        Entries = 0;
        PageNulls = 0;
        PageBytes = 0;
        ForceFlush = false;
        AfterPageFlushed();
    }

    /// <summary>Closes the chunk: flushes the open page and builds the dictionary page, if any.</summary>
    /// <returns>The number of bytes the chunk will occupy in the file.</returns>
    public long PrepareChunk()
    {
        FlushPage();
        _dictionaryPage.Clear();
        _dictionaryPageHeaderAndBody = 0;
        if (_usedDictionary)
        {
            var body = _context.PageBody;
            body.Clear();
            int count = EncodeDictionary(body);
            _dictionaryPageHeaderAndBody = (int)AppendPage(_dictionaryPage, DictionaryPage, count, Encodings.Plain);
        }

        return _dictionaryPage.Length + _chunk.Length;
    }

    /// <summary>The prepared chunk bytes in file order (dictionary page first).</summary>
    public ReadOnlyMemory<byte> DictionaryPageBytes => _dictionaryPage.Memory;

    /// <summary>The prepared data pages.</summary>
    public ReadOnlyMemory<byte> DataPageBytes => _chunk.Memory;

    /// <summary>Describes the prepared chunk placed at <paramref name="offset"/> in the file.</summary>
    public ChunkMetadata Describe(long offset)
    {
        var encodings = new List<int>(4);
        if (_usedPlain || _usedDictionary)
        {
            encodings.Add(Encodings.Plain);
        }

        if (Descriptor.MaxDefinitionLevel > 0 || Descriptor.MaxRepetitionLevel > 0)
        {
            encodings.Add(Encodings.Rle);
        }

        if (_usedDelta)
        {
            encodings.Add(Encodings.DeltaBinaryPacked);
        }

        if (_usedDictionary)
        {
            encodings.Add(Encodings.RleDictionary);
        }

        var statistics = Options.WriteStatistics ? GetStatistics() : null;
        if (statistics is var (min, max) && Descriptor.Type is PhysicalType.ByteArray
            && (min.Length > Options.MaxStatisticsSize || max.Length > Options.MaxStatisticsSize))
        {
            statistics = null;
        }

        return new ChunkMetadata
        {
            Column = Descriptor,
            Codec = (int)_context.Compressor.Codec,
            NumValues = _chunkEntries,
            TotalUncompressedSize = _chunkUncompressed,
            TotalCompressedSize = _chunkCompressed,
            DictionaryPageOffset = _usedDictionary ? offset : null,
            DataPageOffset = offset + _dictionaryPageHeaderAndBody,
            Encodings = encodings.ToArray(),
            NullCount = Options.WriteStatistics ? _chunkNulls : null,
            Min = statistics?.Min,
            Max = statistics?.Max,
        };
    }

    /// <summary>Starts a new chunk for the next row group.</summary>
    public void ResetChunk()
    {
        _chunk.Clear();
        _dictionaryPage.Clear();
        _chunkEntries = 0;
        _chunkNulls = 0;
        _chunkUncompressed = 0;
        _chunkCompressed = 0;
        _usedPlain = false;
        _usedDictionary = false;
        _usedDelta = false;
        _dictionaryPageHeaderAndBody = 0;
        DataPages = 0;
        ResetValues();
    }

    /// <summary>Returns the column's buffers to the pool; the leaf is not used afterwards.</summary>
    public void Dispose()
    {
        _chunk.Dispose();
        _dictionaryPage.Dispose();
        Pooled.Return(ref _definition);
        Pooled.Return(ref _repetition);
        ReleaseBuffers();
    }

    /// <summary>Writes the open page's values and clears them; returns the encoding used.</summary>
    protected abstract int EncodeValues(ByteBuffer body);

    /// <summary>Writes the PLAIN dictionary; returns its entry count. Called only when a page used the dictionary.</summary>
    protected virtual int EncodeDictionary(ByteBuffer body) => throw new InvalidOperationException("This column has no dictionary.");

    /// <summary>Called after each page is flushed (dictionary fallback decisions).</summary>
    protected virtual void AfterPageFlushed()
    {
    }

    /// <summary>
    /// Whether a dictionary-encoded column should write PLAIN for the rest of its chunk, asked after each data page:
    /// when its dictionary passed <see cref="ParquetWriterOptions.DictionaryPageSizeLimit"/>, or, after the first page,
    /// when the share of distinct values in that page shows the column has more distinct values than the limit holds
    /// (its dictionary would only cost time before falling back anyway, as for timestamps or unique ids).
    /// </summary>
    /// <param name="entries">Dictionary entries so far.</param>
    /// <param name="bytes">PLAIN-encoded bytes of those entries.</param>
    /// <param name="pageValues">Values (not nulls) in the page just flushed.</param>
    /// <remarks>
    /// Drawing n values from N equally likely distinct values shows N(1 - e^(-n/N)) distinct ones on average, which
    /// grows with N; so more distinct values in the first page than that count for N = the entries the limit holds
    /// means the column has more distinct values than fit. A share alone misleads: 20,000 draws from 100,000 user ids
    /// are 90.6% distinct, yet their dictionary fits in 1 MiB and stores the ids in 17 bits instead of 64.
    /// </remarks>
    protected bool DictionaryStopsPaying(int entries, long bytes, int pageValues)
    {
        long limit = Options.DictionaryPageSizeLimit;
        if (bytes > limit)
        {
            return true;
        }

        if (DataPages != 1 || entries <= 1024)
        {
            return false;
        }

        double capacity = limit / ((double)bytes / entries);
        double expected = capacity * (1 - Math.Exp(-pageValues / capacity));
        return entries > expected;
    }

    /// <summary>Returns the leaf's own pooled arrays (called once, by <see cref="Dispose"/>).</summary>
    protected abstract void ReleaseBuffers();

    /// <summary>Clears chunk-level value state (dictionary, statistics).</summary>
    protected abstract void ResetValues();

    /// <summary>The PLAIN-encoded min and max of the chunk (without length prefix), or <see langword="null"/> when it has no value to order.</summary>
    protected abstract (byte[] Min, byte[] Max)? GetStatistics();

    /// <summary>
    /// Compresses the page body in <see cref="WriterContext.PageBody"/> and appends its header and compressed body to
    /// <paramref name="destination"/>, counting both sizes for the chunk and the row group.
    /// </summary>
    /// <returns>The bytes appended (header and compressed body).</returns>
    private long AppendPage(ByteBuffer destination, int pageType, int count, int encoding)
    {
        var body = _context.PageBody;
        int uncompressed = body.Length;
        var compressed = _context.Compressor.Compress(body.Span);
        var header = _context.Header;
        _context.HeaderBuffer.Clear();
        header.StructBegin();
        header.FieldI32(1, pageType);
        header.FieldI32(2, uncompressed);
        header.FieldI32(3, compressed.Length);
        if (pageType == DataPage)
        {
            header.FieldStructBegin(5); // DataPageHeader: values, encoding, definition and repetition level encodings
            header.FieldI32(1, count);
            header.FieldI32(2, encoding);
            header.FieldI32(3, Encodings.Rle);
            header.FieldI32(4, Encodings.Rle);
        }
        else
        {
            header.FieldStructBegin(7); // DictionaryPageHeader: values, encoding
            header.FieldI32(1, count);
            header.FieldI32(2, encoding);
        }

        header.StructEnd();
        header.StructEnd();
        destination.Write(_context.HeaderBuffer.Span);
        destination.Write(compressed);
        int headerLength = _context.HeaderBuffer.Length;
        _chunkUncompressed += headerLength + uncompressed;
        _chunkCompressed += headerLength + compressed.Length;
        _context.RowGroupUncompressedBytes += headerLength + uncompressed;
        return headerLength + compressed.Length;
    }

    private static void WriteLevels(ByteBuffer body, ReadOnlySpan<byte> levels, int maxLevel)
    {
        int start = body.Length;
        body.WriteInt32LittleEndian(0);
        RleEncoder.Encode(levels, RleEncoder.BitWidth(maxLevel), body);
        body.PatchInt32LittleEndian(start, body.Length - start - 4);
    }
}

/// <summary>A leaf that stores values of one CLR type.</summary>
internal abstract class ValueLeaf<TValue> : LeafColumn
{
    protected ValueLeaf(ColumnDescriptor descriptor, WriterContext context)
        : base(descriptor, context)
    {
    }

    /// <summary>Appends a value (levels are recorded separately).</summary>
    public abstract void AddValue(TValue value);

    /// <summary>Appends a value of a flat REQUIRED column (no levels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddRequired(TValue value)
    {
        AddValue(value);
        Entries++;
    }

    /// <summary>Appends a present value with its levels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddPresent(TValue value, int repetition, int definition)
    {
        Levels(repetition, definition);
        AddValue(value);
    }
}
