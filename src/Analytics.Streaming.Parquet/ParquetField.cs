using System.Globalization;
using System.Text;

namespace Analytics.Streaming.Parquet;

/// <summary>
/// One column (or a LIST / MAP group) of a <see cref="ParquetSchema"/>: its name, kind, nullability and the
/// parameters of its kind. Immutable; create it with the static factory methods.
/// </summary>
/// <remarks>
/// Names are written as given (Athena and Glue lower-case them; prefer lower_snake_case). A nullable field is
/// written OPTIONAL, otherwise REQUIRED. Lists use the standard three-level layout (<c>name</c> LIST /
/// <c>list</c> repeated / <c>element</c>) and maps the standard <c>key_value</c> layout with a required key.
/// </remarks>
public sealed class ParquetField
{
    private ParquetField(string name, ParquetColumnKind kind, bool nullable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Kind = kind;
        IsNullable = nullable;
    }

    /// <summary>Gets the column name.</summary>
    public string Name { get; }

    /// <summary>Gets the logical kind.</summary>
    public ParquetColumnKind Kind { get; }

    /// <summary>Gets a value indicating whether the field is OPTIONAL (may hold nulls).</summary>
    public bool IsNullable { get; }

    /// <summary>Gets the total number of digits of a <see cref="ParquetColumnKind.Decimal"/> field (1 to 38); 0 otherwise.</summary>
    public int Precision { get; private init; }

    /// <summary>Gets the number of fractional digits of a <see cref="ParquetColumnKind.Decimal"/> field; 0 otherwise.</summary>
    public int Scale { get; private init; }

    /// <summary>Gets the unit of a <see cref="ParquetColumnKind.Timestamp"/> field.</summary>
    public ParquetTimestampUnit TimestampUnit { get; private init; } = ParquetTimestampUnit.Microseconds;

    /// <summary>Gets the element of a <see cref="ParquetColumnKind.List"/> field (named <c>element</c>); otherwise <see langword="null"/>.</summary>
    public ParquetField? Element { get; private init; }

    /// <summary>Gets the key of a <see cref="ParquetColumnKind.Map"/> field (named <c>key</c>, never nullable); otherwise <see langword="null"/>.</summary>
    public ParquetField? Key { get; private init; }

    /// <summary>Gets the value of a <see cref="ParquetColumnKind.Map"/> field (named <c>value</c>); otherwise <see langword="null"/>.</summary>
    public ParquetField? Value { get; private init; }

    /// <summary>Creates a BOOLEAN field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Boolean(string name, bool nullable = false) => new(name, ParquetColumnKind.Boolean, nullable);

    /// <summary>Creates an INT32 field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Int32(string name, bool nullable = false) => new(name, ParquetColumnKind.Int32, nullable);

    /// <summary>Creates an INT64 field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Int64(string name, bool nullable = false) => new(name, ParquetColumnKind.Int64, nullable);

    /// <summary>Creates a FLOAT field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Float(string name, bool nullable = false) => new(name, ParquetColumnKind.Float, nullable);

    /// <summary>Creates a DOUBLE field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Double(string name, bool nullable = false) => new(name, ParquetColumnKind.Double, nullable);

    /// <summary>Creates a DECIMAL(precision, scale) field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="precision">Total digits, 1 to 38. Up to 9 is stored as INT32, up to 18 as INT64, beyond as FIXED_LEN_BYTE_ARRAY.</param>
    /// <param name="scale">Fractional digits, 0 to <paramref name="precision"/> (and at most 28, the limit of <see cref="decimal"/>).</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    /// <exception cref="ParquetSchemaException">The precision or scale is out of range.</exception>
    public static ParquetField Decimal(string name, int precision, int scale, bool nullable = false)
    {
        if (precision is < 1 or > 38)
        {
            throw new ParquetSchemaException($"Decimal column '{name}' has precision {precision}; use 1 to 38.");
        }

        if (scale < 0 || scale > precision || scale > 28)
        {
            throw new ParquetSchemaException($"Decimal column '{name}' has scale {scale}; use 0 to min(precision {precision}, 28).");
        }

        return new ParquetField(name, ParquetColumnKind.Decimal, nullable) { Precision = precision, Scale = scale };
    }

    /// <summary>Creates a STRING (UTF-8) field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField String(string name, bool nullable = true) => new(name, ParquetColumnKind.String, nullable);

    /// <summary>Creates a BINARY (opaque bytes) field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Binary(string name, bool nullable = true) => new(name, ParquetColumnKind.Binary, nullable);

    /// <summary>Creates a TIMESTAMP field adjusted to UTC.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="unit">The resolution; finer parts of a value are truncated toward the past.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Timestamp(string name, ParquetTimestampUnit unit = ParquetTimestampUnit.Microseconds, bool nullable = false)
    {
        if (!Enum.IsDefined(unit))
        {
            throw new ParquetSchemaException($"Timestamp column '{name}' has unknown unit {unit}; use Milliseconds or Microseconds.");
        }

        return new ParquetField(name, ParquetColumnKind.Timestamp, nullable) { TimestampUnit = unit };
    }

    /// <summary>Creates a DATE field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="nullable">Whether the column may hold nulls.</param>
    /// <returns>The field.</returns>
    public static ParquetField Date(string name, bool nullable = false) => new(name, ParquetColumnKind.Date, nullable);

    /// <summary>Creates a LIST field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="element">The element; its name is replaced by <c>element</c>. Lists of lists or maps are not supported.</param>
    /// <param name="nullable">Whether the list itself may be null (an empty list is always allowed).</param>
    /// <returns>The field.</returns>
    /// <exception cref="ParquetSchemaException">The element is itself a list or map.</exception>
    public static ParquetField List(string name, ParquetField element, bool nullable = true)
    {
        ArgumentNullException.ThrowIfNull(element);
        if (element.Kind is ParquetColumnKind.List or ParquetColumnKind.Map)
        {
            throw new ParquetSchemaException($"List column '{name}' has a {element.Kind} element; nested lists and maps are not supported, use a primitive element.");
        }

        return new ParquetField(name, ParquetColumnKind.List, nullable) { Element = element.Rename("element") };
    }

    /// <summary>Creates a MAP field.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="key">The key (a primitive; renamed <c>key</c> and made required).</param>
    /// <param name="value">The value (a primitive; renamed <c>value</c>).</param>
    /// <param name="nullable">Whether the map itself may be null (an empty map is always allowed).</param>
    /// <returns>The field.</returns>
    /// <exception cref="ParquetSchemaException">The key or value is a list or map.</exception>
    public static ParquetField Map(string name, ParquetField key, ParquetField value, bool nullable = true)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.Kind is ParquetColumnKind.List or ParquetColumnKind.Map || value.Kind is ParquetColumnKind.List or ParquetColumnKind.Map)
        {
            throw new ParquetSchemaException($"Map column '{name}' has a nested key or value; use primitive keys and values.");
        }

        return new ParquetField(name, ParquetColumnKind.Map, nullable)
        {
            Key = key.Rename("key", nullable: false),
            Value = value.Rename("value"),
        };
    }

    /// <summary>Returns a copy of this field with another name.</summary>
    /// <param name="name">The new name.</param>
    /// <returns>The renamed field.</returns>
    public ParquetField WithName(string name) => Rename(name);

    /// <summary>Returns a copy of this field with another nullability.</summary>
    /// <param name="nullable">Whether the copy is OPTIONAL.</param>
    /// <returns>The copy.</returns>
    public ParquetField WithNullable(bool nullable) => Rename(Name, nullable);

    /// <summary>Returns the Hive / Athena / Glue type name of this field, such as <c>bigint</c>, <c>decimal(18,2)</c>, <c>array&lt;string&gt;</c>.</summary>
    /// <returns>The type name, for DDL and Glue table schemas.</returns>
    public string ToHiveType() => Kind switch
    {
        ParquetColumnKind.Boolean => "boolean",
        ParquetColumnKind.Int32 => "int",
        ParquetColumnKind.Int64 => "bigint",
        ParquetColumnKind.Float => "float",
        ParquetColumnKind.Double => "double",
        ParquetColumnKind.Decimal => string.Create(CultureInfo.InvariantCulture, $"decimal({Precision},{Scale})"),
        ParquetColumnKind.String => "string",
        ParquetColumnKind.Binary => "binary",
        ParquetColumnKind.Timestamp => "timestamp",
        ParquetColumnKind.Date => "date",
        ParquetColumnKind.List => $"array<{Element!.ToHiveType()}>",
        ParquetColumnKind.Map => $"map<{Key!.ToHiveType()},{Value!.ToHiveType()}>",
        _ => throw new InvalidOperationException($"Unknown kind {Kind}."),
    };

    /// <summary>Returns a readable description such as <c>price: DECIMAL(18,2) OPTIONAL</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Name).Append(": ");
        text.Append(Kind switch
        {
            ParquetColumnKind.Decimal => string.Create(CultureInfo.InvariantCulture, $"DECIMAL({Precision},{Scale})"),
            ParquetColumnKind.Timestamp => $"TIMESTAMP({TimestampUnit})",
            ParquetColumnKind.List => $"LIST<{Element}>",
            ParquetColumnKind.Map => $"MAP<{Key}, {Value}>",
            _ => Kind.ToString().ToUpperInvariant(),
        });
        text.Append(IsNullable ? " OPTIONAL" : " REQUIRED");
        return text.ToString();
    }

    internal bool IsPrimitive => Kind is not (ParquetColumnKind.List or ParquetColumnKind.Map);

    private ParquetField Rename(string name, bool? nullable = null) => new(name, Kind, nullable ?? IsNullable)
    {
        Precision = Precision,
        Scale = Scale,
        TimestampUnit = TimestampUnit,
        Element = Element,
        Key = Key,
        Value = Value,
    };
}
