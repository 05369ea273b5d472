using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Analytics.Streaming.OpenSearch;

/// <summary>The OpenSearch field type a document field is mapped to (see <see cref="OpenSearchIndexTemplate"/>).</summary>
public enum OpenSearchFieldType
{
    /// <summary>An exact string: <c>keyword</c> (keys, names, reasons; aggregatable).</summary>
    Keyword,

    /// <summary>Full text: <c>text</c>.</summary>
    Text,

    /// <summary>A 64-bit integer: <c>long</c>.</summary>
    Long,

    /// <summary>A 64-bit floating-point number: <c>double</c>.</summary>
    Double,

    /// <summary>A boolean: <c>boolean</c>.</summary>
    Boolean,

    /// <summary>An instant, written as ISO 8601 in UTC with milliseconds: <c>date</c>.</summary>
    Date,

    /// <summary>A JSON value written as given (an event's own JSON): <c>object</c>, mapped dynamically.</summary>
    Object,
}

/// <summary>One field of a document map: its name and OpenSearch type.</summary>
/// <param name="Name">The field name.</param>
/// <param name="Type">The field type.</param>
public sealed record OpenSearchField(string Name, OpenSearchFieldType Type);

/// <summary>Thrown while a document is written when a value cannot be carried by JSON or the map (NaN, invalid raw JSON, an accessor that throws); the document goes to the dead letters.</summary>
public sealed class OpenSearchValueException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OpenSearchValueException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public OpenSearchValueException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public OpenSearchValueException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Entry points to describe how an item becomes an OpenSearch document.</summary>
public static class OpenSearchDocumentMap
{
    /// <summary>Starts a map with the fields you add, in the order you add them.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <returns>A builder.</returns>
    /// <example>
    /// <code>
    /// var map = OpenSearchDocumentMap.For&lt;Click&gt;()
    ///     .Date("@timestamp", c =&gt; c.Time)
    ///     .Keyword("page", c =&gt; c.Page)
    ///     .Long("duration_ms", c =&gt; c.DurationMs)
    ///     .Build();
    /// </code>
    /// </example>
    public static OpenSearchDocumentMapBuilder<T> For<T>() => new();

    /// <summary>
    /// Starts a map of window results with the identity fields every result document carries: <c>pipeline</c>,
    /// <c>key</c> and <c>partition</c> (keywords; <c>partition</c> only for per-partition results), <c>window_start</c>
    /// and <c>window_end</c> (dates), <c>reason</c> (keyword) and <c>record_count</c> (long). Add the value fields
    /// (<c>.Long("views", r =&gt; r.Value.Views)</c>) and call <see cref="OpenSearchDocumentMapBuilder{T}.Build"/>.
    /// </summary>
    /// <typeparam name="TKey">The key type; written as its invariant-culture text.</typeparam>
    /// <typeparam name="TValue">The aggregate type.</typeparam>
    /// <returns>A builder holding the identity fields.</returns>
    public static OpenSearchDocumentMapBuilder<WindowResult<TKey, TValue>> ForResults<TKey, TValue>()
        => new OpenSearchDocumentMapBuilder<WindowResult<TKey, TValue>>()
            .Keyword("pipeline", static r => r.Pipeline)
            .Keyword("key", static r => r.Key switch
            {
                null => null,
                string text => text,
                _ => string.Create(CultureInfo.InvariantCulture, $"{r.Key}"),
            })
            .Keyword("partition", static r => r.Partition)
            .Date("window_start", static r => r.Window.Start)
            .Date("window_end", static r => r.Window.End)
            .Keyword("reason", static r => ReasonText(r.Reason))
            .Long("record_count", static r => r.RecordCount);

    /// <summary>
    /// Maps every public readable instance property of <typeparamref name="T"/>, in declaration order, to a field named
    /// in lower_snake_case (<c>UserId</c> becomes <c>user_id</c>), with compiled getters: reflection runs once, here,
    /// never per document.
    /// </summary>
    /// <typeparam name="T">A class or record class whose properties are string, Guid, bool, integers, float, double, decimal, DateTime or DateTimeOffset (or their nullable forms).</typeparam>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentException">A property has a type without an automatic mapping; use <see cref="For{T}"/>.</exception>
    public static OpenSearchDocumentMap<T> FromProperties<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>()
        where T : class
    {
        var builder = For<T>();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var getter = property.GetMethod;
            if (getter is null || !getter.IsPublic || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            string name = SnakeCase(property.Name);
            var type = property.PropertyType;
            _ = type switch
            {
                _ when type == typeof(string) => builder.Keyword(name, getter.CreateDelegate<Func<T, string?>>()),
                _ when type == typeof(Guid) => builder.Keyword(name, Compose(getter.CreateDelegate<Func<T, Guid>>(), static g => g.ToString("D"))),
                _ when type == typeof(bool) => builder.Boolean(name, getter.CreateDelegate<Func<T, bool>>()),
                _ when type == typeof(bool?) => builder.Boolean(name, getter.CreateDelegate<Func<T, bool?>>()),
                _ when type == typeof(int) => builder.Long(name, Compose(getter.CreateDelegate<Func<T, int>>(), static v => (long)v)),
                _ when type == typeof(int?) => builder.Long(name, Compose(getter.CreateDelegate<Func<T, int?>>(), static v => (long?)v)),
                _ when type == typeof(long) => builder.Long(name, getter.CreateDelegate<Func<T, long>>()),
                _ when type == typeof(long?) => builder.Long(name, getter.CreateDelegate<Func<T, long?>>()),
                _ when type == typeof(float) => builder.Double(name, Compose(getter.CreateDelegate<Func<T, float>>(), static v => (double)v)),
                _ when type == typeof(double) => builder.Double(name, getter.CreateDelegate<Func<T, double>>()),
                _ when type == typeof(double?) => builder.Double(name, getter.CreateDelegate<Func<T, double?>>()),
                _ when type == typeof(decimal) => builder.Double(name, Compose(getter.CreateDelegate<Func<T, decimal>>(), static v => (double)v)),
                _ when type == typeof(DateTimeOffset) => builder.Date(name, getter.CreateDelegate<Func<T, DateTimeOffset>>()),
                _ when type == typeof(DateTimeOffset?) => builder.Date(name, getter.CreateDelegate<Func<T, DateTimeOffset?>>()),
                _ when type == typeof(DateTime) => builder.Date(name, Compose(getter.CreateDelegate<Func<T, DateTime>>(), static v => (DateTimeOffset?)ToInstant(v))),
                _ => throw new ArgumentException($"Property {typeof(T).Name}.{property.Name} of type {type} has no automatic OpenSearch mapping; map {typeof(T).Name} with OpenSearchDocumentMap.For<{typeof(T).Name}>() instead.", nameof(T)),
            };
        }

        return builder.Build();
    }

    /// <summary>Converts a PascalCase or camelCase name to lower_snake_case (<c>HTTPStatusCode</c> becomes <c>http_status_code</c>).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The snake_case name.</returns>
    public static string SnakeCase(string name) => NameCase.SnakeCase(name);

    internal static string ReasonText(EmitReason reason) => reason switch
    {
        EmitReason.Closed => "closed",
        EmitReason.LateUpdate => "late_update",
        EmitReason.Update => "update",
        _ => reason.ToString(),
    };

    internal static DateTimeOffset ToInstant(DateTime value) => value.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero),
    };

    private static Func<T, TOut> Compose<T, TIn, TOut>(Func<T, TIn> first, Func<TIn, TOut> then) => item => then(first(item));
}

/// <summary>
/// How an item becomes an OpenSearch document: the fields, each with a compiled accessor and a pre-encoded name.
/// Immutable and safe to share between sinks and threads; nothing is reflected per document.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class OpenSearchDocumentMap<T>
{
    private readonly DocumentField<T>[] _fields;

    internal OpenSearchDocumentMap(DocumentField<T>[] fields)
    {
        _fields = fields;
        Fields = [.. fields.Select(static f => new OpenSearchField(f.Name, f.Type))];
    }

    /// <summary>Gets the fields, in document order.</summary>
    public IReadOnlyList<OpenSearchField> Fields { get; }

    /// <summary>Writes one document (a JSON object) for <paramref name="item"/>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="item">The item.</param>
    /// <exception cref="OpenSearchValueException">A value cannot be written; nothing valid was completed.</exception>
    public void Write(Utf8JsonWriter writer, T item)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        foreach (var field in _fields)
        {
            try
            {
                field.Write(writer, item);
            }
            catch (Exception ex) when (ex is not OpenSearchValueException and not OperationCanceledException)
            {
                throw new OpenSearchValueException($"Field '{field.Name}' could not be written: {ex.GetType().Name}: {ex.Message}", ex);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes one document as a UTF-8 JSON byte array (tests, one-off writes).</summary>
    /// <param name="item">The item.</param>
    /// <returns>The document bytes.</returns>
    public byte[] ToJson(T item)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, DocumentField<T>.WriterOptions))
        {
            Write(writer, item);
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Builds an <see cref="OpenSearchDocumentMap{T}"/>: one call per field, in document order. Not thread-safe; build once and share the result.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>A <see langword="null"/> value leaves the field out of the document, which OpenSearch treats as missing.</remarks>
public sealed class OpenSearchDocumentMapBuilder<T>
{
    private readonly List<DocumentField<T>> _fields = [];

    internal OpenSearchDocumentMapBuilder()
    {
    }

    /// <summary>Adds a <c>keyword</c> field.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value (or null).</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Keyword(string name, Func<T, string?> accessor) => Add(new StringField<T>(name, OpenSearchFieldType.Keyword, accessor));

    /// <summary>Adds a <c>text</c> field.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value (or null).</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Text(string name, Func<T, string?> accessor) => Add(new StringField<T>(name, OpenSearchFieldType.Text, accessor));

    /// <summary>Adds a <c>long</c> field.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Long(string name, Func<T, long> accessor) => Add(new LongField<T>(name, accessor));

    /// <summary>Adds a <c>long</c> field that may be missing.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value (or null).</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Long(string name, Func<T, long?> accessor) => Add(new NullableLongField<T>(name, accessor));

    /// <summary>Adds a <c>double</c> field. NaN and infinities cannot be written in JSON: such a document goes to the dead letters.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Double(string name, Func<T, double> accessor) => Add(new DoubleField<T>(name, item => accessor(item)));

    /// <summary>Adds a <c>double</c> field that may be missing.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value (or null).</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Double(string name, Func<T, double?> accessor) => Add(new DoubleField<T>(name, accessor));

    /// <summary>Adds a <c>boolean</c> field.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Boolean(string name, Func<T, bool> accessor) => Add(new BooleanField<T>(name, item => accessor(item)));

    /// <summary>Adds a <c>boolean</c> field that may be missing.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the value (or null).</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Boolean(string name, Func<T, bool?> accessor) => Add(new BooleanField<T>(name, accessor));

    /// <summary>Adds a <c>date</c> field, written as ISO 8601 in UTC with milliseconds (<c>2026-01-01T10:15:00.000Z</c>).</summary>
    /// <param name="name">The field name (<c>@timestamp</c> for data streams).</param>
    /// <param name="accessor">Reads the instant.</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Date(string name, Func<T, DateTimeOffset> accessor) => Add(new DateField<T>(name, item => accessor(item)));

    /// <summary>Adds a <c>date</c> field that may be missing.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the instant (or null).</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Date(string name, Func<T, DateTimeOffset?> accessor) => Add(new DateField<T>(name, accessor));

    /// <summary>
    /// Adds a field whose value is JSON given as UTF-8 bytes (an event's own payload, for a "recent events" index),
    /// copied as is after a validity check; invalid JSON sends the document to the dead letters. Empty bytes leave
    /// the field out.
    /// </summary>
    /// <param name="name">The field name.</param>
    /// <param name="accessor">Reads the JSON bytes.</param>
    /// <returns>This builder.</returns>
    public OpenSearchDocumentMapBuilder<T> Json(string name, Func<T, ReadOnlyMemory<byte>> accessor) => Add(new RawJsonField<T>(name, accessor));

    /// <summary>Builds the map.</summary>
    /// <returns>The map; immutable.</returns>
    /// <exception cref="ArgumentException">No field was added.</exception>
    public OpenSearchDocumentMap<T> Build()
    {
        if (_fields.Count == 0)
        {
            throw new ArgumentException("A document map needs at least one field.");
        }

        return new OpenSearchDocumentMap<T>([.. _fields]);
    }

    private OpenSearchDocumentMapBuilder<T> Add(DocumentField<T> field)
    {
        if (_fields.Exists(f => f.Name == field.Name))
        {
            throw new ArgumentException($"The document map already has a field named '{field.Name}'.", nameof(field));
        }

        _fields.Add(field);
        return this;
    }
}

/// <summary>One field: its pre-encoded name and a compiled accessor.</summary>
internal abstract class DocumentField<T>
{
    internal static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    protected DocumentField(string name, OpenSearchFieldType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.StartsWith('_') || name.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' cannot be a document field: names starting with '_' are OpenSearch metadata fields.", nameof(name));
        }

        Name = name;
        Type = type;
        EncodedName = JsonEncodedText.Encode(name, WriterOptions.Encoder);
    }

    public string Name { get; }

    public OpenSearchFieldType Type { get; }

    protected JsonEncodedText EncodedName { get; }

    public abstract void Write(Utf8JsonWriter writer, T item);
}

internal sealed class StringField<T>(string name, OpenSearchFieldType type, Func<T, string?> accessor) : DocumentField<T>(name, type)
{
    private readonly Func<T, string?> _accessor = accessor ?? throw new ArgumentNullException(nameof(accessor));

    public override void Write(Utf8JsonWriter writer, T item)
    {
        if (_accessor(item) is { } value)
        {
            writer.WriteString(EncodedName, value);
        }
    }
}

internal sealed class LongField<T>(string name, Func<T, long> accessor) : DocumentField<T>(name, OpenSearchFieldType.Long)
{
    private readonly Func<T, long> _accessor = accessor ?? throw new ArgumentNullException(nameof(accessor));

    public override void Write(Utf8JsonWriter writer, T item) => writer.WriteNumber(EncodedName, _accessor(item));
}

internal sealed class NullableLongField<T>(string name, Func<T, long?> accessor) : DocumentField<T>(name, OpenSearchFieldType.Long)
{
    private readonly Func<T, long?> _accessor = accessor ?? throw new ArgumentNullException(nameof(accessor));

    public override void Write(Utf8JsonWriter writer, T item)
    {
        if (_accessor(item) is { } value)
        {
            writer.WriteNumber(EncodedName, value);
        }
    }
}

internal sealed class DoubleField<T>(string name, Func<T, double?> accessor) : DocumentField<T>(name, OpenSearchFieldType.Double)
{
    private readonly Func<T, double?> _accessor = accessor ?? throw new ArgumentNullException(nameof(accessor));

    public override void Write(Utf8JsonWriter writer, T item)
    {
        if (_accessor(item) is not { } value)
        {
            return;
        }

        if (!double.IsFinite(value))
        {
            throw new OpenSearchValueException($"Field '{Name}' is {value.ToString(CultureInfo.InvariantCulture)}, which JSON cannot carry.");
        }

        writer.WriteNumber(EncodedName, value);
    }
}

internal sealed class BooleanField<T>(string name, Func<T, bool?> accessor) : DocumentField<T>(name, OpenSearchFieldType.Boolean)
{
    private readonly Func<T, bool?> _accessor = accessor ?? throw new ArgumentNullException(nameof(accessor));

    public override void Write(Utf8JsonWriter writer, T item)
    {
        if (_accessor(item) is { } value)
        {
            writer.WriteBoolean(EncodedName, value);
        }
    }
}

internal sealed class DateField<T>(string name, Func<T, DateTimeOffset?> accessor) : DocumentField<T>(name, OpenSearchFieldType.Date)
{
    private readonly Func<T, DateTimeOffset?> _accessor = accessor ?? throw new ArgumentNullException(nameof(accessor));

    public override void Write(Utf8JsonWriter writer, T item)
    {
        if (_accessor(item) is not { } value)
        {
            return;
        }

        Span<byte> text = stackalloc byte[24];
        writer.WriteString(EncodedName, Format(value.UtcDateTime, text));
    }

    /// <summary>Writes <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> by hand: a custom format string is parsed on every call, which costs more than the rest of a document.</summary>
    internal static ReadOnlySpan<byte> Format(DateTime utc, Span<byte> text)
    {
        var (year, month, day) = utc;
        int hour = utc.Hour, minute = utc.Minute, second = utc.Second, millisecond = utc.Millisecond;
        Digits(text, 0, year, 4);
        text[4] = (byte)'-';
        Digits(text, 5, month, 2);
        text[7] = (byte)'-';
        Digits(text, 8, day, 2);
        text[10] = (byte)'T';
        Digits(text, 11, hour, 2);
        text[13] = (byte)':';
        Digits(text, 14, minute, 2);
        text[16] = (byte)':';
        Digits(text, 17, second, 2);
        text[19] = (byte)'.';
        Digits(text, 20, millisecond, 3);
        text[23] = (byte)'Z';
        return text[..24];
    }

    private static void Digits(Span<byte> text, int start, int value, int count)
    {
        for (int i = start + count - 1; i >= start; i--)
        {
            text[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}

internal sealed class RawJsonField<T>(string name, Func<T, ReadOnlyMemory<byte>> accessor) : DocumentField<T>(name, OpenSearchFieldType.Object)
{
    private readonly Func<T, ReadOnlyMemory<byte>> _accessor = accessor ?? throw new ArgumentNullException(nameof(accessor));

    public override void Write(Utf8JsonWriter writer, T item)
    {
        var json = _accessor(item);
        if (json.IsEmpty)
        {
            return;
        }

        writer.WritePropertyName(EncodedName);
        try
        {
            if (json.Span.IndexOfAny((byte)'\n', (byte)'\r') < 0)
            {
                writer.WriteRawValue(json.Span, skipInputValidation: false);
            }
            else
            {
                // NDJSON allows no line breaks inside a line: rewrite the value compactly.
                using var document = JsonDocument.Parse(json);
                document.RootElement.WriteTo(writer);
            }
        }
        catch (JsonException ex)
        {
            throw new OpenSearchValueException($"Field '{Name}' is not valid JSON: {ex.Message}", ex);
        }
    }
}
