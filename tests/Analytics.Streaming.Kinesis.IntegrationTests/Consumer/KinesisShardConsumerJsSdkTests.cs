using System.Globalization;
using System.Text.Json;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

public sealed class KinesisShardConsumerJsSdkTests(KinesaliteServer kinesalite)
{
    [Fact]
    public async Task ReadBatchesAsync_RecordsAndKplAggregatesWrittenByJavaScriptSdk_ReadExactlyInKeyOrder()
    {
        using var scenario = await ConsumerScenario.OnKinesaliteAsync(kinesalite, "consume-js", 3);
        string stream = scenario.Stream;
        const int aggregatedKeys = 4, perAggregate = 25;
        await using var writer = await NodeProcess.StartAsync(
            [TestPeers.PathOf("kinesis-consumer-js-writer.js"), kinesalite.Endpoint.ToString().TrimEnd('/'), stream, "600",
             aggregatedKeys.ToString(CultureInfo.InvariantCulture), perAggregate.ToString(CultureInfo.InvariantCulture)],
            "written ",
            timeout: TimeSpan.FromSeconds(60));
        string line = writer.Output.Split('\n').Single(l => l.StartsWith("written ", StringComparison.Ordinal));
        var written = JsonSerializer.Deserialize<List<string>>(line["written ".Length..])!;
        var batches = await scenario.ReadAsync(written.Count, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(400));

        var records = ConsumerTestKit.Flatten(batches);
        Assert.Equal(written.Order(StringComparer.Ordinal), records.Select(r => r.Key + "|" + r.Payload).Order(StringComparer.Ordinal));
        foreach (var group in records.GroupBy(r => r.Key))
        {
            Assert.Equal(group.Select(r => r.Payload).Order(StringComparer.Ordinal), group.Select(r => r.Payload));
        }

        var aggregated = records.Where(r => r.Key.StartsWith("agg-", StringComparison.Ordinal)).ToList();
        Assert.Equal(aggregatedKeys * perAggregate, aggregated.Count);
        Assert.Contains(aggregated, r => r.Record.SubSequence == perAggregate - 1);
        Assert.Contains(records, r => r.Key == "ключ-🙂");
        Assert.Empty(batches.SelectMany(b => b.DeadLetters));
    }
}
