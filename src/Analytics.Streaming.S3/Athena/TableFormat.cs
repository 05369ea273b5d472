namespace Analytics.Streaming.S3;

/// <summary>A format that can describe its objects as a Hive/Athena/Glue table: columns and storage.</summary>
public interface ITableFormat
{
    /// <summary>Gets the data columns (partition columns excluded) with their Athena types.</summary>
    IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>Gets the storage description (input/output formats, SerDe).</summary>
    TableStorage Storage { get; }
}

/// <summary>A table column and its Athena/Hive type, such as <c>bigint</c>, <c>decimal(18,2)</c> or <c>array&lt;string&gt;</c>.</summary>
/// <param name="Name">The column name; tables use it in lower case, as Glue stores it.</param>
/// <param name="Type">The Athena/Hive type.</param>
/// <param name="Comment">An optional comment.</param>
public sealed record TableColumn(string Name, string Type, string? Comment = null);

/// <summary>How a table's files are stored: Hive input/output formats, SerDe and its parameters, Glue classification.</summary>
/// <param name="Classification">The Glue <c>classification</c> parameter: <c>parquet</c> or <c>json</c>.</param>
/// <param name="InputFormat">The Hive input format class.</param>
/// <param name="OutputFormat">The Hive output format class.</param>
/// <param name="SerializationLibrary">The SerDe class.</param>
/// <param name="SerDeParameters">The SerDe parameters.</param>
/// <param name="Compression">The codec, for the <c>parquet.compression</c> property; <see langword="null"/> when not applicable.</param>
public sealed record TableStorage(
    string Classification,
    string InputFormat,
    string OutputFormat,
    string SerializationLibrary,
    IReadOnlyDictionary<string, string> SerDeParameters,
    string? Compression = null)
{
    /// <summary>Parquet files, as Athena's <c>STORED AS PARQUET</c> declares them.</summary>
    /// <param name="compression">The codec name, such as <c>SNAPPY</c>.</param>
    /// <returns>The storage.</returns>
    public static TableStorage Parquet(string compression) => new(
        "parquet",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        new Dictionary<string, string>(StringComparer.Ordinal) { ["serialization.format"] = "1" },
        compression);

    /// <summary>JSON lines read with the OpenX JSON SerDe (gzip objects are read transparently).</summary>
    /// <returns>The storage.</returns>
    public static TableStorage JsonLines() => new(
        "json",
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "org.openx.data.jsonserde.JsonSerDe",
        new Dictionary<string, string>(StringComparer.Ordinal) { ["ignore.malformed.json"] = "false" });
}
