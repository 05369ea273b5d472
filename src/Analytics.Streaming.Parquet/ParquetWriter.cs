using System.Buffers.Binary;
using Analytics.Streaming.Parquet.Internal;

namespace Analytics.Streaming.Parquet;

/// <summary>
/// Writes records of type <typeparamref name="T"/> as one Parquet file to any writable <see cref="Stream"/>
/// (seekable or not), one row group at a time, with bounded memory.
/// </summary>
/// <typeparam name="T">The record type, mapped to columns by a <see cref="ParquetRecordMap{T}"/>.</typeparam>
/// <remarks>
/// <para>
/// Life cycle: create, <see cref="Write(T)"/> (or <see cref="WriteAsync"/>) records, then <see cref="Complete"/>
/// (or <see cref="CompleteAsync"/>), which writes the last row group and the footer. Only a completed writer leaves
/// a valid file. Disposing without completing abandons the file: nothing more is written, the stream holds at most
/// the leading magic and whole row groups but no footer, so no reader takes it for a complete file (delete or
/// overwrite it). After a failure of the stream the writer is faulted: every further call except dispose throws.
/// </para>
/// <para>
/// Memory: the current row group is buffered as compressed pages (up to <see cref="ParquetWriterOptions.RowGroupSize"/>)
/// plus one open page per column; a row group is written to the stream when it reaches that size or
/// <see cref="ParquetWriterOptions.MaxRowsPerRowGroup"/> rows, or on <see cref="FlushRowGroup"/>.
/// </para>
/// <para>
/// Bad values: a record is validated whole before any of its columns is written; a value that does not fit its
/// column throws <see cref="ParquetValueException"/>, the record is skipped, and the writer stays usable.
/// </para>
/// <para>Threading: not thread-safe; use one writer per file from one thread (or one async flow) at a time.</para>
/// </remarks>
public sealed class ParquetWriter<T> : IDisposable, IAsyncDisposable
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly ParquetWriterOptions _options;
    private readonly WriterContext _context;
    private readonly ColumnBinding<T>[] _bindings;
    private readonly LeafColumn[] _leaves;
    private readonly List<RowGroupMetadata> _rowGroups = [];
    private long _position;
    private long _rowCount;
    private int _rowsInGroup;
    private State _state;

    /// <summary>Initializes a new instance of the <see cref="ParquetWriter{T}"/> class. Nothing is written until the first row group or completion.</summary>
    /// <param name="output">A writable stream; the file starts at its current position.</param>
    /// <param name="map">How records map to columns.</param>
    /// <param name="options">Options; <see cref="ParquetWriterOptions.Default"/> when <see langword="null"/>. Validated here.</param>
    /// <param name="leaveOpen">Whether disposing the writer leaves <paramref name="output"/> open. Default <see langword="false"/> (the writer disposes it).</param>
    /// <exception cref="ArgumentException">The stream is not writable or an option is out of range.</exception>
    public ParquetWriter(Stream output, ParquetRecordMap<T> map, ParquetWriterOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(map);
        if (!output.CanWrite)
        {
            throw new ArgumentException("The output stream is not writable.", nameof(output));
        }

        _options = options ?? ParquetWriterOptions.Default;
        _options.Validate();
        _output = output;
        _leaveOpen = leaveOpen;
        _context = new WriterContext(_options);
        var leaves = new List<LeafColumn>();
        _bindings = new ColumnBinding<T>[map.Columns.Length];
        for (int i = 0; i < _bindings.Length; i++)
        {
            _bindings[i] = map.Columns[i].Bind(_context, leaves);
        }

        _leaves = leaves.ToArray();
        Schema = map.Schema;
    }

    private enum State
    {
        Open,
        Completed,
        Faulted,
        Disposed,
    }

    /// <summary>Gets the schema being written.</summary>
    public ParquetSchema Schema { get; }

    /// <summary>Gets the number of records accepted so far (written or buffered).</summary>
    public long RowCount => _rowCount;

    /// <summary>Gets the number of row groups written to the stream so far.</summary>
    public int RowGroupCount => _rowGroups.Count;

    /// <summary>Gets the number of bytes written to the stream so far.</summary>
    public long BytesWritten => _position;

    /// <summary>
    /// Gets an estimate of the bytes buffered for the current row group: its finished compressed pages plus its
    /// dictionary entries (the open page of each column, at most <see cref="ParquetWriterOptions.PageSize"/> or
    /// <see cref="ParquetWriterOptions.MaxValuesPerPage"/> values, is not counted). <see cref="BytesWritten"/> + this
    /// is a good estimate of the file size so far, e.g. to roll objects by size.
    /// </summary>
    public long BufferedBytes => _context.RowGroupBytes;

    /// <summary>Gets the number of records buffered in the current row group.</summary>
    public int BufferedRows => _rowsInGroup;

    /// <summary>Gets a value indicating whether <see cref="Complete"/> has finished the file.</summary>
    public bool IsCompleted => _state == State.Completed;

    /// <summary>Writes one record (buffered; writes a row group to the stream synchronously when one is full).</summary>
    /// <param name="record">The record.</param>
    /// <exception cref="ParquetValueException">A value does not fit its column; the record is skipped and the writer stays usable.</exception>
    /// <exception cref="InvalidOperationException">The writer is completed, faulted or disposed.</exception>
    public void Write(T record)
    {
        if (Append(record))
        {
            FlushRowGroup();
        }
    }

    /// <summary>Writes records in order (see <see cref="Write(T)"/>).</summary>
    /// <param name="records">The records.</param>
    /// <exception cref="ParquetValueException">A value does not fit; the records before it are written, it and the ones after are not.</exception>
    public void Write(ReadOnlySpan<T> records)
    {
        foreach (var record in records)
        {
            Write(record);
        }
    }

    /// <summary>Writes records in order; full row groups are written to the stream asynchronously.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels between records and stream writes; a cancelled row group write faults the writer.</param>
    /// <returns>A task that completes when the records are accepted.</returns>
    /// <exception cref="ParquetValueException">A value does not fit; the records before it are written, it and the ones after are not.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<T> records, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < records.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Append(records.Span[i]))
            {
                await FlushRowGroupAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Closes the current row group (if it has rows) and writes it to the stream.</summary>
    /// <exception cref="InvalidOperationException">The writer is completed, faulted or disposed.</exception>
    public void FlushRowGroup()
    {
        ThrowIfNotOpen();
        if (_rowsInGroup == 0)
        {
            return;
        }

        try
        {
            long start = PrepareRowGroup();
            if (start == 0)
            {
                _output.Write(Magic);
                _position = Magic.Length;
            }

            foreach (var leaf in _leaves)
            {
                _output.Write(leaf.DictionaryPageBytes.Span);
                _output.Write(leaf.DataPageBytes.Span);
            }

            FinishRowGroup();
        }
        catch
        {
            _state = State.Faulted;
            throw;
        }
    }

    /// <summary>Closes the current row group (if it has rows) and writes it to the stream asynchronously.</summary>
    /// <param name="cancellationToken">Cancels the stream writes; a cancelled write faults the writer.</param>
    /// <returns>A task that completes when the row group is written.</returns>
    public async ValueTask FlushRowGroupAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen();
        if (_rowsInGroup == 0)
        {
            return;
        }

        try
        {
            long start = PrepareRowGroup();
            if (start == 0)
            {
                await _output.WriteAsync(Magic, cancellationToken).ConfigureAwait(false);
                _position = Magic.Length;
            }

            foreach (var leaf in _leaves)
            {
                await _output.WriteAsync(leaf.DictionaryPageBytes, cancellationToken).ConfigureAwait(false);
                await _output.WriteAsync(leaf.DataPageBytes, cancellationToken).ConfigureAwait(false);
            }

            FinishRowGroup();
        }
        catch
        {
            _state = State.Faulted;
            throw;
        }
    }

    /// <summary>Writes the last row group and the footer, and flushes the stream. The file is then complete and valid.</summary>
    /// <exception cref="InvalidOperationException">The writer is already completed, faulted or disposed.</exception>
    public void Complete()
    {
        FlushRowGroup();
        try
        {
            using var footer = BuildFooter(out bool needsMagic);
            if (needsMagic)
            {
                _output.Write(Magic);
            }

            _output.Write(footer.Span);
            _output.Flush();
            _position += footer.Length + (needsMagic ? Magic.Length : 0);
            _state = State.Completed;
        }
        catch
        {
            _state = State.Faulted;
            throw;
        }
    }

    /// <summary>Writes the last row group and the footer asynchronously, and flushes the stream.</summary>
    /// <param name="cancellationToken">Cancels the stream writes; a cancelled completion faults the writer.</param>
    /// <returns>A task that completes when the file is complete.</returns>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        await FlushRowGroupAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var footer = BuildFooter(out bool needsMagic);
            if (needsMagic)
            {
                await _output.WriteAsync(Magic, cancellationToken).ConfigureAwait(false);
            }

            await _output.WriteAsync(footer.Memory, cancellationToken).ConfigureAwait(false);
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            _position += footer.Length + (needsMagic ? Magic.Length : 0);
            _state = State.Completed;
        }
        catch
        {
            _state = State.Faulted;
            throw;
        }
    }

    /// <summary>Releases the writer; without <see cref="Complete"/> the file is abandoned (no footer is written). Disposes the stream unless leaveOpen.</summary>
    public void Dispose()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        _state = State.Disposed;
        ReleaseBuffers();
        if (!_leaveOpen)
        {
            _output.Dispose();
        }
    }

    /// <summary>Releases the writer asynchronously; see <see cref="Dispose"/>.</summary>
    /// <returns>A task that completes when the stream is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        _state = State.Disposed;
        ReleaseBuffers();
        if (!_leaveOpen)
        {
            await _output.DisposeAsync().ConfigureAwait(false);
        }
    }

    private bool Append(T record)
    {
        ThrowIfNotOpen();
        var bindings = _bindings;
        long row = _rowCount;
        for (int i = 0; i < bindings.Length; i++)
        {
            try
            {
                bindings[i].Stage(record, row);
            }
            catch (ParquetValueException)
            {
                throw;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new ParquetValueException(bindings[i].Column, row, $"could not be read: its accessor threw {ex.GetType().Name}: {ex.Message}", ex);
            }
        }

        try
        {
            for (int i = 0; i < bindings.Length; i++)
            {
                bindings[i].Commit();
            }
        }
        catch
        {
            // Only a bug or an out-of-memory can land here; the row is half written, so the file cannot be completed.
            _state = State.Faulted;
            throw;
        }

        _rowCount = row + 1;
        _rowsInGroup++;
        return _rowsInGroup >= _options.MaxRowsPerRowGroup || _context.RowGroupBytes >= _options.RowGroupSize;
    }

    private long PrepareRowGroup()
    {
        long start = _position;
        foreach (var leaf in _leaves)
        {
            leaf.PrepareChunk();
        }

        return start;
    }

    private void FinishRowGroup()
    {
        var columns = new ChunkMetadata[_leaves.Length];
        long offset = _position;
        long groupStart = offset;
        long compressed = 0;
        long uncompressed = 0;
        for (int i = 0; i < _leaves.Length; i++)
        {
            var leaf = _leaves[i];
            columns[i] = leaf.Describe(offset);
            long length = leaf.DictionaryPageBytes.Length + leaf.DataPageBytes.Length;
            offset += length;
            compressed += columns[i].TotalCompressedSize;
            uncompressed += columns[i].TotalUncompressedSize;
            leaf.ResetChunk();
        }

        _rowGroups.Add(new RowGroupMetadata
        {
            Columns = columns,
            NumRows = _rowsInGroup,
            TotalByteSize = uncompressed,
            FileOffset = groupStart,
            TotalCompressedSize = compressed,
            Ordinal = (short)Math.Min(_rowGroups.Count, short.MaxValue),
        });
        _position = offset;
        _rowsInGroup = 0;
        _context.RowGroupBytes = 0;
        _context.RowGroupUncompressedBytes = 0;
    }

    /// <summary>The footer (metadata, its length, the closing magic) in a pooled buffer the caller disposes.</summary>
    private ByteBuffer BuildFooter(out bool needsMagic)
    {
        needsMagic = _position == 0;
        var buffer = new ByteBuffer(16 * 1024);
        FooterWriter.Write(buffer, Schema, _rowGroups, _rowCount, _leaves.Length, _options);
        int length = buffer.Length;
        var tail = buffer.GetSpan(8);
        BinaryPrimitives.WriteInt32LittleEndian(tail, length);
        Magic.CopyTo(tail[4..]);
        buffer.Advance(8);
        return buffer;
    }

    /// <summary>Returns every pooled buffer of the writer (its leaves' pages, levels and values, the shared scratch).</summary>
    private void ReleaseBuffers()
    {
        foreach (var leaf in _leaves)
        {
            leaf.Dispose();
        }

        _context.Dispose();
    }

    private void ThrowIfNotOpen()
    {
        switch (_state)
        {
            case State.Open:
                return;
            case State.Completed:
                throw new InvalidOperationException("The Parquet file is already complete; create a new writer for more records.");
            case State.Faulted:
                throw new InvalidOperationException("The Parquet writer failed earlier (the stream threw or a write was cancelled); the file is incomplete, discard it and start a new writer.");
            default:
                throw new ObjectDisposedException(GetType().Name);
        }
    }
}
