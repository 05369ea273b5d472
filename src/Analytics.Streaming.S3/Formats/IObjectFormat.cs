using System.Diagnostics.CodeAnalysis;

namespace Analytics.Streaming.S3;

/// <summary>The file format of the objects a sink writes: Parquet, JSON lines, raw lines.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <remarks>Formats are immutable and thread safe; each object gets its own writer from <see cref="CreateWriter"/>.</remarks>
public interface IObjectFormat<T>
{
    /// <summary>Gets the file extension including the dot, such as <c>.parquet</c> or <c>.jsonl.gz</c>.</summary>
    string FileExtension { get; }

    /// <summary>Gets the media type stored with each object.</summary>
    string ContentType { get; }

    /// <summary>Starts an object that writes its bytes to <paramref name="output"/>.</summary>
    /// <param name="output">An append-only stream; the writer does not dispose it.</param>
    /// <returns>The writer of one object.</returns>
    IObjectWriter<T> CreateWriter(Stream output);
}

/// <summary>Writes the records of one object.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <remarks>Used from one task at a time. A record that cannot be converted is refused whole: the object stays as it was.</remarks>
public interface IObjectWriter<T> : IDisposable
{
    /// <summary>Gets the size of the object so far in bytes, including data the writer still buffers (an open row group), for rolling by size.</summary>
    long SizeEstimate { get; }

    /// <summary>Adds a record, or refuses it and says why.</summary>
    /// <param name="record">The record.</param>
    /// <param name="error">Why the record cannot be written (a value that does not fit its column); <see langword="null"/> on success.</param>
    /// <returns><see langword="true"/> when the record was added.</returns>
    bool TryWrite(T record, [NotNullWhen(false)] out string? error);

    /// <summary>Writes whatever the object still needs (buffered rows, a footer). No record may be written afterwards.</summary>
    void Complete();
}
