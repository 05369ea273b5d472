using Analytics.Streaming.Parquet;
using Parquet;
using Parquet.Data;
using Parquet.Meta;
using NetField = Parquet.Schema.DataField;
using PhysicalType = Parquet.Meta.Type;
using NetSchema = Parquet.Schema.ParquetSchema;

namespace Analytics.Streaming.S3;

/// <summary>
/// The bridge of the compaction job between Parquet.Net (which reads the small objects) and our writer (which writes
/// the merged one): the schema of a file as a <see cref="ParquetSchema"/> with the same physical and logical types,
/// and a record map over the rows read (a record is a row index: the rows of the row group read last, or of every
/// row group read at increasing offsets when the merged object is sorted).
/// </summary>
/// <remarks>
/// Flat schemas of the primitive kinds the writer supports are handled: BOOLEAN, INT32, INT64, FLOAT, DOUBLE,
/// DECIMAL, STRING, BINARY, DATE and UTC TIMESTAMP in milliseconds or microseconds, REQUIRED or OPTIONAL. Anything
/// else (lists, maps, structs, INT96, nanosecond or local timestamps, other logical types) is reported as
/// unsupported, and the compactor leaves such objects alone.
/// </remarks>
internal sealed class MergeSchema
{
    /// <summary>How Parquet.Net is asked to read: dates as <see cref="DateOnly"/>.</summary>
    public static readonly ParquetOptions ReadOptions = new() { UseDateOnlyTypeForDates = true };

    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private readonly Column[] _columns;

    private MergeSchema(Column[] columns, ParquetSchema schema)
    {
        _columns = columns;
        Schema = schema;
        var builder = ParquetRecordMap.For<int>();
        foreach (var column in columns)
        {
            column.Bind(builder);
        }

        Map = builder.Build();
        Signature = schema.ToString();
    }

    /// <summary>Gets the schema of the merged object.</summary>
    public ParquetSchema Schema { get; }

    /// <summary>Gets a text that is equal for files whose rows can be merged into one object.</summary>
    public string Signature { get; }

    /// <summary>Gets the map from a row index to its values.</summary>
    public ParquetRecordMap<int> Map { get; }

    /// <summary>Describes a file's schema; <see langword="null"/> with the reason when it cannot be merged.</summary>
    public static MergeSchema? TryCreate(NetSchema schema, out string? reason)
    {
        var columns = new List<Column>();
        var fields = new List<ParquetField>();
        foreach (var field in schema.Fields)
        {
            if (field is not NetField data || data.MaxRepetitionLevel > 0 || data.Path.ToList().Count != 1)
            {
                reason = $"column '{field.Name}' is nested (list, map or struct), which compaction does not merge";
                return null;
            }

            var column = ColumnOf(data, out reason);
            if (column is null)
            {
                return null;
            }

            columns.Add(column);
            fields.Add(column.Target);
        }

        if (columns.Count == 0)
        {
            reason = "the file has no columns";
            return null;
        }

        reason = null;
        return new MergeSchema([.. columns], new ParquetSchema(fields));
    }

    /// <summary>Reads every column of a row group into the arrays the map reads, at rows <paramref name="offset"/> onwards.</summary>
    /// <returns>The number of rows of the row group.</returns>
    public async Task<int> ReadAsync(ParquetReader reader, int rowGroup, int offset, CancellationToken cancellationToken)
    {
        using var group = reader.OpenRowGroupReader(rowGroup);
        int rows = checked((int)group.RowCount);
        if (rows > Array.MaxLength - offset)
        {
            throw new InvalidDataException($"A sorted merge holds at most {Array.MaxLength:N0} rows; lower TargetObjectBytes.");
        }

        var fields = reader.Schema.DataFields;
        for (int c = 0; c < _columns.Length; c++)
        {
            await _columns[c].ReadAsync(group, fields[c], offset, rows, cancellationToken).ConfigureAwait(false);
        }

        return rows;
    }

    /// <summary>The positions of the columns named <paramref name="names"/>; <see langword="null"/> with the reason when one is missing.</summary>
    public int[]? ColumnIndexes(IReadOnlyList<string> names, out string? reason)
    {
        var indexes = new int[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            indexes[i] = Array.FindIndex(_columns, c => c.Target.Name == names[i]);
            if (indexes[i] < 0)
            {
                reason = $"the sort column '{names[i]}' is not in the objects' schema ({Signature})";
                return null;
            }
        }

        reason = null;
        return indexes;
    }

    /// <summary>The first <paramref name="rows"/> rows read, ordered by the given columns (stable: ties keep the order read).</summary>
    public int[] SortedRows(int rows, int[] columns)
    {
        var order = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            order[i] = i;
        }

        var sortColumns = Array.ConvertAll(columns, c => _columns[c]);
        Array.Sort(order, (a, b) =>
        {
            foreach (var column in sortColumns)
            {
                int compared = column.Compare(a, b);
                if (compared != 0)
                {
                    return compared;
                }
            }

            return a.CompareTo(b);
        });
        return order;
    }

    private static Column? ColumnOf(NetField field, out string? reason)
    {
        var element = field.SchemaElement;
        reason = null;
        if (element is null || element.Type is not { } type)
        {
            reason = $"column '{field.Name}' has no physical type";
            return null;
        }

        bool nullable = element.RepetitionType != FieldRepetitionType.REQUIRED;
        string name = field.Name;
        var logical = element.LogicalType;
        var converted = element.ConvertedType;
        bool plain = logical is null && converted is null;
        bool isDecimal = logical?.DECIMAL is not null || converted == ConvertedType.DECIMAL;
        int precision = logical?.DECIMAL?.Precision ?? element.Precision ?? 0;
        int scale = logical?.DECIMAL?.Scale ?? element.Scale ?? 0;
        bool signedInteger(int bits) => logical?.INTEGER is { } integer && integer.BitWidth == bits && integer.IsSigned && converted is null or ConvertedType.INT_32 or ConvertedType.INT_64;

        switch (type)
        {
            case PhysicalType.BOOLEAN when plain:
                return Make<bool>(ParquetField.Boolean(name, nullable), nullable);
            case PhysicalType.INT32 or PhysicalType.INT64 or PhysicalType.FIXED_LEN_BYTE_ARRAY when isDecimal:
                if (precision is < 1 or > 28 || scale < 0 || scale > precision)
                {
                    reason = $"column '{name}' is DECIMAL({precision},{scale}); compaction merges decimals of up to 28 digits (what .NET's decimal holds)";
                    return null;
                }

                var target = ParquetField.Decimal(name, precision, scale, nullable);
                return type switch
                {
                    PhysicalType.INT32 => FromPhysical<int, decimal>(target, nullable, v => Unscaled(v, scale)),
                    PhysicalType.INT64 => FromPhysical<long, decimal>(target, nullable, v => Unscaled(v, scale)),
                    _ => Make<decimal>(target, nullable),
                };
            case PhysicalType.INT32 when logical?.DATE is not null || (logical is null && converted == ConvertedType.DATE):
                return FromPhysical<int, DateOnly>(ParquetField.Date(name, nullable), nullable, static days => DateOnly.FromDayNumber(UnixEpochDay + days));
            case PhysicalType.INT32 when plain || signedInteger(32):
                return Make<int>(ParquetField.Int32(name, nullable), nullable);
            case PhysicalType.INT64 when logical?.TIMESTAMP is { } timestamp:
                if (!timestamp.IsAdjustedToUTC || (timestamp.Unit?.MILLIS is null && timestamp.Unit?.MICROS is null))
                {
                    reason = $"column '{name}' is a local or nanosecond TIMESTAMP; compaction merges UTC timestamps in milliseconds or microseconds";
                    return null;
                }

                return Timestamp(name, timestamp.Unit.MILLIS is not null ? ParquetTimestampUnit.Milliseconds : ParquetTimestampUnit.Microseconds, nullable);
            case PhysicalType.INT64 when logical is null && converted is ConvertedType.TIMESTAMP_MILLIS or ConvertedType.TIMESTAMP_MICROS:
                return Timestamp(name, converted == ConvertedType.TIMESTAMP_MILLIS ? ParquetTimestampUnit.Milliseconds : ParquetTimestampUnit.Microseconds, nullable);
            case PhysicalType.INT64 when plain || signedInteger(64):
                return Make<long>(ParquetField.Int64(name, nullable), nullable);
            case PhysicalType.FLOAT when plain:
                return Make<float>(ParquetField.Float(name, nullable), nullable);
            case PhysicalType.DOUBLE when plain:
                return Make<double>(ParquetField.Double(name, nullable), nullable);
            case PhysicalType.BYTE_ARRAY when logical?.STRING is not null || (logical is null && converted == ConvertedType.UTF8):
                return new ReferenceColumn<ReadOnlyMemory<char>, string>(ParquetField.String(name, nullable), static chars => chars.ToString(), string.CompareOrdinal, "strings");
            case PhysicalType.BYTE_ARRAY when plain:
                return new ReferenceColumn<ReadOnlyMemory<byte>, byte[]>(ParquetField.Binary(name, nullable), static bytes => bytes.ToArray(), static (x, y) => x.AsSpan().SequenceCompareTo(y), "byte arrays");
            default:
                reason = $"column '{name}' has physical type {type} with logical type {(logical is null ? "none" : "set")} and converted type {(converted?.ToString() ?? "none")}, which compaction does not merge";
                return null;
        }
    }

    private static Column Timestamp(string name, ParquetTimestampUnit unit, bool nullable)
    {
        long ticks = unit == ParquetTimestampUnit.Milliseconds ? TimeSpan.TicksPerMillisecond : TimeSpan.TicksPerMicrosecond;
        return FromPhysical<long, DateTime>(ParquetField.Timestamp(name, unit, nullable), nullable, v => DateTime.UnixEpoch.AddTicks(v * ticks));
    }

    private static Column Make<T>(ParquetField target, bool nullable)
        where T : struct
        => nullable ? new NullableColumn<T, T>(target, null, static v => v) : new RequiredColumn<T, T>(target, null, static v => v);

    /// <summary>
    /// A column read as its physical integers and converted here: Parquet.Net 6 decodes DELTA_BINARY_PACKED pages
    /// only into plain integers, not into dates, timestamps or decimals, and writers use that encoding for them.
    /// </summary>
    private static Column FromPhysical<TRead, T>(ParquetField target, bool nullable, Func<TRead, T> convert)
        where TRead : struct
        where T : struct
    {
        var physical = new NetField(target.Name, typeof(TRead), nullable);
        _ = new NetSchema(physical); // a field is read through a schema it belongs to
        return nullable ? new NullableColumn<TRead, T>(target, physical, convert) : new RequiredColumn<TRead, T>(target, physical, convert);
    }

    private static decimal Unscaled(long value, int scale)
    {
        bool negative = value < 0;
        ulong magnitude = negative ? unchecked((ulong)(-(value + 1))) + 1 : (ulong)value;
        return new decimal(unchecked((int)(uint)magnitude), unchecked((int)(uint)(magnitude >> 32)), 0, negative, (byte)scale);
    }

    private static InvalidDataException Unexpected(NetField field, RawColumnData raw, string expected)
        => new($"Parquet.Net read column '{field.Name}' as {raw.GetType().Name}, where {expected} was expected.");

    /// <summary>One column: its target field, the values of the rows read, and how the writer reads them.</summary>
    private abstract class Column(ParquetField target)
    {
        public ParquetField Target { get; } = target;

        public abstract void Bind(ParquetRecordMapBuilder<int> builder);

        /// <summary>Reads a row group's values into rows <paramref name="offset"/> onwards.</summary>
        public abstract Task ReadAsync(ParquetRowGroupReader group, NetField field, int offset, int rows, CancellationToken cancellationToken);

        /// <summary>Orders two rows read: nulls first, then the value's natural order (strings and bytes ordinal).</summary>
        public abstract int Compare(int a, int b);

        protected static void Grow<TValue>(ref TValue[] values, int needed)
        {
            if (values.Length < needed)
            {
                Array.Resize(ref values, Math.Max(needed, values.Length * 2));
            }
        }

        /// <summary>Walks the definition levels: <paramref name="present"/> gets the row and the index of its value among the non-null ones.</summary>
        protected static void Spread(RawColumnData raw, NetField field, int rows, Action<int, int> present)
        {
            if (field.MaxDefinitionLevel == 0)
            {
                for (int i = 0; i < rows; i++)
                {
                    present(i, i);
                }

                return;
            }

            var levels = raw.DefinitionLevels;
            if (levels.Length < rows)
            {
                throw new InvalidDataException($"Parquet.Net read {levels.Length} definition levels of column '{field.Name}' in a row group of {rows} rows.");
            }

            int next = 0;
            for (int i = 0; i < rows; i++)
            {
                if (levels[i] == field.MaxDefinitionLevel)
                {
                    present(i, next++);
                }
            }
        }
    }

    private sealed class RequiredColumn<TRead, T>(ParquetField target, NetField? physical, Func<TRead, T> convert) : Column(target)
        where TRead : struct
        where T : struct
    {
        private T[] _values = [];

        public override void Bind(ParquetRecordMapBuilder<int> builder) => builder.Column<T>(Target, i => _values[i]);

        public override int Compare(int a, int b) => Comparer<T>.Default.Compare(_values[a], _values[b]);

        public override async Task ReadAsync(ParquetRowGroupReader group, NetField field, int offset, int rows, CancellationToken cancellationToken)
        {
            field = physical ?? field;
            using var raw = await group.ReadRawColumnDataBaseAsync(field, cancellationToken).ConfigureAwait(false);
            Grow(ref _values, offset + rows);
            var values = _values;
            switch (raw)
            {
                case RawColumnData<TRead> typed:
                    {
                        var source = typed.Values;
                        if (source.Length < rows)
                        {
                            throw new InvalidDataException($"Parquet.Net read {source.Length} values of required column '{field.Name}' in a row group of {rows} rows.");
                        }

                        for (int i = 0; i < rows; i++)
                        {
                            values[offset + i] = convert(source[i]);
                        }

                        break;
                    }

                default:
                    throw Unexpected(field, raw, typeof(TRead).Name);
            }
        }
    }

    private sealed class NullableColumn<TRead, T>(ParquetField target, NetField? physical, Func<TRead, T> convert) : Column(target)
        where TRead : struct
        where T : struct
    {
        private T?[] _values = [];

        public override void Bind(ParquetRecordMapBuilder<int> builder) => builder.Column<T?>(Target, i => _values[i]);

        public override int Compare(int a, int b) => Nullable.Compare(_values[a], _values[b]);

        public override async Task ReadAsync(ParquetRowGroupReader group, NetField field, int offset, int rows, CancellationToken cancellationToken)
        {
            field = physical ?? field;
            using var raw = await group.ReadRawColumnDataBaseAsync(field, cancellationToken).ConfigureAwait(false);
            if (raw is not RawColumnData<TRead> typed)
            {
                throw Unexpected(field, raw, typeof(TRead).Name);
            }

            Grow(ref _values, offset + rows);
            var values = _values;
            Array.Clear(values, offset, rows);
            var source = typed.Values.ToArray();
            Spread(raw, field, rows, (row, index) => values[offset + row] = convert(source[index]));
        }
    }

    /// <summary>A string or binary column: Parquet.Net's memory values turned into <typeparamref name="T"/>, nulls first in order.</summary>
    private sealed class ReferenceColumn<TRaw, T>(ParquetField target, Func<TRaw, T> convert, Comparison<T> compare, string expected) : Column(target)
        where TRaw : struct
        where T : class
    {
        private T?[] _values = [];

        public override void Bind(ParquetRecordMapBuilder<int> builder) => builder.Column<T?>(Target, i => _values[i]);

        public override int Compare(int a, int b) => (_values[a], _values[b]) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            var (x, y) => compare(x, y),
        };

        public override async Task ReadAsync(ParquetRowGroupReader group, NetField field, int offset, int rows, CancellationToken cancellationToken)
        {
            using var raw = await group.ReadRawColumnDataBaseAsync(field, cancellationToken).ConfigureAwait(false);
            if (raw is not RawColumnData<TRaw> typed)
            {
                throw Unexpected(field, raw, expected);
            }

            Grow(ref _values, offset + rows);
            var values = _values;
            Array.Clear(values, offset, rows);
            var source = typed.Values.ToArray();
            Spread(raw, field, rows, (row, index) => values[offset + row] = convert(source[index]));
        }
    }
}
