using Analytics.Streaming.Parquet.Internal;

namespace Analytics.Streaming.Parquet;

/// <summary>
/// Builds a <see cref="ParquetRecordMap{T}"/>: one call per column, in file order. Accessors are plain delegates
/// (<c>r =&gt; r.Price</c>) called once per row; they run before anything of the row is written, so an accessor that
/// throws rejects the record cleanly.
/// </summary>
/// <typeparam name="T">The record type.</typeparam>
/// <remarks>
/// Value-type accessors (<c>int</c>) make REQUIRED columns and nullable ones (<c>int?</c>) OPTIONAL columns; string and
/// binary columns take a <c>nullable</c> argument (default <see langword="true"/>). Bound to an explicit schema
/// (<see cref="ParquetRecordMap.For{T}(ParquetSchema)"/>), the schema's field decides instead, and a value-type
/// accessor returning <see langword="null"/> for a REQUIRED field rejects that record with a
/// <see cref="ParquetValueException"/>. Not thread-safe; build once and share the result.
/// </remarks>
public sealed class ParquetRecordMapBuilder<T>
{
    private readonly ParquetSchema? _schema;
    private readonly List<ColumnDefinition<T>> _columns = [];

    internal ParquetRecordMapBuilder(ParquetSchema? schema) => _schema = schema;

    /// <summary>Adds a BOOLEAN column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Boolean(string name, Func<T, bool> accessor) => Scalar(ParquetField.Boolean(name), accessor);

    /// <summary>Adds an OPTIONAL BOOLEAN column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Boolean(string name, Func<T, bool?> accessor) => Scalar(ParquetField.Boolean(name, nullable: true), accessor);

    /// <summary>Adds an INT32 column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Int32(string name, Func<T, int> accessor) => Scalar(ParquetField.Int32(name), accessor);

    /// <summary>Adds an OPTIONAL INT32 column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Int32(string name, Func<T, int?> accessor) => Scalar(ParquetField.Int32(name, nullable: true), accessor);

    /// <summary>Adds an INT64 column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Int64(string name, Func<T, long> accessor) => Scalar(ParquetField.Int64(name), accessor);

    /// <summary>Adds an OPTIONAL INT64 column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Int64(string name, Func<T, long?> accessor) => Scalar(ParquetField.Int64(name, nullable: true), accessor);

    /// <summary>Adds a FLOAT column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Float(string name, Func<T, float> accessor) => Scalar(ParquetField.Float(name), accessor);

    /// <summary>Adds an OPTIONAL FLOAT column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Float(string name, Func<T, float?> accessor) => Scalar(ParquetField.Float(name, nullable: true), accessor);

    /// <summary>Adds a DOUBLE column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Double(string name, Func<T, double> accessor) => Scalar(ParquetField.Double(name), accessor);

    /// <summary>Adds an OPTIONAL DOUBLE column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Double(string name, Func<T, double?> accessor) => Scalar(ParquetField.Double(name, nullable: true), accessor);

    /// <summary>Adds a DECIMAL(precision, scale) column. A value with more fractional digits than the scale, or too many digits, rejects its record.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="precision">Total digits, 1 to 38.</param>
    /// <param name="scale">Fractional digits.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Decimal(string name, int precision, int scale, Func<T, decimal> accessor) => Scalar(ParquetField.Decimal(name, precision, scale), accessor);

    /// <summary>Adds an OPTIONAL DECIMAL(precision, scale) column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="precision">Total digits, 1 to 38.</param>
    /// <param name="scale">Fractional digits.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Decimal(string name, int precision, int scale, Func<T, decimal?> accessor) => Scalar(ParquetField.Decimal(name, precision, scale, nullable: true), accessor);

    /// <summary>Adds a STRING (UTF-8) column, dictionary-encoded while values repeat.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <param name="nullable">Whether the column is OPTIONAL; when <see langword="false"/> a null rejects its record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> String(string name, Func<T, string?> accessor, bool nullable = true) => Scalar(ParquetField.String(name, nullable), accessor);

    /// <summary>Adds a BINARY column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <param name="nullable">Whether the column is OPTIONAL; when <see langword="false"/> a null rejects its record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Binary(string name, Func<T, byte[]?> accessor, bool nullable = true) => Scalar(ParquetField.Binary(name, nullable), accessor);

    /// <summary>Adds a TIMESTAMP (UTC) column. <see cref="DateTimeKind.Local"/> values are converted to UTC; Unspecified is taken as UTC.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <param name="unit">The stored resolution; finer parts are truncated toward the past.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Timestamp(string name, Func<T, DateTime> accessor, ParquetTimestampUnit unit = ParquetTimestampUnit.Microseconds) => Scalar(ParquetField.Timestamp(name, unit), accessor);

    /// <summary>Adds an OPTIONAL TIMESTAMP (UTC) column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <param name="unit">The stored resolution.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Timestamp(string name, Func<T, DateTime?> accessor, ParquetTimestampUnit unit = ParquetTimestampUnit.Microseconds) => Scalar(ParquetField.Timestamp(name, unit, nullable: true), accessor);

    /// <summary>Adds a TIMESTAMP (UTC) column from <see cref="DateTimeOffset"/> values (stored as their UTC instant).</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <param name="unit">The stored resolution.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Timestamp(string name, Func<T, DateTimeOffset> accessor, ParquetTimestampUnit unit = ParquetTimestampUnit.Microseconds) => Scalar(ParquetField.Timestamp(name, unit), accessor);

    /// <summary>Adds an OPTIONAL TIMESTAMP (UTC) column from <see cref="DateTimeOffset"/> values.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <param name="unit">The stored resolution.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Timestamp(string name, Func<T, DateTimeOffset?> accessor, ParquetTimestampUnit unit = ParquetTimestampUnit.Microseconds) => Scalar(ParquetField.Timestamp(name, unit, nullable: true), accessor);

    /// <summary>Adds a DATE column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Date(string name, Func<T, DateOnly> accessor) => Scalar(ParquetField.Date(name), accessor);

    /// <summary>Adds an OPTIONAL DATE column.</summary>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the value (or null) from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Date(string name, Func<T, DateOnly?> accessor) => Scalar(ParquetField.Date(name, nullable: true), accessor);

    /// <summary>
    /// Adds a primitive column described by an explicit <paramref name="field"/> (for example a REQUIRED string, a
    /// millisecond timestamp or a decimal), with an accessor whose type must suit the field's kind.
    /// </summary>
    /// <typeparam name="TValue">bool, int, long, float, double, decimal, string, byte[], DateTime, DateTimeOffset, DateOnly, or a nullable form.</typeparam>
    /// <param name="field">The field.</param>
    /// <param name="accessor">Reads the value from a record.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ParquetSchemaException"><typeparamref name="TValue"/> does not suit the field's kind.</exception>
    public ParquetRecordMapBuilder<T> Column<TValue>(ParquetField field, Func<T, TValue> accessor)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (!field.IsPrimitive)
        {
            throw new ParquetSchemaException($"Column '{field.Name}' is a {field.Kind}; add it with List(...) or Map(...).");
        }

        CheckValueType<TValue>(field, field.Name);
        return Scalar(field, accessor);
    }

    /// <summary>
    /// Adds a LIST column of primitive elements. Elements are OPTIONAL when <typeparamref name="TElement"/> admits null
    /// (<c>int?</c>, <c>string</c>). Decimal elements need the <see cref="List{TElement}(ParquetField, Func{T, IReadOnlyList{TElement}})"/> overload.
    /// </summary>
    /// <typeparam name="TElement">The element type.</typeparam>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the list (an array or List&lt;T&gt; works) from a record.</param>
    /// <param name="nullable">Whether the list itself may be null.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> List<TElement>(string name, Func<T, IReadOnlyList<TElement>?> accessor, bool nullable = true)
        => List(ParquetField.List(name, Infer<TElement>("element", name), nullable), accessor);

    /// <summary>Adds a LIST column described by an explicit LIST <paramref name="field"/>.</summary>
    /// <typeparam name="TElement">The element type; it must suit the field's element kind.</typeparam>
    /// <param name="field">A field made by <see cref="ParquetField.List"/>.</param>
    /// <param name="accessor">Reads the list from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> List<TElement>(ParquetField field, Func<T, IReadOnlyList<TElement>?> accessor)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(accessor);
        field = Resolve(field);
        if (field.Kind != ParquetColumnKind.List)
        {
            throw new ParquetSchemaException($"Column '{field.Name}' is {field.Kind} in the schema but is mapped as a list.");
        }

        CheckValueType<TElement>(field.Element!, field.Name + ".element");
        var resolved = field;
        _columns.Add(new ColumnDefinition<T>(resolved, (context, leaves) =>
        {
            var element = resolved.Element!;
            int maxDefinition = (resolved.IsNullable ? 1 : 0) + 1 + (element.IsNullable ? 1 : 0);
            var leaf = ElementWriters.CreateLeaf(new ColumnDescriptor([resolved.Name, "list", "element"], element, maxDefinition, 1), context);
            leaves.Add(leaf);
            return new ListBinding<T, TElement>(resolved.Name, accessor, ElementWriters.Create<TElement>(leaf), resolved.IsNullable);
        }));
        return this;
    }

    /// <summary>Adds a MAP column with primitive keys (never null) and values (OPTIONAL when <typeparamref name="TValue"/> admits null).</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="name">The column name.</param>
    /// <param name="accessor">Reads the map (a Dictionary works) from a record.</param>
    /// <param name="nullable">Whether the map itself may be null.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Map<TKey, TValue>(string name, Func<T, IReadOnlyDictionary<TKey, TValue>?> accessor, bool nullable = true)
        => Map(ParquetField.Map(name, Infer<TKey>("key", name), Infer<TValue>("value", name), nullable), accessor);

    /// <summary>Adds a MAP column described by an explicit MAP <paramref name="field"/>.</summary>
    /// <typeparam name="TKey">The key type; it must suit the field's key kind.</typeparam>
    /// <typeparam name="TValue">The value type; it must suit the field's value kind.</typeparam>
    /// <param name="field">A field made by <see cref="ParquetField.Map"/>.</param>
    /// <param name="accessor">Reads the map from a record.</param>
    /// <returns>This builder.</returns>
    public ParquetRecordMapBuilder<T> Map<TKey, TValue>(ParquetField field, Func<T, IReadOnlyDictionary<TKey, TValue>?> accessor)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(accessor);
        field = Resolve(field);
        if (field.Kind != ParquetColumnKind.Map)
        {
            throw new ParquetSchemaException($"Column '{field.Name}' is {field.Kind} in the schema but is mapped as a map.");
        }

        CheckValueType<TKey>(field.Key!, field.Name + ".key");
        CheckValueType<TValue>(field.Value!, field.Name + ".value");
        var resolved = field;
        _columns.Add(new ColumnDefinition<T>(resolved, (context, leaves) =>
        {
            int keyDefinition = (resolved.IsNullable ? 1 : 0) + 1;
            int valueDefinition = keyDefinition + (resolved.Value!.IsNullable ? 1 : 0);
            var keyLeaf = ElementWriters.CreateLeaf(new ColumnDescriptor([resolved.Name, "key_value", "key"], resolved.Key!, keyDefinition, 1), context);
            var valueLeaf = ElementWriters.CreateLeaf(new ColumnDescriptor([resolved.Name, "key_value", "value"], resolved.Value!, valueDefinition, 1), context);
            leaves.Add(keyLeaf);
            leaves.Add(valueLeaf);
            return new MapBinding<T, TKey, TValue>(resolved.Name, accessor, ElementWriters.Create<TKey>(keyLeaf), ElementWriters.Create<TValue>(valueLeaf), resolved.IsNullable);
        }));
        return this;
    }

    /// <summary>Creates the map.</summary>
    /// <returns>The immutable map.</returns>
    /// <exception cref="ParquetSchemaException">No columns, a duplicate name, or (with an explicit schema) a field left unbound.</exception>
    public ParquetRecordMap<T> Build()
    {
        if (_columns.Count == 0)
        {
            throw new ParquetSchemaException($"The map of {typeof(T).Name} has no columns; add at least one.");
        }

        var fields = new List<ParquetField>(_columns.Count);
        foreach (var column in _columns)
        {
            fields.Add(column.Field);
        }

        var schema = new ParquetSchema(fields);
        var columns = _columns.ToArray();
        if (_schema is not null)
        {
            // Keep the explicit schema's field order; every field must be bound.
            var ordered = new ColumnDefinition<T>[_schema.Fields.Count];
            foreach (var column in columns)
            {
                int index = IndexOf(_schema, column.Field.Name);
                ordered[index] = column;
            }

            for (int i = 0; i < ordered.Length; i++)
            {
                if (ordered[i] is null)
                {
                    throw new ParquetSchemaException($"Schema field '{_schema.Fields[i].Name}' has no accessor in the map of {typeof(T).Name}; bind every field of the schema.");
                }
            }

            return new ParquetRecordMap<T>(_schema, ordered);
        }

        return new ParquetRecordMap<T>(schema, columns);
    }

    private static int IndexOf(ParquetSchema schema, string name)
    {
        for (int i = 0; i < schema.Fields.Count; i++)
        {
            if (string.Equals(schema.Fields[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static ParquetField Infer<TValue>(string role, string column)
    {
        var kind = ElementWriters.KindOf(typeof(TValue));
        return kind?.Kind switch
        {
            null => throw new ParquetSchemaException($"Column '{column}' has {role}s of type {typeof(TValue)}, which cannot be written; use bool, int, long, float, double, string, byte[], DateTime, DateTimeOffset or DateOnly (or their nullable forms)."),
            ParquetColumnKind.Boolean => ParquetField.Boolean(role, kind.Value.Nullable),
            ParquetColumnKind.Int32 => ParquetField.Int32(role, kind.Value.Nullable),
            ParquetColumnKind.Int64 => ParquetField.Int64(role, kind.Value.Nullable),
            ParquetColumnKind.Float => ParquetField.Float(role, kind.Value.Nullable),
            ParquetColumnKind.Double => ParquetField.Double(role, kind.Value.Nullable),
            ParquetColumnKind.String => ParquetField.String(role, kind.Value.Nullable),
            ParquetColumnKind.Binary => ParquetField.Binary(role, kind.Value.Nullable),
            ParquetColumnKind.Timestamp => ParquetField.Timestamp(role, ParquetTimestampUnit.Microseconds, kind.Value.Nullable),
            ParquetColumnKind.Date => ParquetField.Date(role, kind.Value.Nullable),
            _ => throw new ParquetSchemaException($"Column '{column}' has decimal {role}s; describe it with ParquetField.List/Map and ParquetField.Decimal(name, precision, scale) to give precision and scale."),
        };
    }

    private static void CheckValueType<TValue>(ParquetField field, string path)
    {
        var kind = ElementWriters.KindOf(typeof(TValue));
        if (kind is null)
        {
            throw new ParquetSchemaException($"Column '{path}' is read as {typeof(TValue)}, which cannot be written; use bool, int, long, float, double, decimal, string, byte[], DateTime, DateTimeOffset or DateOnly (or their nullable forms).");
        }

        if (kind.Value.Kind != field.Kind)
        {
            throw new ParquetSchemaException($"Column '{path}' is {field.Kind} in the schema but its accessor returns {typeof(TValue)} ({kind.Value.Kind}); change the accessor or the field.");
        }
    }

    private ParquetField Resolve(ParquetField proposed)
    {
        foreach (var column in _columns)
        {
            if (string.Equals(column.Field.Name, proposed.Name, StringComparison.OrdinalIgnoreCase))
            {
                throw new ParquetSchemaException($"The map of {typeof(T).Name} already has a column named '{column.Field.Name}'; names must be unique ignoring case.");
            }
        }

        if (_schema is null)
        {
            return proposed;
        }

        var field = _schema.Find(proposed.Name)
            ?? throw new ParquetSchemaException($"The schema has no field '{proposed.Name}'; fields are: {string.Join(", ", FieldNames(_schema))}.");
        if (field.Kind != proposed.Kind)
        {
            throw new ParquetSchemaException($"Column '{field.Name}' is {field.Kind} in the schema but is mapped as {proposed.Kind}; change the accessor or the field.");
        }

        if (field.Kind == ParquetColumnKind.Decimal && (field.Precision != proposed.Precision || field.Scale != proposed.Scale)
            && proposed.Precision != 0)
        {
            throw new ParquetSchemaException($"Column '{field.Name}' is DECIMAL({field.Precision},{field.Scale}) in the schema but is mapped as DECIMAL({proposed.Precision},{proposed.Scale}).");
        }

        return field;
    }

    private static IEnumerable<string> FieldNames(ParquetSchema schema)
    {
        foreach (var field in schema.Fields)
        {
            yield return field.Name;
        }
    }

    private ParquetRecordMapBuilder<T> Scalar<TValue>(ParquetField proposed, Func<T, TValue> accessor)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        var field = Resolve(proposed);
        _columns.Add(new ColumnDefinition<T>(field, (context, leaves) =>
        {
            var leaf = ElementWriters.CreateLeaf(new ColumnDescriptor([field.Name], field, field.IsNullable ? 1 : 0, 0), context);
            leaves.Add(leaf);
            return new ScalarBinding<T, TValue>(field.Name, accessor, ElementWriters.Create<TValue>(leaf));
        }));
        return this;
    }
}
