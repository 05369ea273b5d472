using System.Text;
using Amazon.Runtime;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

/// <summary>Shared steps of the consumer's integration tests: clients for the emulators, writing and reading with checkpoints.</summary>
internal static class ConsumerTestKit
{
    public static KinesisClient CreateClient(Uri endpoint, HttpMessageHandler? handler = null) => new(new KinesisClientOptions
    {
        Region = "us-east-1",
        ServiceUrl = endpoint,
        Credentials = new BasicAWSCredentials("AKIDTEST", "secret"),
        HttpHandler = handler,
        Retry = { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
    });

    /// <summary>Options tuned for tests: fast discovery and parent polling, short idle waits.</summary>
    public static KinesisConsumerOptions FastOptions(string stream) => new()
    {
        StreamName = stream,
        IdleTimeBetweenReads = TimeSpan.FromMilliseconds(100),
        ShardDiscoveryInterval = TimeSpan.FromMilliseconds(500),
        ParentCheckpointPollInterval = TimeSpan.FromMilliseconds(50),
        Retry = { BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
        MaxBufferedBatches = 64,
    };

    public static byte[] Payload(string key, int index) => Encoding.UTF8.GetBytes($"{key}#{index:D5}");

    /// <summary>
    /// Enumerates the consumer as the pipeline would: records each batch's end position in <paramref name="checkpoints"/>
    /// (marking a partition finished at its end), stops once <paramref name="expectedRecords"/> user records arrived
    /// and then keeps reading for <paramref name="settle"/> to catch duplicates. Fails after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<List<RecordBatch<RawRecord>>> ReadAsync(
        IEventSource<RawRecord> consumer,
        ShardProgress checkpoints,
        int expectedRecords,
        TimeSpan timeout,
        TimeSpan settle,
        Func<int, Task>? onProgress = null,
        Action<RecordBatch<RawRecord>>? onBatch = null)
    {
        var batches = new List<RecordBatch<RawRecord>>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        stop.CancelAfter(timeout);
        int seen = 0;
        bool settling = false;
        try
        {
            await foreach (var batch in consumer.ReadBatchesAsync(checkpoints.Context, stop.Token))
            {
                batches.Add(batch);
                onBatch?.Invoke(batch);
                seen += batch.Records.Length + batch.DeadLetters.Count;
                checkpoints.Record(batch);

                if (onProgress is not null)
                {
                    await onProgress(seen);
                }

                if (seen >= expectedRecords && !settling)
                {
                    settling = true;
                    stop.CancelAfter(settle);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            // The settle time (or the timeout) is over.
        }

        Assert.True(seen >= expectedRecords, $"Read {seen} of {expectedRecords} records within {timeout}.");
        return batches;
    }

    /// <summary>Every user record of the batches, in arrival order, as "partitionKey|payload".</summary>
    public static List<(string Shard, string Key, string Payload, StreamRecord<RawRecord> Record)> Flatten(IEnumerable<RecordBatch<RawRecord>> batches)
    {
        var all = new List<(string, string, string, StreamRecord<RawRecord>)>();
        foreach (var batch in batches)
        {
            foreach (var record in batch.Records.ToArray())
            {
                all.Add((batch.PartitionId, record.Value.PartitionKey, Encoding.UTF8.GetString(record.Value.Data.Span), record));
            }
        }

        return all;
    }

    /// <summary>Asserts that the payloads of each partition key arrive in increasing index order, each exactly once.</summary>
    public static void AssertExactlyOnceInKeyOrder(IEnumerable<(string Shard, string Key, string Payload, StreamRecord<RawRecord> Record)> records, IReadOnlyCollection<string> expectedPayloads)
    {
        var list = records.ToList();
        var payloads = list.Select(r => r.Payload).ToList();
        var duplicates = payloads.GroupBy(p => p).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, "Duplicates: " + string.Join(", ", duplicates));
        Assert.Equal(expectedPayloads.OrderBy(p => p, StringComparer.Ordinal), payloads.OrderBy(p => p, StringComparer.Ordinal));
        foreach (var group in list.GroupBy(r => r.Key))
        {
            var order = group.Select(r => r.Payload).ToList();
            Assert.Equal(order.OrderBy(p => p, StringComparer.Ordinal), order);
        }
    }
}

/// <summary>
/// Plays the pipeline's part for tests that enumerate a consumer directly: keeps each shard's last position, marks a
/// shard finished once its last batch was handled, and gives a restarted consumer a context that resumes from them.
/// </summary>
internal sealed class ShardProgress
{
    private readonly Dictionary<string, PartitionCheckpoint> _positions = new(StringComparer.Ordinal);

    public ShardProgress(params PartitionCheckpoint[] start)
    {
        foreach (var partition in start)
        {
            _positions[partition.PartitionId] = partition;
        }

        Context = new SourceContext(start);
    }

    public SourceContext Context { get; private set; }

    public IReadOnlyDictionary<string, PartitionCheckpoint> Positions => _positions;

    public void Record(RecordBatch<RawRecord> batch)
    {
        if (batch.EndPosition is { } end)
        {
            _positions[batch.PartitionId] = PartitionCheckpoint.Create(batch.PartitionId, end, batch.IsEndOfPartition);
        }

        if (batch.IsEndOfPartition)
        {
            Context.MarkFinished(batch.PartitionId);
        }
    }

    /// <summary>A fresh context for a restarted consumer, resuming from the recorded positions.</summary>
    public ShardProgress Restart()
    {
        Context = new SourceContext(_positions.Values);
        return this;
    }
}
