using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Analytics.Streaming.Parquet.Internal;

namespace Analytics.Streaming.Parquet;

/// <summary>Entry points to describe how a record type maps to Parquet columns.</summary>
public static class ParquetRecordMap
{
    /// <summary>Starts a map whose schema is built from the columns you add, in the order you add them.</summary>
    /// <typeparam name="T">The record type (a class, record or struct).</typeparam>
    /// <returns>A builder.</returns>
    /// <example>
    /// <code>
    /// var map = ParquetRecordMap.For&lt;Click&gt;()
    ///     .Timestamp("ts", c =&gt; c.Time)
    ///     .String("page", c =&gt; c.Page, nullable: false)
    ///     .Int64("user_id", c =&gt; c.UserId)
    ///     .Build();
    /// </code>
    /// </example>
    public static ParquetRecordMapBuilder<T> For<T>() => new(null);

    /// <summary>
    /// Starts a map bound to an explicit schema: every column you add must name a field of <paramref name="schema"/>
    /// with a compatible kind, and <see cref="ParquetRecordMapBuilder{T}.Build"/> requires every field to be bound.
    /// The field decides nullability, decimal precision and scale, and timestamp unit.
    /// </summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <param name="schema">The schema the file must have (e.g. the table's schema in a data lake).</param>
    /// <returns>A builder.</returns>
    public static ParquetRecordMapBuilder<T> For<T>(ParquetSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return new ParquetRecordMapBuilder<T>(schema);
    }

    /// <summary>
    /// Maps every public readable instance property of <typeparamref name="T"/>, in declaration order, to a column
    /// named in lower_snake_case (<c>UserId</c> becomes <c>user_id</c>), using compiled getters (reflection runs once,
    /// here, never per row).
    /// </summary>
    /// <typeparam name="T">A class or record class whose properties are bool, int, long, float, double, decimal, string,
    /// byte[], DateTime, DateTimeOffset, DateOnly or their nullable forms.</typeparam>
    /// <param name="timestampUnit">The unit of DateTime and DateTimeOffset columns.</param>
    /// <param name="decimalPrecision">Precision of decimal columns (default 38).</param>
    /// <param name="decimalScale">Scale of decimal columns (default 18).</param>
    /// <returns>The map.</returns>
    /// <remarks>
    /// Value types give REQUIRED columns and their nullable forms OPTIONAL ones; string and byte[] properties are
    /// REQUIRED when declared non-nullable in a nullable-enabled context, OPTIONAL otherwise. Lists, maps and other
    /// types are not mapped automatically: use <see cref="For{T}()"/> for them, or for other names and types.
    /// </remarks>
    /// <exception cref="ParquetSchemaException">A property has a type without an automatic mapping.</exception>
    public static ParquetRecordMap<T> FromProperties<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(
        ParquetTimestampUnit timestampUnit = ParquetTimestampUnit.Microseconds, int decimalPrecision = 38, int decimalScale = 18)
        where T : class
    {
        var builder = For<T>();
        var nullability = new NullabilityInfoContext();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var getter = property.GetMethod;
            if (getter is null || !getter.IsPublic || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            string name = SnakeCase(property.Name);
            var type = property.PropertyType;
            bool nullableReference = nullability.Create(property).ReadState != NullabilityState.NotNull;
            _ = type switch
            {
                _ when type == typeof(bool) => builder.Boolean(name, getter.CreateDelegate<Func<T, bool>>()),
                _ when type == typeof(bool?) => builder.Boolean(name, getter.CreateDelegate<Func<T, bool?>>()),
                _ when type == typeof(int) => builder.Int32(name, getter.CreateDelegate<Func<T, int>>()),
                _ when type == typeof(int?) => builder.Int32(name, getter.CreateDelegate<Func<T, int?>>()),
                _ when type == typeof(long) => builder.Int64(name, getter.CreateDelegate<Func<T, long>>()),
                _ when type == typeof(long?) => builder.Int64(name, getter.CreateDelegate<Func<T, long?>>()),
                _ when type == typeof(float) => builder.Float(name, getter.CreateDelegate<Func<T, float>>()),
                _ when type == typeof(float?) => builder.Float(name, getter.CreateDelegate<Func<T, float?>>()),
                _ when type == typeof(double) => builder.Double(name, getter.CreateDelegate<Func<T, double>>()),
                _ when type == typeof(double?) => builder.Double(name, getter.CreateDelegate<Func<T, double?>>()),
                _ when type == typeof(decimal) => builder.Decimal(name, decimalPrecision, decimalScale, getter.CreateDelegate<Func<T, decimal>>()),
                _ when type == typeof(decimal?) => builder.Decimal(name, decimalPrecision, decimalScale, getter.CreateDelegate<Func<T, decimal?>>()),
                _ when type == typeof(string) => builder.String(name, getter.CreateDelegate<Func<T, string?>>(), nullableReference),
                _ when type == typeof(byte[]) => builder.Binary(name, getter.CreateDelegate<Func<T, byte[]?>>(), nullableReference),
                _ when type == typeof(DateTime) => builder.Timestamp(name, getter.CreateDelegate<Func<T, DateTime>>(), timestampUnit),
                _ when type == typeof(DateTime?) => builder.Timestamp(name, getter.CreateDelegate<Func<T, DateTime?>>(), timestampUnit),
                _ when type == typeof(DateTimeOffset) => builder.Timestamp(name, getter.CreateDelegate<Func<T, DateTimeOffset>>(), timestampUnit),
                _ when type == typeof(DateTimeOffset?) => builder.Timestamp(name, getter.CreateDelegate<Func<T, DateTimeOffset?>>(), timestampUnit),
                _ when type == typeof(DateOnly) => builder.Date(name, getter.CreateDelegate<Func<T, DateOnly>>()),
                _ when type == typeof(DateOnly?) => builder.Date(name, getter.CreateDelegate<Func<T, DateOnly?>>()),
                _ => throw new ParquetSchemaException($"Property {typeof(T).Name}.{property.Name} of type {type} has no automatic Parquet mapping; map {typeof(T).Name} with ParquetRecordMap.For<{typeof(T).Name}>() instead."),
            };
        }

        return builder.Build();
    }

    /// <summary>Converts a PascalCase or camelCase name to lower_snake_case (<c>HTTPStatusCode</c> becomes <c>http_status_code</c>).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The snake_case name.</returns>
    public static string SnakeCase(string name) => NameCase.SnakeCase(name);
}

/// <summary>
/// How a record type maps to Parquet columns: the <see cref="Schema"/> plus one compiled accessor per column.
/// Immutable and safe to share between writers and threads; no reflection happens per row.
/// </summary>
/// <typeparam name="T">The record type.</typeparam>
public sealed class ParquetRecordMap<T>
{
    internal ParquetRecordMap(ParquetSchema schema, ColumnDefinition<T>[] columns)
    {
        Schema = schema;
        Columns = columns;
    }

    /// <summary>Gets the schema of the files written with this map.</summary>
    public ParquetSchema Schema { get; }

    internal ColumnDefinition<T>[] Columns { get; }
}

/// <summary>A top-level field plus how to create its binding (leaves and accessors) for one writer.</summary>
internal sealed class ColumnDefinition<T>
{
    public ColumnDefinition(ParquetField field, Func<WriterContext, List<LeafColumn>, ColumnBinding<T>> bind)
    {
        Field = field;
        Bind = bind;
    }

    public ParquetField Field { get; }

    public Func<WriterContext, List<LeafColumn>, ColumnBinding<T>> Bind { get; }
}
