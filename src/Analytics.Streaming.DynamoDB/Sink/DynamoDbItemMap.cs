using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Analytics.Streaming.DynamoDB;

/// <summary>How times are stored in DynamoDB attributes.</summary>
public enum DynamoDbTimeFormat
{
    /// <summary>An ISO-8601 UTC string with milliseconds (<c>2024-05-01T10:15:00.000Z</c>), type <c>S</c>: sorts as time, reads well.</summary>
    Iso8601,

    /// <summary>Milliseconds since 1970-01-01 UTC, type <c>N</c>.</summary>
    EpochMilliseconds,

    /// <summary>Seconds since 1970-01-01 UTC, type <c>N</c> (the form DynamoDB's TTL reads).</summary>
    EpochSeconds,
}

/// <summary>Entry points to describe how an item type maps to DynamoDB attributes.</summary>
public static class DynamoDbItemMap
{
    /// <summary>Starts an empty map: add the keys, the version and the attributes you want.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <returns>A builder.</returns>
    public static DynamoDbItemMapBuilder<T> For<T>() => new();

    /// <summary>
    /// Starts a map of window results with the default key schema and identity attributes, ready for value
    /// attributes: partition key <c>pk</c> = <c>{pipeline}#{key}</c>, sort key <c>sk</c> =
    /// <c>{window start}/{window end}</c> (ISO-8601 UTC with milliseconds), followed by <c>#{partition}</c> for a
    /// partition's partial result; version <c>recordCount</c> (<see cref="WindowResult{TKey, TValue}.RecordCount"/>);
    /// and the attributes <c>pipeline</c>, <c>key</c>, <c>windowStart</c>, <c>windowEnd</c> (ISO-8601), <c>reason</c>
    /// and, for partial results, <c>partition</c>. Session windows that were extended or merged delete the items of
    /// the extents they replace.
    /// </summary>
    /// <typeparam name="TKey">The result key type; formatted with the invariant culture.</typeparam>
    /// <typeparam name="TValue">The aggregate type.</typeparam>
    /// <returns>A builder; add the value attributes (<c>.Number("views", r =&gt; r.Value.Views)</c>) and call <c>Build</c>.</returns>
    /// <remarks>
    /// The layout suits dashboards: the latest windows of a key are one <c>Query</c> on <c>pk</c> in descending order,
    /// a time range is <c>sk BETWEEN :from AND :to</c> with ISO-8601 bounds, and every window of a key and time sits
    /// in one item (or, for partial results, in consecutive items that a reader merges).
    /// </remarks>
    public static DynamoDbItemMapBuilder<WindowResult<TKey, TValue>> ForWindowResults<TKey, TValue>()
        => new DynamoDbItemMapBuilder<WindowResult<TKey, TValue>>()
            .PartitionKey("pk", static r => ResultPartitionKey(r.Pipeline, r.Key))
            .SortKey("sk", static r => ResultSortKey(r.Window, r.Partition))
            .Version(static r => r.RecordCount, "recordCount")
            .String("pipeline", static r => r.Pipeline)
            .String("key", static r => Format(r.Key))
            .Timestamp("windowStart", static r => r.Window.Start)
            .Timestamp("windowEnd", static r => r.Window.End)
            .String("reason", static r => ReasonName(r.Reason))
            .String("partition", static r => r.Partition)
            .Replaces(static r => r.Replaces is { Count: > 0 } replaced ? Replaced(r, replaced) : null);

    /// <summary>Formats the default partition key of a window result: <c>{pipeline}#{key}</c>.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="pipeline">The pipeline name.</param>
    /// <param name="key">The result key.</param>
    /// <returns>The partition key value.</returns>
    public static string ResultPartitionKey<TKey>(string pipeline, TKey key) => string.Concat(pipeline, "#", Format(key));

    /// <summary>Formats the default sort key of a window result: <c>{start}/{end}</c>, plus <c>#{partition}</c> for a partial result.</summary>
    /// <param name="window">The window.</param>
    /// <param name="partition">The source partition of a partial result, or <see langword="null"/>.</param>
    /// <returns>The sort key value, such as <c>2024-05-01T10:15:00.000Z/2024-05-01T10:16:00.000Z</c>.</returns>
    public static string ResultSortKey(TimeWindow window, string? partition = null)
    {
        string range = string.Concat(Iso(window.Start), "/", Iso(window.End));
        return partition is null ? range : string.Concat(range, "#", partition);
    }

    internal static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Format<TKey>(TKey key) => key switch
    {
        null => string.Empty,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => key.ToString() ?? string.Empty,
    };

    private static string ReasonName(EmitReason reason) => reason switch
    {
        EmitReason.Closed => "Closed",
        EmitReason.LateUpdate => "LateUpdate",
        EmitReason.Update => "Update",
        _ => reason.ToString(),
    };

    private static WindowResult<TKey, TValue>[] Replaced<TKey, TValue>(WindowResult<TKey, TValue> result, IReadOnlyList<TimeWindow> windows)
    {
        var replaced = new WindowResult<TKey, TValue>[windows.Count];
        for (int i = 0; i < replaced.Length; i++)
        {
            replaced[i] = result with { Window = windows[i], Replaces = null };
        }

        return replaced;
    }
}

/// <summary>
/// How an item type maps to a DynamoDB item: the key attributes, an optional version and TTL, and one compiled
/// accessor per attribute. Immutable and safe to share; no reflection happens per item.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class DynamoDbItemMap<T>
{
    internal DynamoDbItemMap(
        KeyAttribute<T> partitionKey,
        KeyAttribute<T>? sortKey,
        AttributeAccessor<T>[] attributes,
        string? versionName,
        Func<T, long>? version,
        Func<T, IReadOnlyList<T>?>? replaces,
        bool writeNulls)
    {
        PartitionKey = partitionKey;
        SortKey = sortKey;
        Attributes = attributes;
        VersionAttributeName = versionName;
        Version = version;
        ReplacedBy = replaces;
        WriteNulls = writeNulls;
    }

    /// <summary>Gets the name of the partition (hash) key attribute.</summary>
    public string PartitionKeyName => PartitionKey.Name;

    /// <summary>Gets the name of the sort (range) key attribute, or <see langword="null"/> for a table with a partition key only.</summary>
    public string? SortKeyName => SortKey?.Name;

    /// <summary>Gets the name of the version attribute, or <see langword="null"/> when the map has no version.</summary>
    public string? VersionAttributeName { get; }

    /// <summary>Gets the names of every attribute the map writes, keys and version first.</summary>
    public IReadOnlyList<string> AttributeNames
    {
        get
        {
            var names = new List<string>(Attributes.Length + 3) { PartitionKey.Name };
            if (SortKey is not null)
            {
                names.Add(SortKey.Name);
            }

            if (VersionAttributeName is not null)
            {
                names.Add(VersionAttributeName);
            }

            foreach (var attribute in Attributes)
            {
                names.Add(attribute.Name);
            }

            return names;
        }
    }

    internal KeyAttribute<T> PartitionKey { get; }

    internal KeyAttribute<T>? SortKey { get; }

    internal AttributeAccessor<T>[] Attributes { get; }

    internal Func<T, long>? Version { get; }

    internal Func<T, IReadOnlyList<T>?>? ReplacedBy { get; }

    internal bool WriteNulls { get; }

    /// <summary>
    /// Describes a table with this map's key schema, billed on demand, for <c>CreateTableAsync</c> (or as the shape
    /// to give an infrastructure template).
    /// </summary>
    /// <param name="tableName">The table name.</param>
    /// <returns>The request.</returns>
    public CreateTableRequest ToCreateTableRequest(string tableName)
    {
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        var request = new CreateTableRequest
        {
            TableName = tableName,
            KeySchema = [new KeySchemaElement(PartitionKey.Name, KeyType.HASH)],
            AttributeDefinitions = [new AttributeDefinition(PartitionKey.Name, PartitionKey.Type)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        };
        if (SortKey is not null)
        {
            request.KeySchema.Add(new KeySchemaElement(SortKey.Name, KeyType.RANGE));
            request.AttributeDefinitions.Add(new AttributeDefinition(SortKey.Name, SortKey.Type));
        }

        return request;
    }

    /// <summary>Builds the key of an item; <see langword="false"/> with the reason when a key is missing, empty or too long.</summary>
    internal bool TryBuildKey(T item, out Dictionary<string, AttributeValue> key, out string? error)
    {
        key = new Dictionary<string, AttributeValue>(SortKey is null ? 1 : 2, StringComparer.Ordinal);
        return PartitionKey.TryAdd(item, key, out error) && (SortKey is null || SortKey.TryAdd(item, key, out error));
    }

    /// <summary>Builds the whole item and measures it as DynamoDB does; <see langword="false"/> with the reason when an accessor fails or a value is invalid.</summary>
    internal bool TryBuildItem(T item, out Dictionary<string, AttributeValue> attributes, out int size, out DeadLetterReason reason, out string? error)
    {
        size = 0;
        reason = DeadLetterReason.InvalidValue;
        attributes = new Dictionary<string, AttributeValue>(Attributes.Length + 3, StringComparer.Ordinal);
        try
        {
            if (!TryBuildKey(item, out var key, out error))
            {
                reason = DeadLetterReason.InvalidRecord;
                return false;
            }

            foreach (var pair in key)
            {
                attributes[pair.Key] = pair.Value;
            }

            if (Version is not null)
            {
                attributes[VersionAttributeName!] = new AttributeValue { N = Version(item).ToString(CultureInfo.InvariantCulture) };
            }

            foreach (var attribute in Attributes)
            {
                if (!attribute.TryGet(item, out var value, out error))
                {
                    error = $"attribute '{attribute.Name}': {error}";
                    return false;
                }

                if (value is not null)
                {
                    attributes[attribute.Name] = value;
                }
                else if (WriteNulls)
                {
                    attributes[attribute.Name] = new AttributeValue { NULL = true };
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            error = $"an accessor threw {ex.GetType().Name}: {ex.Message}";
            return false;
        }

        size = ItemSize.Of(attributes);
        return true;
    }
}

/// <summary>A key attribute: a name, a scalar type and an accessor.</summary>
internal sealed class KeyAttribute<T>(string name, ScalarAttributeType type, int maxBytes, Func<T, AttributeValue?> accessor)
{
    public string Name { get; } = name;

    public ScalarAttributeType Type { get; } = type;

    public bool TryAdd(T item, Dictionary<string, AttributeValue> key, out string? error)
    {
        var value = accessor(item);
        if (value is null || (value.S is { Length: 0 }))
        {
            error = $"key attribute '{Name}' is null or empty; DynamoDB needs a value in every key attribute.";
            return false;
        }

        if (value.S is { } text && System.Text.Encoding.UTF8.GetByteCount(text) > maxBytes)
        {
            error = $"key attribute '{Name}' is {System.Text.Encoding.UTF8.GetByteCount(text)} UTF-8 bytes; DynamoDB allows at most {maxBytes}.";
            return false;
        }

        key[Name] = value;
        error = null;
        return true;
    }
}

/// <summary>A non-key attribute: a name and an accessor that returns the value (or null to leave the attribute out).</summary>
internal sealed class AttributeAccessor<T>(string name, AttributeAccessor<T>.Getter getter)
{
    public delegate bool Getter(T item, out AttributeValue? value, out string? error);

    public string Name { get; } = name;

    public bool TryGet(T item, out AttributeValue? value, out string? error) => getter(item, out value, out error);
}
