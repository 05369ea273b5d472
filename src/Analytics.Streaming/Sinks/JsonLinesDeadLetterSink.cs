using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming;

/// <summary>Settings of a <see cref="JsonLinesDeadLetterSink"/>; validated when the sink is created.</summary>
public sealed class JsonLinesDeadLetterSinkOptions
{
    /// <summary>Gets or sets the folder the files are written to; created when missing. Required.</summary>
    public string? Directory { get; set; }

    /// <summary>Gets or sets the beginning of every file name. Default <c>dead-letters-</c>.</summary>
    public string FilePrefix { get; set; } = "dead-letters-";

    /// <summary>Gets or sets the size after which a file is closed and the next dead letter starts a new one. Default 64 MiB.</summary>
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Gets or sets the age after which a file is closed (checked when a dead letter arrives). Default 1 hour.</summary>
    public TimeSpan MaxFileAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets a value indicating whether <see cref="JsonLinesDeadLetterSink.FlushAsync"/> forces the bytes to the
    /// disk (fsync), so that dead letters survive a power loss and not only a killed process. Default <see langword="true"/>.
    /// </summary>
    public bool FlushToDisk { get; set; } = true;

    /// <summary>Gets or sets the clock for file names, ages and the <c>time</c> field. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws when a setting is missing or out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("JsonLinesDeadLetterSinkOptions.Directory is required.", nameof(Directory));
        }

        if (string.IsNullOrEmpty(FilePrefix) || FilePrefix.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new ArgumentException($"JsonLinesDeadLetterSinkOptions.FilePrefix must be a non-empty file name part; got '{FilePrefix}'.", nameof(FilePrefix));
        }

        if (MaxFileBytes < 1024)
        {
            throw new ArgumentException($"JsonLinesDeadLetterSinkOptions.MaxFileBytes must be at least 1 KiB; got {MaxFileBytes}.", nameof(MaxFileBytes));
        }

        if (MaxFileAge <= TimeSpan.Zero)
        {
            throw new ArgumentException($"JsonLinesDeadLetterSinkOptions.MaxFileAge must be positive; got {MaxFileAge}.", nameof(MaxFileAge));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}

/// <summary>A dead letter as read back from a file: the letter and when the sink wrote it.</summary>
/// <param name="Time">When the sink received it.</param>
/// <param name="DeadLetter">The dead letter, payload included.</param>
public sealed record StoredDeadLetter(DateTimeOffset Time, DeadLetter DeadLetter);

/// <summary>
/// A dead-letter sink that appends one JSON object per line to local files, rolling to a new file by size and by age:
/// <c>{"time":"2026-01-31T10:15:00.000Z","reason":"DecodeFailed","message":"...","partition":"shardId-000000000001",
/// "sequence":"4959...","subSequence":0,"payload":"base64..."}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Files are named <c>{FilePrefix}{yyyyMMdd'T'HHmmssfff'Z'}-{n}.jsonl</c> in UTC and never overwritten (an existing name
/// takes the next <c>n</c>). <see cref="FlushAsync"/> returns when every dead letter written before it is in the file
/// (and on the disk with <see cref="JsonLinesDeadLetterSinkOptions.FlushToDisk"/>), so the pipeline checkpoints past
/// them only once they are stored. When a write or flush fails (a full disk, a missing folder), the exception reaches
/// the pipeline, which stops without checkpointing past the records the sink held: nothing is dropped silently.
/// </para>
/// <para>
/// Dead letters are kept <b>at least once</b>: the replay after a crash writes the dead letters since the last checkpoint
/// again, into a new file. A reader removes repeats by position, reason and payload (dead letters of window results
/// share one position; their payload is the result's id); <see cref="ReadAll"/> returns them all.
/// A process killed during a write can leave a truncated last line, which <see cref="ReadFile"/> skips.
/// </para>
/// <para>Calls must not overlap (the pipeline never overlaps them). <see cref="DisposeAsync"/> flushes and closes the file.</para>
/// </remarks>
public sealed class JsonLinesDeadLetterSink : ISink<DeadLetter>
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly JsonLinesDeadLetterSinkOptions _options;
    private readonly string _directory;
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly Utf8JsonWriter _writer;
    private FileStream? _file;
    private DateTimeOffset _openedAt;
    private bool _disposed;

    /// <summary>Creates the sink and its folder; files are opened when the first dead letter arrives.</summary>
    /// <param name="options">The settings; validated here.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public JsonLinesDeadLetterSink(JsonLinesDeadLetterSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _directory = Path.GetFullPath(options.Directory!);
        System.IO.Directory.CreateDirectory(_directory);
        _writer = new Utf8JsonWriter(_line, WriterOptions);
    }

    /// <summary>Gets the path of the file being written, or <see langword="null"/> when none is open.</summary>
    public string? CurrentFile => _file?.Name;

    /// <summary>Gets the number of dead letters written.</summary>
    public long Written { get; private set; }

    /// <summary>Gets the number of files opened.</summary>
    public int FilesOpened { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<DeadLetter> items, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < items.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = _options.TimeProvider.GetUtcNow();
            if (_file is not null && (now - _openedAt >= _options.MaxFileAge || _file.Length >= _options.MaxFileBytes))
            {
                await CloseAsync(cancellationToken).ConfigureAwait(false);
            }

            _file ??= Open(now);
            Format(items.Span[i], now);
            await _file.WriteAsync(_line.WrittenMemory, cancellationToken).ConfigureAwait(false);
            Written++;
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_file is null)
        {
            return;
        }

        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_options.FlushToDisk)
        {
            _file.Flush(flushToDisk: true);
        }

        if (_file.Length >= _options.MaxFileBytes)
        {
            await CloseAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Flushes and closes the current file.</summary>
    /// <returns>A task that completes when the file is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (_file is not null)
            {
                await CloseAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads every dead letter of the sink's files in a folder, file by file in name order (the order they were written).</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="filePrefix">The files' prefix. Default <c>dead-letters-</c>.</param>
    /// <returns>The dead letters.</returns>
    /// <exception cref="InvalidDataException">A line other than a file's last is not a dead letter.</exception>
    public static IEnumerable<StoredDeadLetter> ReadAll(string directory, string filePrefix = "dead-letters-")
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var files = System.IO.Directory.GetFiles(directory, filePrefix + "*.jsonl");
        Array.Sort(files, StringComparer.Ordinal);
        foreach (string file in files)
        {
            foreach (var letter in ReadFile(file))
            {
                yield return letter;
            }
        }
    }

    /// <summary>Reads the dead letters of one file; a truncated last line (a process killed while writing it) is skipped.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The dead letters.</returns>
    /// <exception cref="InvalidDataException">A line other than the last is not a dead letter.</exception>
    public static IEnumerable<StoredDeadLetter> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string[] lines = File.ReadAllLines(path, Encoding.UTF8);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            StoredDeadLetter? letter;
            try
            {
                letter = Parse(lines[i]);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                if (i == lines.Length - 1)
                {
                    yield break;
                }

                throw new InvalidDataException($"{path}, line {i + 1}: not a dead letter: {ex.Message}", ex);
            }

            yield return letter;
        }
    }

    private static StoredDeadLetter Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var reason = Enum.Parse<DeadLetterReason>(root.GetProperty("reason").GetString()!);
        var position = new StreamPosition(
            root.GetProperty("partition").GetString()!,
            SequenceNumber.Parse(root.GetProperty("sequence").GetString()!),
            root.GetProperty("subSequence").GetInt64());
        byte[] payload = root.TryGetProperty("payload", out var data) ? data.GetBytesFromBase64() : [];
        var time = DateTimeOffset.Parse(root.GetProperty("time").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        return new StoredDeadLetter(time, new DeadLetter(position, reason, root.GetProperty("message").GetString()!, payload));
    }

    private void Format(in DeadLetter letter, DateTimeOffset now)
    {
        _line.Clear();
        _writer.Reset(_line);
        _writer.WriteStartObject();
        _writer.WriteString("time"u8, now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        _writer.WriteString("reason"u8, letter.Reason.ToString());
        _writer.WriteString("message"u8, ValidText(letter.Message));
        _writer.WriteString("partition"u8, ValidText(letter.Position.PartitionId));
        _writer.WriteString("sequence"u8, letter.Position.Sequence.ToString());
        _writer.WriteNumber("subSequence"u8, letter.Position.SubSequence);
        _writer.WriteBase64String("payload"u8, letter.Payload.Span);
        _writer.WriteEndObject();
        _writer.Flush();
        _line.Write("\n"u8);
    }

    /// <summary>Replaces lone surrogates (which JSON writers refuse) so that a message with broken text is still stored.</summary>
    private static string ValidText(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune == Rune.ReplacementChar)
            {
                return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
            }
        }

        return text;
    }

    private FileStream Open(DateTimeOffset now)
    {
        string stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        for (int n = 0; ; n++)
        {
            string path = Path.Combine(_directory, string.Create(CultureInfo.InvariantCulture, $"{_options.FilePrefix}{stamp}-{n:D4}.jsonl"));
            try
            {
                var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
                _openedAt = now;
                FilesOpened++;
                return file;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another file of the same millisecond (an earlier run, another sink): take the next number.
            }
        }
    }

    private async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        var file = _file!;
        _file = null;
        await using (file.ConfigureAwait(false))
        {
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (_options.FlushToDisk)
            {
                file.Flush(flushToDisk: true);
            }
        }
    }
}
