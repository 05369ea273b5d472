using System.Collections.ObjectModel;

namespace Analytics.Streaming.Parquet;

/// <summary>The columns of a Parquet file, in order. Immutable and safe to share between writers and threads.</summary>
/// <remarks>
/// Build one explicitly from <see cref="ParquetField"/>s, or let a <see cref="ParquetRecordMap{T}"/> build it from
/// its column accessors. Column names must be unique (ordinal, case-insensitive, as Athena and Glue fold case).
/// </remarks>
public sealed class ParquetSchema
{
    /// <summary>Initializes a new instance of the <see cref="ParquetSchema"/> class.</summary>
    /// <param name="fields">The top-level fields, in file order; at least one.</param>
    /// <exception cref="ParquetSchemaException">No fields, or two fields whose names differ only in case.</exception>
    public ParquetSchema(params IEnumerable<ParquetField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var list = new List<ParquetField>(fields);
        if (list.Count == 0)
        {
            throw new ParquetSchemaException("A Parquet schema needs at least one field.");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in list)
        {
            ArgumentNullException.ThrowIfNull(field, nameof(fields));
            if (!names.Add(field.Name))
            {
                throw new ParquetSchemaException($"The schema has two fields named '{field.Name}' (names are compared ignoring case, as Athena and Glue do); rename one.");
            }
        }

        Fields = new ReadOnlyCollection<ParquetField>(list);
    }

    /// <summary>Gets the top-level fields in file order.</summary>
    public IReadOnlyList<ParquetField> Fields { get; }

    /// <summary>Gets the top-level field with the given name (ignoring case), or <see langword="null"/>.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The field, or <see langword="null"/>.</returns>
    public ParquetField? Find(string name)
    {
        foreach (var field in Fields)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return field;
            }
        }

        return null;
    }

    /// <summary>Returns one line per field.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => string.Join(Environment.NewLine, Fields);
}
