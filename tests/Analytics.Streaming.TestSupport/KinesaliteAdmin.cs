using System.Globalization;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;

namespace Analytics.Streaming.TestSupport;

/// <summary>
/// The control-plane calls the Kinesis tests need from an emulator (kinesalite or kinesis-local) that the library's
/// client does not offer: create streams, split and merge shards, change the shard count, and a raw PutRecord that
/// does not depend on the producer under test.
/// </summary>
/// <remarks>
/// Requests carry a well-formed but unverified SigV4 <c>Authorization</c> header: neither emulator checks signatures,
/// both want the header present. Thread-safe.
/// </remarks>
public sealed class KinesisEmulatorAdmin : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Creates an admin client for the emulator at <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">The emulator's plain HTTP endpoint, such as <c>http://127.0.0.1:4567</c>.</param>
    public KinesisEmulatorAdmin(Uri endpoint)
    {
        _http = new HttpClient { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Creates a stream and waits until it is ACTIVE.</summary>
    /// <param name="streamName">The stream name.</param>
    /// <param name="shardCount">The number of shards.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the stream is ACTIVE.</returns>
    public async Task CreateStreamAsync(string streamName, int shardCount, CancellationToken cancellationToken = default)
    {
        await CallAsync("CreateStream", new JsonObject { ["StreamName"] = streamName, ["ShardCount"] = shardCount }, cancellationToken);
        await WaitForActiveAsync(streamName, cancellationToken);
    }

    /// <summary>Waits until the stream's status is ACTIVE (after create, split, merge or a shard count update).</summary>
    /// <param name="streamName">The stream name.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the stream is ACTIVE.</returns>
    public async Task WaitForActiveAsync(string streamName, CancellationToken cancellationToken = default)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            var summary = await CallAsync("DescribeStreamSummary", new JsonObject { ["StreamName"] = streamName }, cancellationToken);
            if ((string?)summary["StreamDescriptionSummary"]?["StreamStatus"] == "ACTIVE")
            {
                return;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Stream {streamName} did not become ACTIVE within 30 s.");
            }

            await Task.Delay(25, cancellationToken);
        }
    }

    /// <summary>Splits a shard in the middle of its hash key range and waits until the stream is ACTIVE again.</summary>
    /// <param name="streamName">The stream name.</param>
    /// <param name="shardId">The shard to split.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the stream is ACTIVE.</returns>
    public async Task SplitShardInHalfAsync(string streamName, string shardId, CancellationToken cancellationToken = default)
    {
        var shards = await ListShardsAsync(streamName, cancellationToken);
        var shard = shards.Single(s => s.ShardId == shardId);
        var middle = (shard.StartingHashKey + shard.EndingHashKey) / 2;
        await CallAsync(
            "SplitShard",
            new JsonObject
            {
                ["StreamName"] = streamName,
                ["ShardToSplit"] = shardId,
                ["NewStartingHashKey"] = (middle + 1).ToString(CultureInfo.InvariantCulture),
            },
            cancellationToken);
        await WaitForActiveAsync(streamName, cancellationToken);
    }

    /// <summary>Merges two adjacent shards and waits until the stream is ACTIVE again.</summary>
    /// <param name="streamName">The stream name.</param>
    /// <param name="shardId">The shard with the lower hash key range.</param>
    /// <param name="adjacentShardId">The shard right above it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the stream is ACTIVE.</returns>
    public async Task MergeShardsAsync(string streamName, string shardId, string adjacentShardId, CancellationToken cancellationToken = default)
    {
        await CallAsync(
            "MergeShards",
            new JsonObject { ["StreamName"] = streamName, ["ShardToMerge"] = shardId, ["AdjacentShardToMerge"] = adjacentShardId },
            cancellationToken);
        await WaitForActiveAsync(streamName, cancellationToken);
    }

    /// <summary>Lists every shard of a stream (all pages).</summary>
    /// <param name="streamName">The stream name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The shards in the order the emulator lists them.</returns>
    public async Task<IReadOnlyList<EmulatorShard>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default)
    {
        var shards = new List<EmulatorShard>();
        string? token = null;
        do
        {
            var request = token is null ? new JsonObject { ["StreamName"] = streamName } : new JsonObject { ["NextToken"] = token };
            var response = await CallAsync("ListShards", request, cancellationToken);
            foreach (var shard in response["Shards"]!.AsArray())
            {
                shards.Add(new EmulatorShard(
                    (string)shard!["ShardId"]!,
                    (string?)shard["ParentShardId"],
                    (string?)shard["AdjacentParentShardId"],
                    BigInteger.Parse((string)shard["HashKeyRange"]!["StartingHashKey"]!, CultureInfo.InvariantCulture),
                    BigInteger.Parse((string)shard["HashKeyRange"]!["EndingHashKey"]!, CultureInfo.InvariantCulture),
                    (string?)shard["SequenceNumberRange"]!["EndingSequenceNumber"] is not null));
            }

            token = (string?)response["NextToken"];
        }
        while (token is not null);
        return shards;
    }

    /// <summary>Writes one record with PutRecord.</summary>
    /// <param name="streamName">The stream name.</param>
    /// <param name="partitionKey">The partition key.</param>
    /// <param name="data">The payload.</param>
    /// <param name="explicitHashKey">An explicit hash key, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The shard id and sequence number the emulator assigned.</returns>
    public async Task<(string ShardId, string SequenceNumber)> PutRecordAsync(
        string streamName, string partitionKey, ReadOnlyMemory<byte> data, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var request = new JsonObject
        {
            ["StreamName"] = streamName,
            ["PartitionKey"] = partitionKey,
            ["Data"] = Convert.ToBase64String(data.Span),
        };
        if (explicitHashKey is not null)
        {
            request["ExplicitHashKey"] = explicitHashKey;
        }

        var response = await CallAsync("PutRecord", request, cancellationToken);
        return ((string)response["ShardId"]!, (string)response["SequenceNumber"]!);
    }

    /// <summary>Writes up to 500 records with one PutRecords call and fails when any entry failed.</summary>
    /// <param name="streamName">The stream name.</param>
    /// <param name="records">The partition keys and payloads.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The shard id and sequence number of each record, in request order.</returns>
    public async Task<IReadOnlyList<(string ShardId, string SequenceNumber)>> PutRecordsAsync(
        string streamName, IReadOnlyList<(string PartitionKey, byte[] Data)> records, CancellationToken cancellationToken = default)
    {
        var entries = new JsonArray();
        foreach (var (partitionKey, data) in records)
        {
            entries.Add(new JsonObject { ["PartitionKey"] = partitionKey, ["Data"] = Convert.ToBase64String(data) });
        }

        var response = await CallAsync("PutRecords", new JsonObject { ["StreamName"] = streamName, ["Records"] = entries }, cancellationToken);
        var results = new List<(string, string)>(records.Count);
        foreach (var entry in response["Records"]!.AsArray())
        {
            string? sequence = (string?)entry!["SequenceNumber"];
            if (sequence is null)
            {
                throw new InvalidOperationException($"PutRecords entry failed: {entry.ToJsonString()}");
            }

            results.Add(((string)entry["ShardId"]!, sequence));
        }

        return results;
    }

    /// <summary>Sends one Kinesis JSON 1.1 request and returns the parsed response body (an empty object for an empty body).</summary>
    /// <param name="operation">The operation, such as <c>SplitShard</c>.</param>
    /// <param name="body">The request body.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response body.</returns>
    /// <exception cref="HttpRequestException">The emulator answered with an error; the message holds its body.</exception>
    public async Task<JsonObject> CallAsync(string operation, JsonObject body, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/");
        request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        string now = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", now);
        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"AWS4-HMAC-SHA256 Credential=AKIDTEST/{now[..8]}/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={new string('0', 64)}");
        using var response = await _http.SendAsync(request, cancellationToken);
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{operation} failed with {(int)response.StatusCode}: {text}", null, response.StatusCode);
        }

        return text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}

/// <summary>A shard as the emulator lists it.</summary>
/// <param name="ShardId">The shard id.</param>
/// <param name="ParentShardId">The parent after a split or merge.</param>
/// <param name="AdjacentParentShardId">The second parent after a merge.</param>
/// <param name="StartingHashKey">The first hash key of the shard's range.</param>
/// <param name="EndingHashKey">The last hash key of the shard's range.</param>
/// <param name="IsClosed">Whether the shard has an ending sequence number.</param>
public sealed record EmulatorShard(string ShardId, string? ParentShardId, string? AdjacentParentShardId, BigInteger StartingHashKey, BigInteger EndingHashKey, bool IsClosed);
