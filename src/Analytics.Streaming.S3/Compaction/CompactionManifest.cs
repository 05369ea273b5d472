using System.Text.Json;

namespace Analytics.Streaming.S3;

/// <summary>
/// The manifest of one merge: the small objects it replaces, the merged objects it writes, and whether it is
/// committed. Stored as <c>{Prefix}{zone}/_compaction-manifests/{TableName}/{id}.json</c>,
/// <c>{"table":"…","state":"pending"|"committed","inputs":["…"],"outputs":["…"]}</c>.
/// </summary>
/// <remarks>
/// Written <c>pending</c> before the first byte of a merged object is stored, rewritten <c>committed</c> once every
/// merged object is stored (the commit point), deleted once every input is deleted. A pending manifest found later
/// means the merge was interrupted before its commit: its outputs are deleted and its inputs stay. A committed one
/// means it was interrupted after: its remaining inputs are deleted.
/// </remarks>
internal sealed record CompactionManifest(string Table, bool Committed, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    public const string Extension = ".json";

    public byte[] Format()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("table", Table);
            json.WriteString("state", Committed ? "committed" : "pending");
            WriteKeys(json, "inputs", Inputs);
            WriteKeys(json, "outputs", Outputs);
            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>Reads a manifest.</summary>
    /// <exception cref="InvalidDataException">The object is not a compaction manifest.</exception>
    public static CompactionManifest Parse(byte[] content, string location)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("state", out var state) && state.GetString() is "pending" or "committed"
                && root.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Array
                && root.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array)
            {
                string table = root.TryGetProperty("table", out var name) ? name.GetString() ?? string.Empty : string.Empty;
                return new CompactionManifest(table, state.GetString() == "committed", ReadKeys(inputs, location), ReadKeys(outputs, location));
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The compaction manifest {location} is not valid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidDataException($"The compaction manifest {location} holds a value of the wrong type.", ex);
        }

        throw new InvalidDataException($"The compaction manifest {location} lacks 'state', 'inputs' or 'outputs': it was not written by the compactor; move it out of the manifest folder.");
    }

    private static void WriteKeys(Utf8JsonWriter json, string name, IReadOnlyList<string> keys)
    {
        json.WriteStartArray(name);
        foreach (string key in keys)
        {
            json.WriteStringValue(key);
        }

        json.WriteEndArray();
    }

    private static List<string> ReadKeys(JsonElement array, string location)
    {
        var keys = new List<string>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            keys.Add(item.GetString() is { Length: > 0 } key ? key : throw new InvalidDataException($"The compaction manifest {location} lists an empty or non-string key."));
        }

        return keys;
    }
}
