using Analytics.Streaming.OpenSearch.Tests.Server;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Analytics.Streaming.OpenSearch.Tests.Support;

namespace Analytics.Streaming.OpenSearch.Tests;

/// <summary>
/// Whatever order the versions of results arrive in, however they are batched, replayed and flushed, and whatever 429s
/// and 503s the cluster answers (per item and per request): the cluster ends with exactly one document per result
/// identity, holding the value of its newest version (the highest record count).
/// </summary>
public sealed class OutOfOrderProperties(OpenSearchTestServer server)
{
    [Property(Arbitrary = [typeof(Scenarios)], MaxTest = 60)]
    public bool RandomOrders_LeaveOneDocumentPerResultWithTheNewestValue(Scenario scenario)
        => Task.Run(() => RunAsync(scenario)).GetAwaiter().GetResult();

    private async Task<bool> RunAsync(Scenario scenario)
    {
        var (cluster, endpoint) = server.Cluster();
        if (scenario.FaultRate > 0)
        {
            cluster.FailRandomly(scenario.FaultRate, scenario.Seed);
        }

        cluster.RejectRequests(scenario.RejectedRequests, scenario.Seed % 2 == 0 ? 429 : 503);
        var options = ResultOptions(endpoint);
        options.MaxBulkActions = scenario.MaxBulkActions;
        options.Retry = FastRetry(attempts: 200);
        var results = scenario.Updates.Select(u => Result("/page-" + u.Key, u.Minute, u.Count, u.Count % 2 == 0 ? EmitReason.LateUpdate : EmitReason.Closed)).ToArray();
        await using (var sink = new OpenSearchSink<WindowResult<string, Views>>(options))
        {
            int batches = 0;
            for (int i = 0; i < results.Length; i += scenario.BatchSize)
            {
                await sink.WriteAsync(results.AsMemory(i, Math.Min(scenario.BatchSize, results.Length - i)), CancellationToken.None);
                if (++batches % scenario.FlushEvery == 0)
                {
                    await sink.FlushAsync(CancellationToken.None);
                }
            }

            await sink.FlushAsync(CancellationToken.None);
            if (sink.Statistics.DocumentsRejected != 0)
            {
                return false;
            }
        }

        var expected = results.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.Max(r => r.RecordCount));
        var documents = cluster.Documents();
        return documents.Count == expected.Count
            && documents.All(d => expected.TryGetValue(d.Id, out long newest)
                && d.Version == newest
                && d.Json.GetProperty("views").GetInt64() == newest
                && d.Json.GetProperty("record_count").GetInt64() == newest
                && d.Json.GetProperty("seconds").GetDouble() == newest * 1.5);
    }

    public sealed record Scenario((int Key, int Minute, int Count)[] Updates, int BatchSize, int FlushEvery, int MaxBulkActions, double FaultRate, int RejectedRequests, int Seed)
    {
        public override string ToString() =>
            $"{Updates.Length} updates [{string.Join(' ', Updates.Select(u => $"{u.Key}/{u.Minute}@{u.Count}"))}], batch {BatchSize}, flush every {FlushEvery}, bulk {MaxBulkActions}, faults {FaultRate}, rejected requests {RejectedRequests}, seed {Seed}";
    }

    public static class Scenarios
    {
        public static Arbitrary<Scenario> Values()
            => (from updates in Gen.ListOf(from key in Gen.Choose(0, 3) from minute in Gen.Choose(0, 2) from count in Gen.Choose(1, 12) select (key, minute, count))
                from batch in Gen.Choose(1, 7)
                from flush in Gen.Choose(1, 4)
                from bulk in Gen.Choose(1, 6)
                from faults in Gen.Elements(0.0, 0.0, 0.2, 0.5)
                from rejected in Gen.Choose(0, 2)
                from seed in Gen.Choose(0, int.MaxValue)
                select new Scenario([.. updates], batch, flush, bulk, faults, rejected, seed)).ToArbitrary();
    }
}
