using Amazon.DynamoDBv2;
using Analytics.Streaming;
using Analytics.Streaming.DynamoDB;
using Analytics.Streaming.Kinesis;

namespace ReadmeSnippets.DynamoDB;

/// <summary>The page view of the DynamoDB README's checkpoint example.</summary>
/// <param name="Page">The page.</param>
/// <param name="Time">When.</param>
public sealed record PageView(string Page, DateTimeOffset Time);

/// <summary>The order of the DynamoDB README's lease example.</summary>
/// <param name="Item">The item ordered.</param>
/// <param name="Time">When.</param>
public sealed record Order(string Item, DateTimeOffset Time);

/// <summary>The DynamoDB README's checkpoint store and lease worker blocks.</summary>
public static class DynamoDbReadmeMore
{
    /// <summary>Block 2 of src/Analytics.Streaming.DynamoDB/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task<object> CheckpointsAsync(IAmazonDynamoDB dynamo)
    {
        // <readme file="src/Analytics.Streaming.DynamoDB/README.md" block="2">
        await dynamo.CreateTableAsync(DynamoDbCheckpointStore.CreateTableRequest("pipeline-checkpoints"));
        var checkpoints = new DynamoDbCheckpointStore(dynamo, new DynamoDbCheckpointStoreOptions { TableName = "pipeline-checkpoints" });
        var builder = StreamPipeline.Create<PageView>(new() { Name = "page-views", CheckpointStore = checkpoints });  // steps, sinks, Build()
        // </readme>
        return builder;
    }

    /// <summary>Block 3 of src/Analytics.Streaming.DynamoDB/README.md, with what it takes from its surroundings as parameters.</summary>
    public static async Task LeasesAsync(ICheckpointStore checkpointStore, IEventDecoder<Order> decoder, ISink<WindowResult<string, long>> resultsSink, CancellationToken stoppingToken)
    {
        // <readme file="src/Analytics.Streaming.DynamoDB/README.md" block="3">
        using var dynamoDb = new AmazonDynamoDBClient();
        using var kinesis = new KinesisClient(new KinesisClientOptions { Region = "eu-west-1" });
        var coordinator = new LeaseCoordinator(dynamoDb, kinesis, new LeaseCoordinatorOptions
        {
            ApplicationName = "orders-dashboard",   // the lease table; the same in every worker
            StreamName = "orders",
        });
        var worker = new KinesisLeaseWorker(coordinator, kinesis, new KinesisConsumerOptions { StreamName = "orders" }, checkpointStore,
            async (shard, cancellationToken) =>
            {
                var pipeline = StreamPipeline.Create<Order>(new StreamPipelineOptions
                {
                    Name = "orders",
                    Partition = shard.ShardId,                 // checkpoint "orders/{shard}"; results carry the shard
                    CheckpointStore = shard.CheckpointStore,   // the shared store, fenced by the lease
                })
                    .WithEventTime(o => o.Time)
                    .KeyBy(o => o.Item)
                    .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                    .Aggregate(a => a.Count())
                    .To(resultsSink)                           // e.g. a DynamoDbSink: one item per shard, key and window
                    .Build();
                await pipeline.RunAsync(shard.Source.Decode(decoder), cancellationToken);
            });
        await worker.RunAsync(stoppingToken);   // cancel to hand every lease over at once
        // </readme>
    }
}
