using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Analytics.Streaming;
using Analytics.Streaming.DynamoDB;
using Analytics.Streaming.Kinesis;

namespace Analytics.Streaming.DynamoDB.Leases.Worker;

/// <summary>
/// One worker of a lease-sharing application: <c>--dynamodb URL --kinesis URL --stream NAME --table LEASES --results
/// TABLE --worker ID --folder DIR</c>. Orders (<c>key|unixMs|id</c>) are counted per key in 10 s tumbling windows per
/// shard; results go to the results table (one item per result identity), each delivered record id is appended to
/// <c>DIR/delivered-ID.log</c>, checkpoints go to <c>DIR/checkpoints</c>. Prints <c>started</c>; a line <c>stop</c> on
/// standard input shuts it down gracefully (final checkpoints, leases released), after which it prints <c>stopped</c>.
/// </summary>
internal static class Program
{
    private const string PipelineName = "orders";

    public static async Task<int> Main(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        var credentials = new BasicAWSCredentials("AKIDTEST", "secret");
        using var dynamoDb = new AmazonDynamoDBClient(credentials, new AmazonDynamoDBConfig { ServiceURL = options["dynamodb"], AuthenticationRegion = "us-east-1" });
        using var kinesis = new KinesisClient(new KinesisClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = new Uri(options["kinesis"]),
            Credentials = credentials,
            Retry = { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
        string folder = options["folder"];
        string worker = options["worker"];
        string results = options["results"];
        using var checkpoints = new FileCheckpointStore(Path.Combine(folder, "checkpoints"));
        await using var delivered = new StreamWriter(new FileStream(Path.Combine(folder, $"delivered-{worker}.log"), FileMode.Append, FileAccess.Write, FileShare.Read));
        var deliveredGate = new SemaphoreSlim(1, 1);

        var coordinator = new LeaseCoordinator(dynamoDb, kinesis, new LeaseCoordinatorOptions
        {
            ApplicationName = options["table"],
            StreamName = options["stream"],
            WorkerId = worker,
            FailoverTime = TimeSpan.FromSeconds(10), // 3 s lost leases to missed renewals when the test machine was loaded (load average 25)
            ShardSyncInterval = TimeSpan.FromSeconds(2),
        });
        var consumerOptions = new KinesisConsumerOptions
        {
            StreamName = options["stream"],
            MaxRecordsPerCall = 50,
            IdleTimeBetweenReads = TimeSpan.FromMilliseconds(100),
            ShardDiscoveryInterval = TimeSpan.FromSeconds(1),
            ParentCheckpointPollInterval = TimeSpan.FromMilliseconds(50),
            Retry = { BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
        };
        var leaseWorker = new KinesisLeaseWorker(coordinator, kinesis, consumerOptions, checkpoints, async (shard, token) =>
        {
            var pipeline = StreamPipeline.Create<Order>(new StreamPipelineOptions
            {
                Name = PipelineName,
                Partition = shard.ShardId,
                CheckpointStore = shard.CheckpointStore,
                CheckpointInterval = TimeSpan.FromMilliseconds(300),
                TickInterval = TimeSpan.FromMilliseconds(100),
            })
                .WithEventTime(o => o.Ts, maxOutOfOrderness: TimeSpan.FromSeconds(1), idleTimeout: Timeout.InfiniteTimeSpan)
                .KeyBy(o => o.Key)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(10)))
                .Aggregate(a => a.Count())
                .To(new ResultTableSink(dynamoDb, results))
                .Build();
            await pipeline.RunAsync(new DeliveryLog(shard.Source.Decode(new OrderDecoder()), delivered, deliveredGate), token);
        });

        using var stop = new CancellationTokenSource();
        var run = leaseWorker.RunAsync(stop.Token);
        Console.WriteLine("started");
        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is { } line)
            {
                if (line == "stop")
                {
                    break;
                }
            }

            await stop.CancelAsync();
        });
        await run;
        Console.WriteLine("stopped");
        return 0;
    }

    /// <summary>An order: key, event time (Unix ms), id (-1 for the end markers).</summary>
    private sealed record Order(string Key, long Ts, long Id);

    private sealed class OrderDecoder : IEventDecoder<Order>
    {
        public bool TryDecode(in RawRecord record, [MaybeNullWhen(false)] out Order value, out DecodeError error)
        {
            string[] parts = Encoding.UTF8.GetString(record.Data.Span).Split('|');
            value = new Order(parts[0], long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
            error = default;
            return true;
        }
    }

    /// <summary>One item per result identity in the results table: a replay overwrites it with the same value.</summary>
    private sealed class ResultTableSink(IAmazonDynamoDB dynamoDb, string table) : ISink<WindowResult<string, long>>
    {
        public async ValueTask WriteAsync(ReadOnlyMemory<WindowResult<string, long>> items, CancellationToken cancellationToken)
        {
            for (int i = 0; i < items.Length; i++)
            {
                var result = items.Span[i];
                if (result.Key == "end")
                {
                    continue;
                }

                await dynamoDb.PutItemAsync(
                    table,
                    new Dictionary<string, AttributeValue>
                    {
                        ["id"] = new() { S = result.Id },
                        ["key"] = new() { S = result.Key },
                        ["count"] = new() { N = result.Value.ToString(CultureInfo.InvariantCulture) },
                    },
                    cancellationToken);
            }
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Appends the id of every record the pipeline receives to the worker's log, flushed per batch.</summary>
    private sealed class DeliveryLog(IEventSource<Order> inner, StreamWriter log, SemaphoreSlim gate) : IEventSource<Order>
    {
        public bool CanResume => inner.CanResume;

        public async IAsyncEnumerable<RecordBatch<Order>> ReadBatchesAsync(SourceContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in inner.ReadBatchesAsync(context, cancellationToken))
            {
                await gate.WaitAsync(CancellationToken.None);
                try
                {
                    for (int i = 0; i < batch.Records.Length; i++)
                    {
                        long id = batch.Records.Span[i].Value.Id;
                        if (id >= 0)
                        {
                            await log.WriteLineAsync(id.ToString(CultureInfo.InvariantCulture));
                        }
                    }

                    await log.FlushAsync(CancellationToken.None);
                }
                finally
                {
                    gate.Release();
                }

                yield return batch;
            }
        }
    }
}
