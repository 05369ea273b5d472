using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Analytics.Streaming.OpenSearch.Tests.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: AssemblyFixture(typeof(OpenSearchTestServer))]

namespace Analytics.Streaming.OpenSearch.Tests.Server;

/// <summary>
/// A stand-in for an OpenSearch cluster on 127.0.0.1 (Kestrel, a free port), started once per test run. It answers the
/// documented <c>_bulk</c>, document, search and <c>_index_template</c> APIs; see README.md for what it checks. Each
/// test makes its own <see cref="TestCluster"/> (<see cref="CreateCluster"/>), served under <c>/t/{id}/</c>.
/// </summary>
public sealed class OpenSearchTestServer : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, TestCluster> _clusters = new(StringComparer.Ordinal);
    private WebApplication? _app;
    private int _next;

    public Uri BaseAddress { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 200 * 1024 * 1024;
        });
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>Creates an empty cluster with its own indices, templates and faults.</summary>
    public (TestCluster Cluster, Uri Endpoint) CreateCluster()
    {
        string id = "c" + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var cluster = new TestCluster(id);
        _clusters[id] = cluster;
        return (cluster, new Uri(BaseAddress, $"t/{id}/"));
    }

    private async Task HandleAsync(HttpContext context)
    {
        // Kestrel decodes the path except %2F: split on '/', then decode each segment (ids hold '/' and '|').
        var segments = (context.Request.Path.Value ?? "/").Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length < 2 || segments[0] != "t" || !_clusters.TryGetValue(segments[1], out var cluster))
        {
            await WriteAsync(context, 404, ErrorBody("resource_not_found_exception", "no such test cluster", 404));
            return;
        }

        string[] path = segments[2..];
        string? contentType = context.Request.ContentType;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        byte[] body = buffer.ToArray();
        string? authorization = context.Request.Headers.Authorization.FirstOrDefault();
        string? sha = context.Request.Headers["x-amz-content-sha256"].FirstOrDefault();
        int actions = 0;
        try
        {
            if (cluster.RequiredAuthorization is { } required && authorization != required)
            {
                await WriteAsync(context, 401, ErrorBody("security_exception", "missing authentication credentials for REST request", 401));
                return;
            }

            string method = context.Request.Method;
            var (status, answer, count) = Route(cluster, method, path, context, body, contentType);
            actions = count;
            await WriteAsync(context, status, answer);
        }
        catch (BulkParseException exception)
        {
            await WriteAsync(context, 400, ErrorBody(exception.ErrorType, exception.Message, 400));
        }
        finally
        {
            cluster.Record(new ReceivedRequest(context.Request.Method, "/" + string.Join('/', path), body.Length, actions, authorization, sha, contentType));
        }
    }

    private static (int Status, JsonNode Body, int Actions) Route(TestCluster cluster, string method, string[] path, HttpContext context, byte[] body, string? contentType)
    {
        switch (path)
        {
            case ["_bulk"] or [_, "_bulk"] when method is "POST" or "PUT":
                return Bulk(cluster, path.Length == 2 ? path[0] : null, context, body, contentType);
            case ["_index_template", var name] when method == "PUT":
                cluster.PutTemplate(name, ParseObject(body));
                return (200, new JsonObject { ["acknowledged"] = true }, 0);
            case ["_index_template", var name] when method == "GET":
                return cluster.GetTemplate(name) is { } template
                    ? (200, new JsonObject { ["index_templates"] = new JsonArray(new JsonObject { ["name"] = name, ["index_template"] = template.DeepClone() }) }, 0)
                    : (404, ErrorBody("resource_not_found_exception", $"index template matching [{name}] not found", 404), 0);
            case [var index, "_doc", var id] when method is "PUT" or "POST":
                var item = cluster.Apply(new BulkAction("index", index, id, null, null, null, null, ParseObjectBytes(body)));
                var result = item["index"]!.AsObject();
                return (result["status"]!.GetValue<int>(), result.DeepClone(), 1);
            case [var index, "_doc", var id] when method == "GET":
                var found = cluster.Documents(index).FirstOrDefault(d => d.Id == id);
                return found is null
                    ? (404, new JsonObject { ["_index"] = index, ["_id"] = id, ["found"] = false }, 0)
                    : (200, new JsonObject { ["_index"] = found.Index, ["_id"] = found.Id, ["_version"] = found.Version, ["_seq_no"] = found.SeqNo, ["_primary_term"] = 1, ["found"] = true, ["_source"] = JsonNode.Parse(found.Source) }, 0);
            case [var index, "_search"] when method is "GET" or "POST":
                return (200, Search(cluster, index, body), 0);
            case [_, "_refresh"] or ["_refresh"]:
                return (200, new JsonObject { ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["failed"] = 0 } }, 0);
            default:
                return (405, ErrorBody("illegal_argument_exception", $"Incorrect HTTP method for uri [/{string.Join('/', path)}] and method [{method}]", 405), 0);
        }
    }

    private static (int, JsonNode, int) Bulk(TestCluster cluster, string? pathIndex, HttpContext context, byte[] body, string? contentType)
    {
        string mediaType = contentType?.Split(';')[0].Trim() ?? string.Empty;
        if (mediaType is not ("application/x-ndjson" or "application/json"))
        {
            return (406, ErrorBody("illegal_argument_exception", $"Content-Type header [{contentType}] is not supported", 406), 0);
        }

        // Stricter than a real cluster, which takes chunked bodies: the sink must send a length (the AWS guidance for _bulk).
        if (context.Request.ContentLength is null)
        {
            return (411, ErrorBody("illegal_argument_exception", "the _bulk request has no Content-Length (chunked transfer encoding)", 411), 0);
        }

        var actions = BulkParser.Parse(body, pathIndex);
        if (cluster.TakeRequestFault() is { } status)
        {
            return (status, ErrorBody(status == 429 ? "es_rejected_execution_exception" : "unavailable_shards_exception", status == 429 ? "rejected execution of coordinating operation" : "no shard available", status), actions.Count);
        }

        var items = new JsonArray();
        bool errors = false;
        foreach (var action in actions)
        {
            var item = cluster.Apply(action);
            errors |= item.First().Value!["error"] is not null;
            items.Add(item);
        }

        return (200, new JsonObject { ["took"] = 3, ["errors"] = errors, ["items"] = items }, actions.Count);
    }

    private static JsonObject Search(TestCluster cluster, string index, byte[] body)
    {
        var documents = cluster.Documents(index);
        int size = 10;
        if (body.Length > 0)
        {
            var request = ParseObject(body);
            size = request["size"]?.GetValue<int>() ?? 10;
            if (request["query"]?["ids"]?["values"] is JsonArray ids)
            {
                var wanted = ids.Select(v => v!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                documents = [.. documents.Where(d => wanted.Contains(d.Id))];
            }
            else if (request["query"] is JsonObject query && query["match_all"] is null)
            {
                throw new BulkParseException("parsing_exception", "the test server answers ids and match_all queries only");
            }
        }

        var hits = new JsonArray();
        foreach (var document in documents.Take(size))
        {
            hits.Add(new JsonObject { ["_index"] = document.Index, ["_id"] = document.Id, ["_score"] = 1.0, ["_source"] = JsonNode.Parse(document.Source) });
        }

        return new JsonObject
        {
            ["took"] = 1,
            ["timed_out"] = false,
            ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 },
            ["hits"] = new JsonObject { ["total"] = new JsonObject { ["value"] = documents.Count, ["relation"] = "eq" }, ["max_score"] = 1.0, ["hits"] = hits },
        };
    }

    private static JsonObject ParseObject(byte[] body)
    {
        using var document = BulkParser.ParseLine(body.AsSpan().TrimEnd((byte)'\n'), 1);
        return JsonNode.Parse(body)?.AsObject() ?? throw new BulkParseException("parse_exception", "request body is required");
    }

    private static byte[] ParseObjectBytes(byte[] body)
    {
        ParseObject(body);
        return body;
    }

    private static JsonObject ErrorBody(string type, string reason, int status) => new()
    {
        ["error"] = new JsonObject
        {
            ["root_cause"] = new JsonArray(new JsonObject { ["type"] = type, ["reason"] = reason }),
            ["type"] = type,
            ["reason"] = reason,
        },
        ["status"] = status,
    };

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body));
    }
}
