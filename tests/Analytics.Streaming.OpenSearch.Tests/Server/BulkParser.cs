using System.Text;
using System.Text.Json;

namespace Analytics.Streaming.OpenSearch.Tests.Server;

/// <summary>One action of a <c>_bulk</c> body, as parsed.</summary>
public sealed record BulkAction(string Action, string? Index, string? Id, long? Version, string? VersionType, long? IfSeqNo, long? IfPrimaryTerm, byte[]? Source);

/// <summary>The body is not a valid <c>_bulk</c> body; the server answers 400 with <see cref="ErrorType"/> and the message.</summary>
public sealed class BulkParseException(string errorType, string message) : Exception(message)
{
    public string ErrorType { get; } = errorType;
}

/// <summary>
/// A strict parser of <c>_bulk</c> NDJSON bodies, after the OpenSearch bulk API documentation: every line, the last
/// included, ends in <c>\n</c>; an action line is one JSON object with exactly one key, <c>index</c>, <c>create</c>,
/// <c>update</c> or <c>delete</c>, whose value holds only known metadata fields of the right types; <c>index</c>,
/// <c>create</c> and <c>update</c> are followed by a source line holding one JSON object; every line is one valid JSON
/// value with no duplicate keys, no comments, no trailing commas and no line breaks inside.
/// </summary>
public static class BulkParser
{
    private static readonly HashSet<string> Actions = ["index", "create", "update", "delete"];

    private static readonly Dictionary<string, JsonValueKind[]> Metadata = new()
    {
        ["_index"] = [JsonValueKind.String],
        ["_id"] = [JsonValueKind.String],
        ["routing"] = [JsonValueKind.String],
        ["version"] = [JsonValueKind.Number],
        ["version_type"] = [JsonValueKind.String],
        ["if_seq_no"] = [JsonValueKind.Number],
        ["if_primary_term"] = [JsonValueKind.Number],
        ["require_alias"] = [JsonValueKind.True, JsonValueKind.False],
        ["pipeline"] = [JsonValueKind.String],
        ["retry_on_conflict"] = [JsonValueKind.Number],
        ["dynamic_templates"] = [JsonValueKind.Object],
        ["_source"] = [JsonValueKind.True, JsonValueKind.False, JsonValueKind.Object, JsonValueKind.Array, JsonValueKind.String],
    };

    public static List<BulkAction> Parse(ReadOnlySpan<byte> body, string? pathIndex)
    {
        if (body.IsEmpty)
        {
            throw new BulkParseException("action_request_validation_exception", "Validation Failed: 1: no requests added;");
        }

        if (body[^1] != (byte)'\n')
        {
            throw new BulkParseException("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");
        }

        var actions = new List<BulkAction>();
        int line = 0;
        int position = 0;
        while (position < body.Length)
        {
            int end = body[position..].IndexOf((byte)'\n') + position;
            var actionLine = body[position..end];
            line++;
            position = end + 1;
            var (action, meta) = ReadAction(actionLine, line);
            byte[]? source = null;
            if (action != "delete")
            {
                if (position >= body.Length)
                {
                    throw new BulkParseException("action_request_validation_exception", $"Validation Failed: 1: source is missing for the {action} action on line [{line}];");
                }

                end = body[position..].IndexOf((byte)'\n') + position;
                var sourceLine = body[position..end];
                line++;
                position = end + 1;
                source = ReadSource(sourceLine, line, action);
            }

            string? index = Get(meta, "_index") ?? pathIndex;
            if (index is null)
            {
                throw new BulkParseException("action_request_validation_exception", $"Validation Failed: 1: index is missing on line [{line}];");
            }

            string? id = Get(meta, "_id");
            if (id is not null && (id.Length == 0 || Encoding.UTF8.GetByteCount(id) > 512))
            {
                throw new BulkParseException("action_request_validation_exception", $"Validation Failed: 1: id [{id}] is too long or empty, must be 1 to 512 bytes;");
            }

            if (id is null && action is "update" or "delete")
            {
                throw new BulkParseException("action_request_validation_exception", $"Validation Failed: 1: id is missing for the {action} action on line [{line}];");
            }

            string? versionType = Get(meta, "version_type");
            if (versionType is not null and not ("internal" or "external" or "external_gte"))
            {
                throw new BulkParseException("illegal_argument_exception", $"No version type match [{versionType}]");
            }

            long? version = GetLong(meta, "version", line);
            if (versionType is "external" or "external_gte")
            {
                if (version is null)
                {
                    throw new BulkParseException("action_request_validation_exception", "Validation Failed: 1: an external version is required;");
                }

                if (action is "create" or "update")
                {
                    throw new BulkParseException("action_request_validation_exception", $"Validation Failed: 1: {action} operations only support internal versioning. use index instead;");
                }
            }
            else if (version is not null)
            {
                throw new BulkParseException("action_request_validation_exception", "Validation Failed: 1: internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead;");
            }

            if (meta.ContainsKey("retry_on_conflict") && action != "update")
            {
                throw new BulkParseException("illegal_argument_exception", $"Action/metadata line [{line - (source is null ? 0 : 1)}] contains an unknown parameter [retry_on_conflict]");
            }

            actions.Add(new BulkAction(action, index, id, version, versionType, GetLong(meta, "if_seq_no", line), GetLong(meta, "if_primary_term", line), source));
        }

        return actions;
    }

    /// <summary>Checks that a line is exactly one JSON value: no duplicate keys at any depth, no comments, no trailing commas, nothing after it.</summary>
    public static JsonDocument ParseLine(ReadOnlySpan<byte> line, int number)
    {
        if (line.IndexOf((byte)'\r') >= 0)
        {
            throw new BulkParseException("x_content_parse_exception", $"[{number}:1] line {number} holds a carriage return");
        }

        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
            var names = new Stack<HashSet<string>>();
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        names.Push([]);
                        break;
                    case JsonTokenType.EndObject:
                        names.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        string name = reader.GetString()!;
                        if (!names.Peek().Add(name))
                        {
                            throw new BulkParseException("x_content_parse_exception", $"[{number}:1] Duplicate field '{name}'");
                        }

                        break;
                }
            }

            var copy = new Utf8JsonReader(line);
            return JsonDocument.ParseValue(ref copy);
        }
        catch (JsonException exception)
        {
            throw new BulkParseException("x_content_parse_exception", $"[{number}:1] line {number} is not valid JSON: {exception.Message}");
        }
    }

    private static (string Action, Dictionary<string, JsonElement> Meta) ReadAction(ReadOnlySpan<byte> line, int number)
    {
        using var document = ParseLine(line, number);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new BulkParseException("illegal_argument_exception", $"Malformed action/metadata line [{number}], expected START_OBJECT but found [{root.ValueKind}]");
        }

        var properties = root.EnumerateObject().ToList();
        if (properties.Count != 1)
        {
            throw new BulkParseException("illegal_argument_exception", $"Malformed action/metadata line [{number}], expected one action but found {properties.Count}");
        }

        string action = properties[0].Name;
        if (!Actions.Contains(action))
        {
            throw new BulkParseException("illegal_argument_exception", $"Malformed action/metadata line [{number}], expected field [create], [delete], [index] or [update] but found [{action}]");
        }

        if (properties[0].Value.ValueKind != JsonValueKind.Object)
        {
            throw new BulkParseException("illegal_argument_exception", $"Malformed action/metadata line [{number}], expected START_OBJECT but found [{properties[0].Value.ValueKind}]");
        }

        var meta = new Dictionary<string, JsonElement>();
        foreach (var field in properties[0].Value.EnumerateObject())
        {
            if (!Metadata.TryGetValue(field.Name, out var kinds))
            {
                throw new BulkParseException("illegal_argument_exception", $"Action/metadata line [{number}] contains an unknown parameter [{field.Name}]");
            }

            if (!kinds.Contains(field.Value.ValueKind))
            {
                throw new BulkParseException("illegal_argument_exception", $"Malformed action/metadata line [{number}], field [{field.Name}] has the wrong type [{field.Value.ValueKind}]");
            }

            meta[field.Name] = field.Value.Clone();
        }

        return (action, meta);
    }

    private static byte[] ReadSource(ReadOnlySpan<byte> line, int number, string action)
    {
        using var document = ParseLine(line, number);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new BulkParseException("mapper_parsing_exception", $"failed to parse: the source of the {action} action on line [{number}] is not an object");
        }

        return line.ToArray();
    }

    private static string? Get(Dictionary<string, JsonElement> meta, string name) => meta.TryGetValue(name, out var value) ? value.GetString() : null;

    private static long? GetLong(Dictionary<string, JsonElement> meta, string name, int line)
    {
        if (!meta.TryGetValue(name, out var value))
        {
            return null;
        }

        if (!value.TryGetInt64(out long number) || number < 0)
        {
            throw new BulkParseException("illegal_argument_exception", $"Malformed action/metadata line [{line}], [{name}] must be a non-negative long; got {value.GetRawText()}");
        }

        return number;
    }
}
