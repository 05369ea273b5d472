using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.CrashTests;

/// <summary>
/// The backlog the Kinesis crash test writes before the first worker starts: per shard (placed with explicit hash
/// keys), JSON events in time order with jitter inside the pipeline's out-of-orderness, a few malformed payloads,
/// events at the epoch and one without a key (dead letters), three events an hour in the past deep into the shard
/// (late records), and finally one far-future event that moves the watermark past <see cref="End"/>.
/// </summary>
/// <remarks>
/// Whether a record is late depends on the watermark, the minimum over all shards; shards are read concurrently. The
/// late events sit after record 200 of their shard, read (20 per call, at most 5 calls a second) no earlier than 2 s
/// after the start, when every shard has long delivered its first events; from then on the watermark is past
/// <see cref="Start"/> minus the out-of-orderness whatever the interleaving, so they are late in every run. Every other
/// event is within the out-of-orderness of its own shard and is never late. The results do not depend on how the
/// shards interleave.
/// </remarks>
internal static class KinesisBacklog
{
    /// <summary>Events per shard, before the far-future one.</summary>
    public const int EventsPerShard = 300;

    /// <summary>The event time of the first events.</summary>
    public static readonly DateTimeOffset Start = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The end of the last window with regular events: the worker stops once a checkpoint's watermark reaches it.</summary>
    public static readonly DateTimeOffset End = Start.AddSeconds(130);

    /// <summary>Writes the backlog to every shard of <paramref name="stream"/>.</summary>
    /// <param name="admin">The emulator's admin client.</param>
    /// <param name="stream">The stream.</param>
    /// <param name="seed">The seed of the events.</param>
    /// <param name="cancellationToken">Cancels the writes.</param>
    /// <returns>The number of records written.</returns>
    public static async Task<int> WriteAsync(KinesisEmulatorAdmin admin, string stream, int seed, CancellationToken cancellationToken)
    {
        var shards = await admin.ListShardsAsync(stream, cancellationToken);
        var random = new Random(seed);
        int written = 0;
        for (int s = 0; s < shards.Count; s++)
        {
            string hashKey = shards[s].StartingHashKey.ToString(CultureInfo.InvariantCulture);
            var payloads = new List<byte[]>();
            for (int i = 0; i < EventsPerShard; i++)
            {
                double kind = random.NextDouble();
                string key = "k" + random.Next(4);
                int value = random.Next(1, 10);
                long clock = Start.ToUnixTimeMilliseconds() + (i * 400L) + (s * 13L);
                payloads.Add(
                    i is 200 or 230 or 260 ? Json(new SensorEvent(key, Start.AddHours(-1).ToUnixTimeMilliseconds() + i, value))
                    : i == 150 ? Json(new SensorEvent(null, clock, value))
                    : kind < 0.01 ? Encoding.UTF8.GetBytes($"{{\"key\":\"{key}\",\"ts\":")
                    : kind < 0.02 ? Json(new SensorEvent(key, 0, value))
                    : Json(new SensorEvent(key, clock + random.Next(-1_500, 1_501), value)));
            }

            payloads.Add(Json(new SensorEvent("end", Start.AddDays(1).ToUnixTimeMilliseconds(), 0)));
            for (int first = 0; first < payloads.Count; first += 500)
            {
                var records = new JsonArray();
                foreach (byte[] payload in payloads.Skip(first).Take(500))
                {
                    records.Add(new JsonObject
                    {
                        ["PartitionKey"] = $"pk-{s}-{first + records.Count}",
                        ["ExplicitHashKey"] = hashKey,
                        ["Data"] = Convert.ToBase64String(payload),
                    });
                }

                var response = await admin.CallAsync("PutRecords", new JsonObject { ["StreamName"] = stream, ["Records"] = records }, cancellationToken);
                Assert.Equal(0, (int?)response["FailedRecordCount"] ?? 0);
                written += records.Count;
            }
        }

        return written;
    }

    private static byte[] Json(SensorEvent value) => JsonSerializer.SerializeToUtf8Bytes(value, CrashJson.Default.SensorEvent);
}
