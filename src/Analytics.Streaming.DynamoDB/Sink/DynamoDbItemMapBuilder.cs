using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Analytics.Streaming.Sketches;

namespace Analytics.Streaming.DynamoDB;

/// <summary>
/// Builds a <see cref="DynamoDbItemMap{T}"/>: one call per attribute. Accessors are plain delegates
/// (<c>r =&gt; r.Value.Views</c>) called once per item; an accessor that throws, a NaN or a number out of DynamoDB's
/// range sends that item to the dead letters with the reason.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// Numbers are written as <c>N</c>, strings as <c>S</c>, byte arrays and sketches as <c>B</c>, booleans as
/// <c>BOOL</c>, sets as <c>SS</c>/<c>NS</c>/<c>BS</c> and maps of counts as <c>M</c>. An accessor returning
/// <see langword="null"/> (or an empty set, which DynamoDB refuses) leaves the attribute out, or writes <c>NULL</c>
/// after <see cref="WriteNulls"/>. Any other shape goes through <see cref="Attribute"/>. Not thread-safe; build once
/// and share the result.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "String, Number, Boolean and Binary are the DynamoDB attribute types users look for.")]
public sealed class DynamoDbItemMapBuilder<T>
{
    /// <summary>The largest partition key DynamoDB accepts, in UTF-8 bytes.</summary>
    public const int MaxPartitionKeyBytes = 2048;

    /// <summary>The largest sort key DynamoDB accepts, in UTF-8 bytes.</summary>
    public const int MaxSortKeyBytes = 1024;

    private readonly List<AttributeAccessor<T>> _attributes = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private KeyAttribute<T>? _partitionKey;
    private KeyAttribute<T>? _sortKey;
    private string? _versionName;
    private Func<T, long>? _version;
    private Func<T, IReadOnlyList<T>?>? _replaces;
    private bool _writeNulls;

    internal DynamoDbItemMapBuilder()
    {
    }

    /// <summary>Sets the partition (hash) key: a string attribute (<c>S</c>). Required.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the key; null or empty sends the item to the dead letters.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> PartitionKey(string name, Func<T, string?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        _partitionKey = new KeyAttribute<T>(Claim(name, _partitionKey?.Name), ScalarAttributeType.S, MaxPartitionKeyBytes, item => accessor(item) is { } s ? new AttributeValue(s) : null);
        return this;
    }

    /// <summary>Sets the partition (hash) key: a number attribute (<c>N</c>).</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the key.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> PartitionKey(string name, Func<T, long> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        _partitionKey = new KeyAttribute<T>(Claim(name, _partitionKey?.Name), ScalarAttributeType.N, MaxPartitionKeyBytes, item => Number(accessor(item)));
        return this;
    }

    /// <summary>Sets the sort (range) key: a string attribute (<c>S</c>). Leave it out for a table with a partition key only.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the key; null or empty sends the item to the dead letters.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> SortKey(string name, Func<T, string?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        _sortKey = new KeyAttribute<T>(Claim(name, _sortKey?.Name), ScalarAttributeType.S, MaxSortKeyBytes, item => accessor(item) is { } s ? new AttributeValue(s) : null);
        return this;
    }

    /// <summary>Sets the sort (range) key: a number attribute (<c>N</c>), such as a window start in epoch milliseconds.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the key.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> SortKey(string name, Func<T, long> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        _sortKey = new KeyAttribute<T>(Claim(name, _sortKey?.Name), ScalarAttributeType.N, MaxSortKeyBytes, item => Number(accessor(item)));
        return this;
    }

    /// <summary>
    /// Sets the version: a number that grows with every newer value of the same item (for window results, the record
    /// count). In <see cref="DynamoDbWriteMode.Versioned"/> mode a write succeeds only when the stored item has no
    /// version or a version not greater than the new one, so an older value never replaces a newer one.
    /// </summary>
    /// <param name="accessor">Reads the version.</param>
    /// <param name="name">The attribute name; <c>version</c> by default.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Version(Func<T, long> accessor, string name = "version")
    {
        ArgumentNullException.ThrowIfNull(accessor);
        _versionName = Claim(name, _versionName);
        _version = accessor;
        return this;
    }

    /// <summary>
    /// Sets the items whose keys this item replaces (for session windows: the extents a session had before it was
    /// extended or merged); the sink deletes them, under the same version rule as writes.
    /// </summary>
    /// <param name="accessor">Returns items that carry the replaced keys, or <see langword="null"/> for none.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Replaces(Func<T, IReadOnlyList<T>?> accessor)
    {
        _replaces = accessor ?? throw new ArgumentNullException(nameof(accessor));
        return this;
    }

    /// <summary>Makes accessors that return <see langword="null"/> write a <c>NULL</c> attribute instead of leaving it out.</summary>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> WriteNulls()
    {
        _writeNulls = true;
        return this;
    }

    /// <summary>Adds a string attribute (<c>S</c>); an empty string is stored as such.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the value, or null to leave it out.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> String(string name, Func<T, string?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = accessor(item) is { } s ? new AttributeValue(s) : null;
            error = null;
            return true;
        });
    }

    /// <summary>Adds a number attribute (<c>N</c>).</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Number(string name, Func<T, long> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = Number(accessor(item));
            error = null;
            return true;
        });
    }

    /// <summary>Adds a number attribute (<c>N</c>), left out when null.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Number(string name, Func<T, long?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = accessor(item) is { } n ? Number(n) : null;
            error = null;
            return true;
        });
    }

    /// <summary>Adds a number attribute (<c>N</c>); NaN, infinities and magnitudes DynamoDB cannot hold send the item to the dead letters.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Number(string name, Func<T, double> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) => TryNumber(accessor(item), out value, out error));
    }

    /// <summary>Adds a number attribute (<c>N</c>), left out when null.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Number(string name, Func<T, double?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            if (accessor(item) is { } n)
            {
                return TryNumber(n, out value, out error);
            }

            value = null;
            error = null;
            return true;
        });
    }

    /// <summary>Adds a number attribute (<c>N</c>) from a decimal, written exactly.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Number(string name, Func<T, decimal> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = new AttributeValue { N = accessor(item).ToString(CultureInfo.InvariantCulture) };
            error = null;
            return true;
        });
    }

    /// <summary>Adds a boolean attribute (<c>BOOL</c>).</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the value.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Boolean(string name, Func<T, bool> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = new AttributeValue { BOOL = accessor(item) };
            error = null;
            return true;
        });
    }

    /// <summary>Adds a binary attribute (<c>B</c>).</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the bytes, or null to leave the attribute out.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Binary(string name, Func<T, byte[]?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = accessor(item) is { } bytes ? new AttributeValue { B = new MemoryStream(bytes, writable: false) } : null;
            error = null;
            return true;
        });
    }

    /// <summary>Adds a HyperLogLog sketch as a binary attribute (<c>B</c>) in its stable serialized form, so readers merge sketches of several items.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the sketch, or null to leave the attribute out.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Sketch(string name, Func<T, HyperLogLogSketch?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Binary(name, item => accessor(item)?.Serialize());
    }

    /// <summary>Adds a quantile sketch as a binary attribute (<c>B</c>) in its stable serialized form.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the sketch, or null to leave the attribute out.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Sketch(string name, Func<T, QuantileSketch?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Binary(name, item => accessor(item)?.Serialize());
    }

    /// <summary>Adds a time attribute: an ISO-8601 string (<c>S</c>) or epoch milliseconds or seconds (<c>N</c>).</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the time.</param>
    /// <param name="format">How it is stored; ISO-8601 UTC with milliseconds by default.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Timestamp(string name, Func<T, DateTimeOffset> accessor, DynamoDbTimeFormat format = DynamoDbTimeFormat.Iso8601)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = Time(accessor(item), format);
            error = null;
            return true;
        });
    }

    /// <summary>
    /// Adds the time-to-live attribute: epoch seconds (<c>N</c>), the form DynamoDB's TTL reads. Turn TTL on for the
    /// table with this attribute name (<c>UpdateTimeToLive</c>); DynamoDB then deletes the item some time after it.
    /// </summary>
    /// <param name="name">The attribute name, such as <c>ttl</c>.</param>
    /// <param name="accessor">Reads the expiry, or null for an item that never expires.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> TimeToLive(string name, Func<T, DateTimeOffset?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = accessor(item) is { } expiry ? Time(expiry, DynamoDbTimeFormat.EpochSeconds) : null;
            error = null;
            return true;
        });
    }

    /// <summary>Adds a string set (<c>SS</c>); duplicates are dropped, and an empty or null set leaves the attribute out.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the strings.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> StringSet(string name, Func<T, IEnumerable<string>?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            var set = accessor(item) is { } values ? new List<string>(new HashSet<string>(values, StringComparer.Ordinal)) : null;
            value = set is { Count: > 0 } ? new AttributeValue { SS = set } : null;
            error = null;
            return true;
        });
    }

    /// <summary>Adds a number set (<c>NS</c>); duplicates are dropped, and an empty or null set leaves the attribute out.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the numbers.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> NumberSet(string name, Func<T, IEnumerable<long>?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            List<string>? set = null;
            if (accessor(item) is { } values)
            {
                set = [];
                foreach (long n in new HashSet<long>(values))
                {
                    set.Add(n.ToString(CultureInfo.InvariantCulture));
                }
            }

            value = set is { Count: > 0 } ? new AttributeValue { NS = set } : null;
            error = null;
            return true;
        });
    }

    /// <summary>Adds a map of numbers (<c>M</c> of <c>N</c>), such as counts per category or a top-K list; null leaves the attribute out.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Reads the entries; keys must be unique.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> NumberMap(string name, Func<T, IEnumerable<KeyValuePair<string, long>>?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = null;
            error = null;
            if (accessor(item) is not { } entries)
            {
                return true;
            }

            var map = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
            foreach (var entry in entries)
            {
                if (!map.TryAdd(entry.Key, Number(entry.Value)))
                {
                    error = $"the map has the key '{entry.Key}' twice.";
                    return false;
                }
            }

            value = new AttributeValue { M = map };
            return true;
        });
    }

    /// <summary>
    /// Adds an attribute built by your own code: any <see cref="AttributeValue"/> (lists, nested maps, binary sets),
    /// or null to leave it out. Its size is measured like every other attribute; DynamoDB's own checks of its shape
    /// (an empty set, duplicates in a set) send the item to the dead letters.
    /// </summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="accessor">Builds the value.</param>
    /// <returns>This builder.</returns>
    public DynamoDbItemMapBuilder<T> Attribute(string name, Func<T, AttributeValue?> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        return Add(name, (T item, out AttributeValue? value, out string? error) =>
        {
            value = accessor(item);
            error = null;
            return true;
        });
    }

    /// <summary>Creates the map.</summary>
    /// <returns>The immutable map.</returns>
    /// <exception cref="InvalidOperationException">No partition key was set.</exception>
    public DynamoDbItemMap<T> Build()
    {
        if (_partitionKey is null)
        {
            throw new InvalidOperationException($"The DynamoDB map of {typeof(T).Name} has no partition key: call PartitionKey(name, accessor).");
        }

        return new DynamoDbItemMap<T>(_partitionKey, _sortKey, [.. _attributes], _versionName, _version, _replaces, _writeNulls);
    }

    internal static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    internal static bool TryNumber(double number, out AttributeValue? value, out string? error)
    {
        value = null;
        if (!double.IsFinite(number))
        {
            error = $"{number.ToString(CultureInfo.InvariantCulture)} is not a number DynamoDB can store.";
            return false;
        }

        double magnitude = Math.Abs(number);
        if (magnitude != 0 && (magnitude < 1e-130 || magnitude >= 1e126))
        {
            error = $"{number.ToString("R", CultureInfo.InvariantCulture)} is outside DynamoDB's number range (1E-130 to 9.99E+125 in magnitude).";
            return false;
        }

        value = new AttributeValue { N = number.ToString("R", CultureInfo.InvariantCulture) };
        error = null;
        return true;
    }

    private static AttributeValue Time(DateTimeOffset time, DynamoDbTimeFormat format) => format switch
    {
        DynamoDbTimeFormat.EpochMilliseconds => Number(time.ToUnixTimeMilliseconds()),
        DynamoDbTimeFormat.EpochSeconds => Number(time.ToUnixTimeSeconds()),
        _ => new AttributeValue(DynamoDbItemMap.Iso(time)),
    };

    private DynamoDbItemMapBuilder<T> Add(string name, AttributeAccessor<T>.Getter getter)
    {
        _attributes.Add(new AttributeAccessor<T>(Claim(name, null), getter));
        return this;
    }

    /// <summary>Checks a name is valid and not taken (a key or version being set again frees its old name).</summary>
    private string Claim(string name, string? previous)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (previous is not null)
        {
            _names.Remove(previous);
        }

        if (System.Text.Encoding.UTF8.GetByteCount(name) > 255)
        {
            throw new ArgumentException($"Attribute name '{name}' is longer than DynamoDB's 255 bytes.", nameof(name));
        }

        if (!_names.Add(name))
        {
            throw new ArgumentException($"Attribute '{name}' is mapped twice; give each attribute its own name.", nameof(name));
        }

        return name;
    }
}
