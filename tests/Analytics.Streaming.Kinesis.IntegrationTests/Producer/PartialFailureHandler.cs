using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Producer;

/// <summary>
/// Sits in front of an emulator and makes PutRecords partially fail the way the service does: chosen entries are
/// removed from the forwarded request and answered with <c>ProvisionedThroughputExceededException</c> at their index,
/// the others carry the emulator's real results. The emulators cannot throttle on demand.
/// </summary>
internal sealed class PartialFailureHandler(Func<string, bool> shouldFail) : DelegatingHandler(new SocketsHttpHandler())
{
    private int _failed;

    public int FailedEntries => Volatile.Read(ref _failed);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.First() : string.Empty;
        if (target != "Kinesis_20131202.PutRecords")
        {
            return await base.SendAsync(request, cancellationToken);
        }

        var body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!.AsObject();
        var records = body["Records"]!.AsArray();
        var failing = new bool[records.Count];
        var forwarded = new JsonArray();
        for (int i = 0; i < records.Count; i++)
        {
            string data = Encoding.UTF8.GetString(Convert.FromBase64String(records[i]!["Data"]!.GetValue<string>()));
            failing[i] = shouldFail(data);
            if (!failing[i])
            {
                forwarded.Add(records[i]!.DeepClone());
            }
        }

        var results = new JsonArray();
        JsonArray? real = null;
        if (forwarded.Count > 0)
        {
            body["Records"] = forwarded;
            using var forward = new HttpRequestMessage(HttpMethod.Post, request.RequestUri) { Content = new StringContent(body.ToJsonString()) };
            forward.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
            foreach (var header in request.Headers)
            {
                forward.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            using var response = await base.SendAsync(forward, cancellationToken);
            response.EnsureSuccessStatusCode();
            real = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!["Records"]!.AsArray();
        }

        int next = 0;
        for (int i = 0; i < failing.Length; i++)
        {
            if (failing[i])
            {
                Interlocked.Increment(ref _failed);
                results.Add(new JsonObject { ["ErrorCode"] = "ProvisionedThroughputExceededException", ["ErrorMessage"] = "Rate exceeded for shard (injected)." });
            }
            else
            {
                results.Add(real![next++]!.DeepClone());
            }
        }

        int failedCount = failing.Count(f => f);
        var answer = new JsonObject { ["FailedRecordCount"] = failedCount, ["Records"] = results, ["EncryptionType"] = "NONE" };
        return new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Content = new StringContent(answer.ToJsonString(), Encoding.UTF8, "application/x-amz-json-1.1"),
        };
    }
}
