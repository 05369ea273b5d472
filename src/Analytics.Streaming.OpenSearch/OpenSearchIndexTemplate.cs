using System.Buffers;
using System.Text.Json;

namespace Analytics.Streaming.OpenSearch;

/// <summary>Settings of a composable index template made by <see cref="OpenSearchIndexTemplate.Create{T}"/>.</summary>
public sealed class OpenSearchIndexTemplateOptions
{
    /// <summary>Gets or sets the template's priority (the highest matching template wins). Default 100.</summary>
    public int Priority { get; set; } = 100;

    /// <summary>Gets or sets the number of primary shards of new indices; <see langword="null"/> (default) leaves the cluster's default.</summary>
    public int? NumberOfShards { get; set; }

    /// <summary>Gets or sets the number of replicas of new indices; <see langword="null"/> (default) leaves the cluster's default.</summary>
    public int? NumberOfReplicas { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether matching names become data streams (<c>"data_stream": {}</c>): append-only,
    /// written with <see cref="OpenSearchOpType.Create"/>, every document carrying a <c>@timestamp</c> date field. Default <see langword="false"/>.
    /// </summary>
    public bool DataStream { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether fields outside the map are refused (<c>"dynamic": "strict"</c>): a document
    /// with another field is refused with 400 and goes to the dead letters. Default <see langword="false"/>: such fields are
    /// mapped dynamically.
    /// </summary>
    public bool StrictMapping { get; set; }
}

/// <summary>Makes composable index templates (<c>PUT _index_template/{name}</c>) whose mappings follow a document map: keyword keys, date windows, numeric values.</summary>
public static class OpenSearchIndexTemplate
{
    /// <summary>Creates the body of an index template for the documents of <paramref name="map"/>.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="map">The document map; each field becomes a mapping of its type (<c>keyword</c>, <c>text</c>, <c>long</c>, <c>double</c>, <c>boolean</c>, <c>date</c>, <c>object</c>).</param>
    /// <param name="indexPatterns">The index patterns it applies to, such as <see cref="OpenSearchIndex{T}.Pattern"/> (<c>page-views-*</c>).</param>
    /// <param name="options">Priority, shards, replicas, data stream, strict mapping; defaults when <see langword="null"/>.</param>
    /// <returns>The template as UTF-8 JSON.</returns>
    /// <exception cref="ArgumentException">No pattern was given, or a data stream's map has no <c>@timestamp</c> date field.</exception>
    public static byte[] Create<T>(OpenSearchDocumentMap<T> map, IReadOnlyList<string> indexPatterns, OpenSearchIndexTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(indexPatterns);
        if (indexPatterns.Count == 0)
        {
            throw new ArgumentException("An index template needs at least one index pattern.", nameof(indexPatterns));
        }

        options ??= new OpenSearchIndexTemplateOptions();
        if (options.DataStream && !map.Fields.Any(static f => f.Name == "@timestamp" && f.Type == OpenSearchFieldType.Date))
        {
            throw new ArgumentException("A data stream's documents need a '@timestamp' date field: add .Date(\"@timestamp\", ...) to the map.", nameof(map));
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("index_patterns");
            foreach (string pattern in indexPatterns)
            {
                json.WriteStringValue(pattern);
            }

            json.WriteEndArray();
            if (options.DataStream)
            {
                json.WriteStartObject("data_stream");
                json.WriteEndObject();
            }

            json.WriteNumber("priority", options.Priority);
            json.WriteStartObject("template");
            if (options.NumberOfShards is not null || options.NumberOfReplicas is not null)
            {
                json.WriteStartObject("settings");
                if (options.NumberOfShards is { } shards)
                {
                    json.WriteNumber("number_of_shards", shards);
                }

                if (options.NumberOfReplicas is { } replicas)
                {
                    json.WriteNumber("number_of_replicas", replicas);
                }

                json.WriteEndObject();
            }

            json.WriteStartObject("mappings");
            if (options.StrictMapping)
            {
                json.WriteString("dynamic", "strict");
            }

            json.WriteStartObject("properties");
            foreach (var field in map.Fields)
            {
                json.WriteStartObject(field.Name);
                json.WriteString("type", TypeName(field.Type));
                if (field.Type == OpenSearchFieldType.Date)
                {
                    json.WriteString("format", "strict_date_optional_time||epoch_millis");
                }
                else if (field.Type == OpenSearchFieldType.Object)
                {
                    json.WriteBoolean("dynamic", true);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The mapping type name of a field type.</summary>
    /// <param name="type">The field type.</param>
    /// <returns><c>keyword</c>, <c>text</c>, <c>long</c>, <c>double</c>, <c>boolean</c>, <c>date</c> or <c>object</c>.</returns>
    public static string TypeName(OpenSearchFieldType type) => type switch
    {
        OpenSearchFieldType.Keyword => "keyword",
        OpenSearchFieldType.Text => "text",
        OpenSearchFieldType.Long => "long",
        OpenSearchFieldType.Double => "double",
        OpenSearchFieldType.Boolean => "boolean",
        OpenSearchFieldType.Date => "date",
        OpenSearchFieldType.Object => "object",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown field type."),
    };
}
