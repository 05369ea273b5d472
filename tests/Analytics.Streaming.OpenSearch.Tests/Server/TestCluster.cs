using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Analytics.Streaming.OpenSearch.Tests.Server;

/// <summary>A stored document.</summary>
public sealed record StoredDocument(string Index, string Id, long Version, long SeqNo, byte[] Source)
{
    public JsonElement Json => JsonSerializer.Deserialize<JsonElement>(Source);
}

/// <summary>What the server received: one request.</summary>
public sealed record ReceivedRequest(string Method, string Path, int BodyLength, int Actions, string? Authorization, string? ContentSha256, string? ContentType);

/// <summary>
/// The state of one tenant of the test server: its indices, templates, injected faults and the requests it received.
/// Each test gets its own, under its own path prefix, so tests run in parallel against one server.
/// </summary>
public sealed class TestCluster
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IndexState> _indices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _templates = new(StringComparer.Ordinal);
    private readonly List<ReceivedRequest> _requests = [];
    private readonly Queue<int> _requestFaults = new();
    private readonly List<ItemFault> _itemFaults = [];
    private long _seqNo;
    private Random? _random;
    private double _faultRate;

    public TestCluster(string id) => Id = id;

    public string Id { get; }

    /// <summary>Gets or sets the Authorization header every request must carry; <see langword="null"/> accepts any.</summary>
    public string? RequiredAuthorization { get; set; }

    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The next <paramref name="count"/> _bulk requests are refused as a whole with <paramref name="status"/>.</summary>
    public void RejectRequests(int count, int status = 429)
    {
        lock (_lock)
        {
            for (int i = 0; i < count; i++)
            {
                _requestFaults.Enqueue(status);
            }
        }
    }

    /// <summary>The next <paramref name="count"/> items whose id matches fail with <paramref name="status"/> (<c>int.MaxValue</c>: forever).</summary>
    public void FailItems(Func<string, bool> matches, int status, string type, string reason, int count = int.MaxValue)
    {
        lock (_lock)
        {
            _itemFaults.Add(new ItemFault(matches, status, type, reason, count));
        }
    }

    /// <summary>Every item fails with 429 or 503 with probability <paramref name="rate"/> (a seeded draw).</summary>
    public void FailRandomly(double rate, int seed)
    {
        lock (_lock)
        {
            _faultRate = rate;
            _random = new Random(seed);
        }
    }

    /// <summary>Every document of the indices that match <paramref name="pattern"/> (<c>*</c> wildcards), ordered by index and id.</summary>
    public List<StoredDocument> Documents(string pattern = "*")
    {
        lock (_lock)
        {
            var regex = Wildcard(pattern);
            return [.. _indices.Where(i => regex.IsMatch(i.Key)).SelectMany(i => i.Value.Documents.Values).OrderBy(d => d.Index, StringComparer.Ordinal).ThenBy(d => d.Id, StringComparer.Ordinal)];
        }
    }

    public IReadOnlyList<string> IndexNames()
    {
        lock (_lock)
        {
            return [.. _indices.Keys.Order(StringComparer.Ordinal)];
        }
    }

    internal void Record(ReceivedRequest request)
    {
        lock (_lock)
        {
            _requests.Add(request);
        }
    }

    internal int? TakeRequestFault()
    {
        lock (_lock)
        {
            return _requestFaults.TryDequeue(out int status) ? status : null;
        }
    }

    internal JsonObject? GetTemplate(string name)
    {
        lock (_lock)
        {
            return _templates.TryGetValue(name, out var template) ? template : null;
        }
    }

    /// <summary>Stores a template; throws <see cref="BulkParseException"/> for a body the server would refuse.</summary>
    internal void PutTemplate(string name, JsonObject body)
    {
        if (body["index_patterns"] is not (JsonArray or JsonValue))
        {
            throw new BulkParseException("action_request_validation_exception", "Validation Failed: 1: index patterns are missing;");
        }

        foreach (var (property, _) in body)
        {
            if (property is not ("index_patterns" or "template" or "priority" or "data_stream" or "composed_of" or "version" or "_meta"))
            {
                throw new BulkParseException("x_content_parse_exception", $"[1:2] [index_template] unknown field [{property}]");
            }
        }

        if (body["template"]?["mappings"]?["properties"] is JsonObject properties)
        {
            foreach (var (field, mapping) in properties)
            {
                string? type = mapping?["type"]?.GetValue<string>();
                if (type is not ("keyword" or "text" or "long" or "integer" or "double" or "float" or "boolean" or "date" or "object"))
                {
                    throw new BulkParseException("mapper_parsing_exception", $"No handler for type [{type}] declared on field [{field}]");
                }
            }
        }

        lock (_lock)
        {
            _templates[name] = body;
        }
    }

    /// <summary>Applies one bulk action and returns its item of the answer.</summary>
    internal JsonObject Apply(BulkAction action)
    {
        lock (_lock)
        {
            string index = action.Index!;
            string id = action.Id ?? Guid.NewGuid().ToString("N");
            var fault = TakeItemFault(id);
            if (fault is { } f)
            {
                return Error(action.Action, index, id, f.Status, f.Type, f.Reason);
            }

            var state = GetOrCreateIndex(index);
            state.Documents.TryGetValue(id, out var existing);
            if (state.DataStream && action.Action != "create")
            {
                return Error(action.Action, index, id, 400, "illegal_argument_exception", $"only write ops with an op_type of create are allowed in data streams");
            }

            switch (action.Action)
            {
                case "delete":
                    if (existing is null)
                    {
                        return Item(action.Action, index, id, 1, "not_found", 404);
                    }

                    if (Conflict(action, existing) is { } deleteConflict)
                    {
                        return Error(action.Action, index, id, 409, "version_conflict_engine_exception", deleteConflict);
                    }

                    state.Documents.Remove(id);
                    return Item(action.Action, index, id, action.Version ?? existing.Version + 1, "deleted", 200);

                case "create" when existing is not null:
                    return Error(action.Action, index, id, 409, "version_conflict_engine_exception", $"[{id}]: version conflict, document already exists (current version [{existing.Version}])");

                case "update":
                    if (existing is null)
                    {
                        return Error(action.Action, index, id, 404, "document_missing_exception", $"[{id}]: document missing");
                    }

                    var merged = JsonNode.Parse(existing.Source)!.AsObject();
                    if (JsonNode.Parse(action.Source!)!["doc"] is JsonObject doc)
                    {
                        foreach (var (name, value) in doc)
                        {
                            merged[name] = value?.DeepClone();
                        }
                    }

                    return Store(state, action, index, id, existing, JsonSerializer.SerializeToUtf8Bytes(merged));
            }

            if (existing is not null && Conflict(action, existing) is { } conflict)
            {
                return Error(action.Action, index, id, 409, "version_conflict_engine_exception", conflict);
            }

            return Store(state, action, index, id, existing, action.Source!);
        }
    }

    private static string? Conflict(BulkAction action, StoredDocument existing) => action.VersionType switch
    {
        "external" when action.Version <= existing.Version => $"[{existing.Id}]: version conflict, current version [{existing.Version}] is higher or equal to the one provided [{action.Version}]",
        "external_gte" when action.Version < existing.Version => $"[{existing.Id}]: version conflict, current version [{existing.Version}] is higher than the one provided [{action.Version}]",
        _ when action.IfSeqNo is { } seqNo && seqNo != existing.SeqNo => $"[{existing.Id}]: version conflict, required seqNo [{seqNo}], current document has seqNo [{existing.SeqNo}]",
        _ => null,
    };

    private JsonObject Store(IndexState state, BulkAction action, string index, string id, StoredDocument? existing, byte[] source)
    {
        if (Validate(state, source, id) is { } problem)
        {
            return Error(action.Action, index, id, 400, problem.Type, problem.Reason);
        }

        long version = action.VersionType is "external" or "external_gte" ? action.Version!.Value : (existing?.Version ?? 0) + 1;
        var stored = new StoredDocument(index, id, version, _seqNo++, source);
        state.Documents[id] = stored;
        return Item(action.Action, index, id, version, existing is null ? "created" : "updated", existing is null ? 201 : 200, stored.SeqNo);
    }

    /// <summary>Checks a document against the index's mappings, adding dynamic mappings as OpenSearch does.</summary>
    private static (string Type, string Reason)? Validate(IndexState state, byte[] source, string id)
    {
        using var document = JsonDocument.Parse(source);
        if (state.DataStream && !document.RootElement.TryGetProperty("@timestamp", out _))
        {
            return ("illegal_argument_exception", "data stream timestamp field [@timestamp] is missing");
        }

        var added = new Dictionary<string, string>();
        foreach (var field in document.RootElement.EnumerateObject())
        {
            if (!state.Mappings.TryGetValue(field.Name, out string? type) && !added.TryGetValue(field.Name, out type))
            {
                if (state.Strict)
                {
                    return ("strict_dynamic_mapping_exception", $"mapping set to strict, dynamic introduction of [{field.Name}] within [_doc] is not allowed");
                }

                added[field.Name] = Infer(field.Value);
                continue;
            }

            if (!Fits(type, field.Value))
            {
                string preview = field.Value.GetRawText();
                return ("mapper_parsing_exception", $"failed to parse field [{field.Name}] of type [{type}] in document with id '{id}'. Preview of field's value: '{preview}'");
            }
        }

        foreach (var (name, type) in added)
        {
            state.Mappings[name] = type;
        }

        return null;
    }

    private static string Infer(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String when DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _) && value.GetString()!.Contains('T', StringComparison.Ordinal) => "date",
        JsonValueKind.String => "text",
        JsonValueKind.Number when value.TryGetInt64(out _) => "long",
        JsonValueKind.Number => "float",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "object",
    };

    private static bool Fits(string type, JsonElement value) => value.ValueKind == JsonValueKind.Null || type switch
    {
        "keyword" or "text" => value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False,
        "long" or "integer" => (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && Math.Abs(d) <= long.MaxValue)
            || (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _)),
        "double" or "float" => value.ValueKind == JsonValueKind.Number
            || (value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False || (value.ValueKind == JsonValueKind.String && value.GetString() is "true" or "false"),
        "date" => (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _))
            || (value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _)),
        "object" => value.ValueKind == JsonValueKind.Object,
        _ => true,
    };

    private IndexState GetOrCreateIndex(string index)
    {
        if (_indices.TryGetValue(index, out var state))
        {
            return state;
        }

        state = new IndexState();
        var template = _templates
            .Where(t => Patterns(t.Value).Any(p => Wildcard(p).IsMatch(index)))
            .OrderByDescending(t => t.Value["priority"]?.GetValue<int>() ?? 0)
            .Select(t => t.Value)
            .FirstOrDefault();
        if (template is not null)
        {
            state.DataStream = template["data_stream"] is JsonObject;
            state.Strict = template["template"]?["mappings"]?["dynamic"]?.GetValue<string>() == "strict";
            if (template["template"]?["mappings"]?["properties"] is JsonObject properties)
            {
                foreach (var (field, mapping) in properties)
                {
                    state.Mappings[field] = mapping!["type"]!.GetValue<string>();
                }
            }
        }

        _indices[index] = state;
        return state;
    }

    private static IEnumerable<string> Patterns(JsonObject template) => template["index_patterns"] switch
    {
        JsonArray array => array.Select(p => p!.GetValue<string>()),
        JsonValue value => [value.GetValue<string>()],
        _ => [],
    };

    internal static Regex Wildcard(string pattern) => new("^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant);

    private ItemFault? TakeItemFault(string id)
    {
        for (int i = 0; i < _itemFaults.Count; i++)
        {
            var fault = _itemFaults[i];
            if (fault.Matches(id))
            {
                if (fault.Remaining != int.MaxValue)
                {
                    fault.Remaining--;
                    if (fault.Remaining == 0)
                    {
                        _itemFaults.RemoveAt(i);
                    }
                }

                return fault;
            }
        }

        if (_random is not null && _random.NextDouble() < _faultRate)
        {
            return _random.Next(2) == 0
                ? new ItemFault(_ => true, 429, "es_rejected_execution_exception", "rejected execution of coordinating operation", 1)
                : new ItemFault(_ => true, 503, "unavailable_shards_exception", "primary shard is not active", 1);
        }

        return null;
    }

    private static JsonObject Item(string action, string index, string id, long version, string result, int status, long seqNo = 0) => new()
    {
        [action] = new JsonObject
        {
            ["_index"] = index,
            ["_id"] = id,
            ["_version"] = version,
            ["result"] = result,
            ["_shards"] = new JsonObject { ["total"] = 2, ["successful"] = 1, ["failed"] = 0 },
            ["_seq_no"] = seqNo,
            ["_primary_term"] = 1,
            ["status"] = status,
        },
    };

    private static JsonObject Error(string action, string index, string id, int status, string type, string reason) => new()
    {
        [action] = new JsonObject
        {
            ["_index"] = index,
            ["_id"] = id,
            ["status"] = status,
            ["error"] = new JsonObject { ["type"] = type, ["reason"] = reason, ["index"] = index, ["shard"] = "0", ["index_uuid"] = "aAsFqTI0Tc2W0LCWgPNrOA" },
        },
    };

    private sealed class IndexState
    {
        public Dictionary<string, StoredDocument> Documents { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Mappings { get; } = new(StringComparer.Ordinal);

        public bool DataStream { get; set; }

        public bool Strict { get; set; }
    }

    private sealed class ItemFault(Func<string, bool> matches, int status, string type, string reason, int remaining)
    {
        public Func<string, bool> Matches { get; } = matches;

        public int Status { get; } = status;

        public string Type { get; } = type;

        public string Reason { get; } = reason;

        public int Remaining { get; set; } = remaining;
    }
}
