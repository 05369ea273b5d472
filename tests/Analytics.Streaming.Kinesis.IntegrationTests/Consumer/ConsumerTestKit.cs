using System.Text;
using Amazon.Runtime;
using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.Kinesis.IntegrationTests.Consumer;

/// <summary>Shared steps of the consumer's integration tests: clients for the emulators, writing and reading with checkpoints.</summary>
internal static class ConsumerTestKit
{
    /// <summary>A client for an emulator; <paramref name="maxAttempts"/> 1 leaves every retry to the consumer.</summary>
    public static KinesisClient CreateClient(Uri endpoint, HttpMessageHandler? handler = null, int maxAttempts = 3) => new(new KinesisClientOptions
    {
        Region = "us-east-1",
        ServiceUrl = endpoint,
        Credentials = new BasicAWSCredentials("AKIDTEST", "secret"),
        HttpHandler = handler,
        Retry = { MaxAttempts = maxAttempts, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
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
/// One test's stream on an emulator: created with its shards, with a client, fast consumer options, the positions the
/// test records, and writes in key order. What every consumer integration test sets up first.
/// </summary>
internal sealed class ConsumerScenario : IDisposable
{
    private ConsumerScenario(KinesisEmulatorAdmin admin, string stream, KinesisClient client)
    {
        Admin = admin;
        Stream = stream;
        Client = client;
        Options = ConsumerTestKit.FastOptions(stream);
    }

    public KinesisEmulatorAdmin Admin { get; }

    public string Stream { get; }

    public KinesisClient Client { get; }

    /// <summary>Gets the options <see cref="Consumer"/> uses; tests adjust them before creating the consumer.</summary>
    public KinesisConsumerOptions Options { get; }

    /// <summary>Gets the positions recorded by <see cref="ReadAsync"/>.</summary>
    public ShardProgress Progress { get; } = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates a stream named after <paramref name="name"/> with <paramref name="shards"/> shards on kinesalite.</summary>
    public static Task<ConsumerScenario> OnKinesaliteAsync(KinesaliteServer server, string name, int shards, HttpMessageHandler? handler = null, int clientAttempts = 3) =>
        CreateAsync(server.Endpoint, server.Admin, name, shards, handler, clientAttempts);

    /// <summary>Creates a stream named after <paramref name="name"/> with <paramref name="shards"/> shards on kinesis-local.</summary>
    public static Task<ConsumerScenario> OnKinesisLocalAsync(KinesisLocalServer server, string name, int shards, HttpMessageHandler? handler = null) =>
        CreateAsync(server.Endpoint, server.Admin, name, shards, handler, 3);

    public KinesisShardConsumer Consumer() => new(Client, Options);

    /// <summary>Reads with a new consumer, recording positions in <see cref="Progress"/> (see <see cref="ConsumerTestKit.ReadAsync"/>).</summary>
    public Task<List<RecordBatch<RawRecord>>> ReadAsync(int expectedRecords, TimeSpan timeout, TimeSpan settle, Func<int, Task>? onProgress = null, Action<RecordBatch<RawRecord>>? onBatch = null) =>
        ConsumerTestKit.ReadAsync(Consumer(), Progress, expectedRecords, timeout, settle, onProgress, onBatch);

    /// <summary>
    /// Writes <paramref name="perKey"/> records for each of <paramref name="keys"/> partition keys (<c>key-000</c>, ...)
    /// with the indexes from <paramref name="firstIndex"/> on, round-robin over the keys so that every PutRecords call
    /// mixes keys while each key's records go in index order.
    /// </summary>
    /// <returns>The payloads written.</returns>
    public async Task<List<string>> WriteAsync(int keys, int perKey, int firstIndex = 0)
    {
        var payloads = new List<string>();
        var pending = new List<(string, byte[])>();
        for (int i = firstIndex; i < firstIndex + perKey; i++)
        {
            for (int k = 0; k < keys; k++)
            {
                string key = Key(k);
                var payload = ConsumerTestKit.Payload(key, i);
                payloads.Add(Encoding.UTF8.GetString(payload));
                pending.Add((key, payload));
                if (pending.Count == 500)
                {
                    await Admin.PutRecordsAsync(Stream, pending, Ct);
                    pending.Clear();
                }
            }
        }

        if (pending.Count > 0)
        {
            await Admin.PutRecordsAsync(Stream, pending, Ct);
        }

        return payloads;
    }

    /// <summary>The partition key <see cref="WriteAsync"/> gives key number <paramref name="k"/>.</summary>
    public static string Key(int k) => $"key-{k:D3}";

    public void Dispose() => Client.Dispose();

    private static async Task<ConsumerScenario> CreateAsync(Uri endpoint, KinesisEmulatorAdmin admin, string name, int shards, HttpMessageHandler? handler, int clientAttempts)
    {
        string stream = KinesaliteServer.NewStreamName(name);
        await admin.CreateStreamAsync(stream, shards, Ct);
        return new ConsumerScenario(admin, stream, ConsumerTestKit.CreateClient(endpoint, handler, clientAttempts));
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
