using System.Text;
using System.Text.Json;
using Analytics.Streaming.Kinesis.IntegrationTests.Producer;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Aggregation;

/// <summary>The KPL aggregated-record format both ways against the reference npm package aws-kinesis-agg.</summary>
public sealed class KplCrossCheckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly (byte[] Data, string Key, string? Hash)[] UserRecords =
    [
        ("first"u8.ToArray(), "plain-key", null),
        ([], "empty-data", null),
        (Encoding.UTF8.GetBytes("unicode ✓"), "ключ-🙂-鍵", null),
        ("routed"u8.ToArray(), "plain-key", "170141183460469231731687303715884105728"),
        // Not "0" or another JavaScript array index: aws-kinesis-agg builds its key table with Object.keys, which lists
        // integer-like keys first, so such a hash key would reorder its table and point records at the wrong key.
        (new byte[] { 0, 1, 2, 255 }, "binary", "4294967296"),
        ("last"u8.ToArray(), "ключ-🙂-鍵", "340282366920938463463374607431768211455"),
    ];

    [Fact]
    public async Task TryDeaggregate_AggregateMadeByAwsKinesisAgg_YieldsItsUserRecords()
    {
        var input = UserRecords.Select(r => new Dictionary<string, string?>
        {
            ["data"] = Convert.ToBase64String(r.Data),
            ["partitionKey"] = r.Key,
            ["explicitHashKey"] = r.Hash,
        });

        using var result = await RunAsync("aggregate", input);

        byte[] data = Convert.FromBase64String(result.RootElement.GetProperty("data").GetString()!);
        Assert.True(KplFormat.HasAggregateMagic(data));
        var output = new List<UserRecord>();
        Assert.True(KplDeaggregator.TryDeaggregate(data, "a", SequenceNumber.FromInt64(7), null, output, out string? error), error);
        Assert.Equal(UserRecords.Length, output.Count);
        for (int i = 0; i < UserRecords.Length; i++)
        {
            Assert.Equal(UserRecords[i].Data, output[i].Data.ToArray());
            Assert.Equal(UserRecords[i].Key, output[i].PartitionKey);
            Assert.Equal(UserRecords[i].Hash, output[i].ExplicitHashKey);
            Assert.Equal(i, output[i].SubSequenceNumber);
        }
    }

    [Fact]
    public async Task KplAggregateBuilder_Aggregate_IsDeaggregatedByAwsKinesisAgg()
    {
        using var builder = new KplAggregateBuilder();
        foreach (var (data, key, hash) in UserRecords)
        {
            Assert.True(builder.TryAdd(data, key, hash));
        }

        byte[] aggregate = builder.ToArray();
        byte[] corrupted = (byte[])aggregate.Clone();
        corrupted[10] ^= 0x40;
        var input = new[]
        {
            new Dictionary<string, string> { ["data"] = Convert.ToBase64String(aggregate), ["partitionKey"] = KplFormat.AggregatePartitionKey, ["sequenceNumber"] = "1" },
            new Dictionary<string, string> { ["data"] = Convert.ToBase64String(corrupted), ["partitionKey"] = KplFormat.AggregatePartitionKey, ["sequenceNumber"] = "2" },
        };

        using var result = await RunAsync("deaggregate", input);

        var records = result.RootElement[0].GetProperty("records").EnumerateArray().ToList();
        Assert.Equal(UserRecords.Length, records.Count);
        for (int i = 0; i < UserRecords.Length; i++)
        {
            Assert.Equal(UserRecords[i].Data, Convert.FromBase64String(records[i].GetProperty("data").GetString()!));
            Assert.Equal(UserRecords[i].Key, records[i].GetProperty("partitionKey").GetString());
            Assert.Equal(i, records[i].GetProperty("subSequenceNumber").GetInt32());
            if (UserRecords[i].Hash is { } hash)
            {
                // aws-kinesis-agg (protobufjs) reports table entry 0 for records without a hash key, so only set keys are compared.
                Assert.Equal(hash, records[i].GetProperty("explicitHashKey").GetString());
            }
        }

        Assert.Contains("checksum", result.RootElement[1].GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(KplDeaggregator.TryDeaggregate(corrupted, "a", SequenceNumber.Zero, null, [], out _));
    }

    private static async Task<JsonDocument> RunAsync(string mode, object input)
    {
        string inFile = Path.Combine(Path.GetTempPath(), $"kpl-in-{Guid.NewGuid():N}.json");
        string outFile = Path.Combine(Path.GetTempPath(), $"kpl-out-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(inFile, JsonSerializer.Serialize(input), Ct);
            await PeerScripts.RunAsync(TimeSpan.FromSeconds(30), Ct, TestPeers.PathOf("kinesis-agg-cross.js"), mode, inFile, outFile);
            return JsonDocument.Parse(await File.ReadAllTextAsync(outFile, Ct));
        }
        finally
        {
            File.Delete(inFile);
            File.Delete(outFile);
        }
    }
}
