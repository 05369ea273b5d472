using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.S3;

/// <summary>
/// The table a sink writes, for Athena and the Glue Data Catalog: columns, partition columns with partition
/// projection, location and storage. Renders the Athena <c>CREATE EXTERNAL TABLE</c> statement and the Glue
/// <c>CreateTable</c> request body.
/// </summary>
/// <remarks>
/// Partition projection is on: Athena computes partitions from the <c>projection.*</c> properties and
/// <c>storage.location.template</c>, so no crawler, <c>MSCK REPAIR TABLE</c> or <c>ALTER TABLE ADD PARTITION</c>
/// is needed, for Hive-style and Firehose-style keys alike. Names are lower case, as Glue stores them.
/// </remarks>
public sealed class DataLakeTable
{
    /// <summary>Creates a table description; names are validated and lower-cased.</summary>
    /// <param name="database">The Glue database.</param>
    /// <param name="name">The table name.</param>
    /// <param name="location">The table folder, such as <c>s3://bucket/lake/analytics/page_views/</c>, ending with <c>/</c>.</param>
    /// <param name="columns">The data columns.</param>
    /// <param name="partitionColumns">The partition columns, in key order.</param>
    /// <param name="storage">The storage.</param>
    /// <exception cref="ArgumentException">A name is invalid, or a partition column has the name of a data column.</exception>
    public DataLakeTable(string database, string name, string location, IReadOnlyList<TableColumn> columns, IReadOnlyList<PartitionColumn> partitionColumns, TableStorage storage)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(partitionColumns);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentException.ThrowIfNullOrEmpty(location);
        Database = ValidName(database, nameof(database));
        Name = ValidName(name, nameof(name));
        Location = location.EndsWith('/') ? location : location + "/";
        if (columns.Count == 0)
        {
            throw new ArgumentException("A table needs at least one data column.", nameof(columns));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var lowered = new List<TableColumn>(columns.Count);
        foreach (var column in columns)
        {
            string lower = column.Name.ToLowerInvariant();
            if (!names.Add(lower))
            {
                throw new ArgumentException($"Two columns are named '{lower}' once lower-cased, as Athena and Glue fold names; rename one.", nameof(columns));
            }

            lowered.Add(column with { Name = lower });
        }

        foreach (var partition in partitionColumns)
        {
            if (!names.Add(partition.Name))
            {
                throw new ArgumentException($"Partition column '{partition.Name}' has the name of a data column (or another partition column); Athena needs distinct names, so rename the partition or the field.", nameof(partitionColumns));
            }
        }

        Columns = lowered;
        PartitionColumns = partitionColumns;
        Storage = storage;
    }

    /// <summary>Gets the Glue database.</summary>
    public string Database { get; }

    /// <summary>Gets the table name.</summary>
    public string Name { get; }

    /// <summary>Gets the table folder, ending with <c>/</c>.</summary>
    public string Location { get; }

    /// <summary>Gets the data columns (lower case).</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>Gets the partition columns in key order.</summary>
    public IReadOnlyList<PartitionColumn> PartitionColumns { get; }

    /// <summary>Gets the storage description.</summary>
    public TableStorage Storage { get; }

    /// <summary>Gets the table properties: classification, compression and, for a partitioned table, partition projection.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Properties
    {
        get
        {
            var properties = new List<KeyValuePair<string, string>> { new("classification", Storage.Classification) };
            if (Storage.Compression is { } compression)
            {
                properties.Add(new("parquet.compression", compression));
            }

            if (PartitionColumns.Count > 0)
            {
                properties.Add(new("projection.enabled", "true"));
                foreach (var column in PartitionColumns)
                {
                    properties.AddRange(column.Projection.ToProperties(column.Name));
                }

                properties.Add(new("storage.location.template", LocationTemplate));
            }

            return properties;
        }
    }

    /// <summary>Gets the <c>storage.location.template</c>: the location followed by one <c>${column}</c> segment per partition column.</summary>
    public string LocationTemplate
    {
        get
        {
            var template = new StringBuilder(Location);
            foreach (var column in PartitionColumns)
            {
                template.Append(column.LocationSegment).Append('/');
            }

            return template.ToString();
        }
    }

    /// <summary>Returns the Athena <c>CREATE EXTERNAL TABLE IF NOT EXISTS</c> statement.</summary>
    /// <returns>The statement, without a trailing semicolon.</returns>
    public string ToAthenaDdl()
    {
        var ddl = new StringBuilder();
        ddl.Append(CultureInfo.InvariantCulture, $"CREATE EXTERNAL TABLE IF NOT EXISTS `{Database}`.`{Name}` (\n");
        AppendColumns(ddl, Columns);
        ddl.Append(")\n");
        if (PartitionColumns.Count > 0)
        {
            ddl.Append("PARTITIONED BY (\n");
            var partitions = new List<TableColumn>(PartitionColumns.Count);
            foreach (var column in PartitionColumns)
            {
                partitions.Add(new TableColumn(column.Name, column.AthenaType));
            }

            AppendColumns(ddl, partitions);
            ddl.Append(")\n");
        }

        if (Storage.Classification == "parquet")
        {
            ddl.Append("STORED AS PARQUET\n");
        }
        else
        {
            ddl.Append(CultureInfo.InvariantCulture, $"ROW FORMAT SERDE '{Storage.SerializationLibrary}'\n");
            if (Storage.SerDeParameters.Count > 0)
            {
                ddl.Append("WITH SERDEPROPERTIES (\n");
                AppendProperties(ddl, [.. Storage.SerDeParameters]);
                ddl.Append(")\n");
            }

            ddl.Append(CultureInfo.InvariantCulture, $"STORED AS INPUTFORMAT '{Storage.InputFormat}'\nOUTPUTFORMAT '{Storage.OutputFormat}'\n");
        }

        ddl.Append(CultureInfo.InvariantCulture, $"LOCATION '{Escape(Location)}'\n");
        ddl.Append("TBLPROPERTIES (\n");
        AppendProperties(ddl, Properties);
        ddl.Append(')');
        return ddl.ToString();
    }

    /// <summary>Returns the body of a Glue <c>CreateTable</c> request (<c>DatabaseName</c> and <c>TableInput</c>), for the AWS CLI (<c>--cli-input-json</c>) or an SDK.</summary>
    /// <returns>Indented JSON.</returns>
    public string ToGlueCreateTableJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("DatabaseName", Database);
            json.WriteStartObject("TableInput");
            json.WriteString("Name"u8, Name);
            json.WriteString("TableType", "EXTERNAL_TABLE");
            json.WriteStartObject("Parameters");
            json.WriteString("EXTERNAL", "TRUE");
            foreach (var (key, value) in Properties)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteStartArray("PartitionKeys");
            foreach (var column in PartitionColumns)
            {
                json.WriteStartObject();
                json.WriteString("Name"u8, column.Name);
                json.WriteString("Type", column.AthenaType);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("StorageDescriptor");
            json.WriteStartArray("Columns"u8);
            foreach (var column in Columns)
            {
                json.WriteStartObject();
                json.WriteString("Name"u8, column.Name);
                json.WriteString("Type", column.Type);
                if (column.Comment is not null)
                {
                    json.WriteString("Comment", column.Comment);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("Location"u8, Location);
            json.WriteString("InputFormat", Storage.InputFormat);
            json.WriteString("OutputFormat", Storage.OutputFormat);
            json.WriteBoolean("Compressed", false);
            json.WriteStartObject("SerdeInfo");
            json.WriteString("SerializationLibrary", Storage.SerializationLibrary);
            json.WriteStartObject("Parameters");
            foreach (var (key, value) in Storage.SerDeParameters)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteBoolean("StoredAsSubDirectories", false);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void AppendColumns(StringBuilder ddl, IReadOnlyList<TableColumn> columns)
    {
        for (int i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            ddl.Append(CultureInfo.InvariantCulture, $"  `{column.Name}` {column.Type}");
            if (column.Comment is not null)
            {
                ddl.Append(CultureInfo.InvariantCulture, $" COMMENT '{Escape(column.Comment)}'");
            }

            ddl.Append(i < columns.Count - 1 ? ",\n" : "\n");
        }
    }

    private static void AppendProperties(StringBuilder ddl, IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        for (int i = 0; i < properties.Count; i++)
        {
            ddl.Append(CultureInfo.InvariantCulture, $"  '{Escape(properties[i].Key)}'='{Escape(properties[i].Value)}'");
            ddl.Append(i < properties.Count - 1 ? ",\n" : "\n");
        }
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);

    private static string ValidName(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, parameter);
        string lower = name.ToLowerInvariant();
        if (lower.Length > 255 || !S3SinkOptions<int>.IsSqlName(lower))
        {
            throw new ArgumentException($"'{name}' is not a valid Glue/Athena name: use 1-255 letters, digits and underscores, starting with a letter or underscore.", parameter);
        }

        return lower;
    }
}
