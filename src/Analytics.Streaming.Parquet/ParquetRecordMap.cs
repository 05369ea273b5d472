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
