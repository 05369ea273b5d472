using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Analytics.Streaming.S3;

/// <summary>Settings of an <see cref="S3DeadLetterSink"/>; validated when the sink is created.</summary>
public sealed class S3DeadLetterSinkOptions
{
    /// <summary>Gets or sets where the objects go: an <see cref="S3ObjectStore"/>, or a <see cref="LocalFolderObjectStore"/> for development. Required.</summary>
    public IObjectStore? Store { get; set; }

    /// <summary>Gets or sets the key prefix in front of the error output type, such as <c>lake/errors/page-views/</c>; empty or ending with <c>/</c>. Default empty.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>Gets or sets the error output type folder, as Firehose names it in its error prefix. Default <c>processing-failed</c>.</summary>
    public string ErrorOutputType { get; set; } = "processing-failed";

    /// <summary>Gets or sets the beginning of every object name (Firehose puts the delivery stream name there). Default <c>dead-letters-</c>.</summary>
    public string FileNamePrefix { get; set; } = "dead-letters-";

    /// <summary>Gets or sets the size after which an object is stored and the next dead letter starts a new one (Firehose's buffer size). Default 5 MiB.</summary>
    public long MaxObjectBytes { get; set; } = 5L * 1024 * 1024;

    /// <summary>Gets or sets the age after which an object is stored (checked on every write; Firehose's buffer interval). Default 5 minutes.</summary>
    public TimeSpan MaxObjectAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how failed store requests are retried. Default: the <see cref="RetryOptions"/> defaults.</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Gets or sets where the sink logs its retries (event id 3001). Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the clock for arrival times and object names. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws when a setting is missing or out of range, with a message that says what to change.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public void Validate()
    {
        const string owner = nameof(S3DeadLetterSinkOptions);
        if (Store is null)
        {
            throw OptionErrors.Invalid($"{owner}.Store is required: an S3ObjectStore or a LocalFolderObjectStore.");
        }

        if (Prefix is null || (Prefix.Length > 0 && (!Prefix.EndsWith('/') || Prefix.StartsWith('/'))))
        {
            throw OptionErrors.Invalid($"{owner}.Prefix must be empty or a folder such as 'lake/errors/' (ending with '/', not starting with it); got '{Prefix}'.");
        }

        if (string.IsNullOrEmpty(ErrorOutputType) || ErrorOutputType.Contains('/', StringComparison.Ordinal))
        {
            throw OptionErrors.Invalid($"{owner}.ErrorOutputType must be one folder name such as 'processing-failed'; got '{ErrorOutputType}'.");
        }

        if (FileNamePrefix is null || FileNamePrefix.Contains('/', StringComparison.Ordinal))
        {
            throw OptionErrors.Invalid($"{owner}.FileNamePrefix must not contain '/'; got '{FileNamePrefix}'.");
        }

        if (MaxObjectBytes < 1024)
        {
            throw OptionErrors.Invalid($"{owner}.MaxObjectBytes must be at least 1 KiB; got {MaxObjectBytes}.");
        }

        if (MaxObjectAge <= TimeSpan.Zero)
        {
            throw OptionErrors.Invalid($"{owner}.MaxObjectAge must be positive; got {MaxObjectAge}.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate(owner + ".Retry");
    }
}

/// <summary>
/// A dead-letter sink that stores dead letters in S3 in the layout Firehose uses for its error output: objects under
/// <c>{Prefix}processing-failed/yyyy/MM/dd/HH/</c> (UTC hour of the first dead letter in the object), each a JSON
/// object per line with Firehose's documented fields and the record's source position.
/// </summary>
/// <remarks>
/// <para>
/// One line: <c>{"attemptsMade":1,"arrivalTimestamp":1769854500000,"errorCode":"DecodeFailed","errorMessage":"...",
/// "attemptEndingTimestamp":1769854500000,"rawData":"base64...","partitionId":"shardId-000000000001",
/// "sequenceNumber":"4959...","subSequenceNumber":0}</c>. <c>errorCode</c> is the <see cref="DeadLetterReason"/>,
/// <c>rawData</c> the record's payload in base64, the timestamps the time the sink received it in Unix milliseconds.
/// Tools that read Firehose's error output (Athena tables over the error prefix, replay scripts) read these objects
/// too. <see cref="Parse"/> reads an object back.
/// </para>
/// <para>
/// Objects are named <c>{FileNamePrefix}yyyy-MM-dd-HH-mm-ss-{uuid}</c> like Firehose's, never overwritten. An object is
/// stored when it reaches <see cref="S3DeadLetterSinkOptions.MaxObjectBytes"/> or
/// <see cref="S3DeadLetterSinkOptions.MaxObjectAge"/>, and on every <see cref="FlushAsync"/>, which returns when it is
/// stored: the pipeline checkpoints past dead letters only once they are in S3. A store request that still fails after
/// the retries throws, and the pipeline stops without checkpointing past the records the sink held; the sink is then
/// unusable. Dead letters are kept at least once: the replay after a crash stores those since the last checkpoint again,
/// in a new object (readers remove repeats by position, error code and payload: dead letters of window results share
/// one position, and their payload is the result's id).
/// </para>
/// </remarks>
public sealed class S3DeadLetterSink : ISink<DeadLetter>
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly S3DeadLetterSinkOptions _options;
    private readonly IObjectStore _store;
    private readonly Retrier _retrier;
    private readonly List<string> _stored = [];
    private PartBuffer? _buffer;
    private string? _key;
    private DateTimeOffset _openedAt;
    private Exception? _fault;
    private bool _disposed;

    /// <summary>Creates the sink; the options are validated here.</summary>
    /// <param name="options">The settings; not copied, so do not change them afterwards.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public S3DeadLetterSink(S3DeadLetterSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _store = options.Store!;
        var log = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Analytics.Streaming.S3.S3DeadLetterSink");
        _retrier = new Retrier(options.Retry, _store, options.TimeProvider, log, options.ErrorOutputType);
    }

    /// <summary>Gets the key prefix of the objects: <c>{Prefix}{ErrorOutputType}/</c>.</summary>
    public string ErrorPrefix => _options.Prefix + _options.ErrorOutputType + "/";

    /// <summary>Gets the number of dead letters received.</summary>
    public long Written { get; private set; }

    /// <summary>Gets the number of dead letters in the open object, not stored yet.</summary>
    public int Buffered { get; private set; }

    /// <summary>Gets the number of objects stored.</summary>
    public long ObjectsStored { get; private set; }

    /// <summary>Gets the keys of the objects stored, in order.</summary>
    public IReadOnlyList<string> StoredKeys => _stored;

    /// <summary>Reads the dead letters of one object this sink (or Firehose's error output, with its fields) wrote.</summary>
    /// <param name="content">The object's bytes.</param>
    /// <returns>The dead letters with the time they arrived; a line without a position reports partition <c>""</c>, sequence zero.</returns>
    /// <exception cref="InvalidDataException">A line is not an error record.</exception>
    public static IReadOnlyList<StoredDeadLetter> Parse(ReadOnlySpan<byte> content)
    {
        var letters = new List<StoredDeadLetter>();
        int number = 0;
        while (!content.IsEmpty)
        {
            int end = content.IndexOf((byte)'\n');
            var line = end < 0 ? content : content[..end];
            content = end < 0 ? default : content[(end + 1)..];
            number++;
            if (line.IsEmpty)
            {
                continue;
            }

            try
            {
                var reader = new Utf8JsonReader(line);
                using var document = JsonDocument.ParseValue(ref reader);
                var root = document.RootElement;
                var time = DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("arrivalTimestamp").GetInt64());
                string code = root.GetProperty("errorCode").GetString()!;
                var reason = Enum.TryParse<DeadLetterReason>(code, out var known) ? known : DeadLetterReason.Rejected;
                string message = root.TryGetProperty("errorMessage", out var m) ? m.GetString() ?? string.Empty : string.Empty;
                string partition = root.TryGetProperty("partitionId", out var p) ? p.GetString() ?? string.Empty : string.Empty;
                var sequence = root.TryGetProperty("sequenceNumber", out var s) && s.GetString() is { } text ? SequenceNumber.Parse(text) : SequenceNumber.Zero;
                long subSequence = root.TryGetProperty("subSequenceNumber", out var sub) ? sub.GetInt64() : 0;
                byte[] payload = root.TryGetProperty("rawData", out var raw) ? raw.GetBytesFromBase64() : [];
                letters.Add(new StoredDeadLetter(time, new DeadLetter(new StreamPosition(partition, sequence, subSequence), reason, message, payload)));
            }
            catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"Line {number} is not an error record: {ex.Message}", ex);
            }
        }

        return letters;
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<DeadLetter> items, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        try
        {
            for (int i = 0; i < items.Length; i++)
            {
                var now = _options.TimeProvider.GetUtcNow();
                if (_buffer is not null && now - _openedAt >= _options.MaxObjectAge)
                {
                    await StoreAsync(cancellationToken).ConfigureAwait(false);
                }

                if (_buffer is null)
                {
                    Open(now);
                }

                Append(items.Span[i], now);
                Written++;
                Buffered++;
                if (_buffer!.Length >= _options.MaxObjectBytes)
                {
                    await StoreAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Fail(ex);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        if (_buffer is null)
        {
            return;
        }

        try
        {
            await StoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Fail(ex);
            throw;
        }
    }

    /// <summary>Drops what is buffered (flush first; a replay writes it again).</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _buffer?.Dispose();
            _buffer = null;
        }

        return ValueTask.CompletedTask;
    }

    private void Open(DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        string key = string.Create(CultureInfo.InvariantCulture, $"{ErrorPrefix}{utc:yyyy'/'MM'/'dd'/'HH}/{_options.FileNamePrefix}{utc:yyyy'-'MM'-'dd'-'HH'-'mm'-'ss}-{Guid.NewGuid():D}");
        if (!_store.IsValidKey(key, out string? reason))
        {
            throw new InvalidOperationException($"The dead-letter object key '{key}' cannot be stored: {reason}. Shorten S3DeadLetterSinkOptions.Prefix or FileNamePrefix.");
        }

        _key = key;
        _buffer = new PartBuffer();
        _openedAt = now;
    }

    private void Append(in DeadLetter letter, DateTimeOffset now)
    {
        long ms = now.ToUnixTimeMilliseconds();
        using (var json = new Utf8JsonWriter((Stream)_buffer!, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("attemptsMade"u8, 1);
            json.WriteNumber("arrivalTimestamp"u8, ms);
            json.WriteString("errorCode"u8, letter.Reason.ToString());
            json.WriteString("errorMessage"u8, IntentLog.ValidUtf16(letter.Message));
            json.WriteNumber("attemptEndingTimestamp"u8, ms);
            json.WriteBase64String("rawData"u8, letter.Payload.Span);
            json.WriteString("partitionId"u8, IntentLog.ValidUtf16(letter.Position.PartitionId));
            json.WriteString("sequenceNumber"u8, letter.Position.Sequence.ToString());
            json.WriteNumber("subSequenceNumber"u8, letter.Position.SubSequence);
            json.WriteEndObject();
        }

        _buffer!.WriteByte((byte)'\n');
    }

    private async ValueTask StoreAsync(CancellationToken cancellationToken)
    {
        var buffer = _buffer!;
        string key = _key!;
        using (var content = buffer.OpenFront(buffer.Length))
        {
            await _retrier.RunAsync(
                static (state, ct) => state.Store.PutObjectAsync(state.Key, state.Content, "application/x-ndjson", ct),
                (Store: _store, Key: key, Content: content),
                content,
                cancellationToken).ConfigureAwait(false);
        }

        buffer.Dispose();
        _buffer = null;
        _key = null;
        Buffered = 0;
        ObjectsStored++;
        _stored.Add(key);
    }

    private void Fail(Exception ex)
    {
        _fault ??= ex;
        _buffer?.Dispose();
        _buffer = null;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
        {
            throw new InvalidOperationException(
                $"The S3 dead-letter sink failed earlier and dropped what it held; create a new sink and replay from the last checkpoint. First failure: {_fault.GetType().Name}: {_fault.Message}",
                _fault);
        }
    }
}
