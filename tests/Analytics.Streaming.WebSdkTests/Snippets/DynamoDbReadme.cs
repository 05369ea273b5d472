using Analytics.Streaming;
// <readme file="src/Analytics.Streaming.DynamoDB/README.md" block="1">
using Amazon.DynamoDBv2;
using Analytics.Streaming.DynamoDB;
using Analytics.Streaming.Sketches;
using PageViews = Analytics.Streaming.WindowResult<string, (long Views, Analytics.Streaming.Sketches.HyperLogLogSketch Visitors)>;
// </readme>

namespace ReadmeSnippets.DynamoDB;

/// <summary>The DynamoDB README's result sink block.</summary>
public static class DynamoDbReadme
{
    /// <summary>The block, with what it takes from its surroundings as parameters.</summary>
    public static async Task SinkAsync(IAmazonDynamoDB dynamo, ISink<DeadLetter> deadLetterSink)
    {
        // <readme file="src/Analytics.Streaming.DynamoDB/README.md" block="1">
        var map = DynamoDbItemMap.ForWindowResults<string, (long Views, HyperLogLogSketch Visitors)>()
            .Number("views", r => r.Value.Views)
            .Sketch("visitors", r => r.Value.Visitors)                // the sketch's stable binary form, type B
            .TimeToLive("ttl", r => r.Window.End.AddDays(30))         // epoch seconds, for DynamoDB's TTL
            .Build();
        await dynamo.CreateTableAsync(map.ToCreateTableRequest("page-views"));   // or your own template with the same keys

        await using var sink = new DynamoDbSink<PageViews>(dynamo, new DynamoDbSinkOptions<PageViews>
        {
            TableName = "page-views",
            Map = map,
            DeadLetters = deadLetterSink,                             // optional: items that can never be stored
        });
        // </readme>
    }
}
