using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Analytics.Streaming.Kinesis;
using Analytics.Streaming.TestSupport;
using Microsoft.Extensions.Logging;

namespace Analytics.Streaming.DynamoDB.IntegrationTests.Leases;

/// <summary>
/// A <see cref="KinesisShardConsumer"/> given the coordinator as its <see cref="IShardAssignment"/>: it reads the held
/// shards only, stops a shard's reader when the lease is stolen, and the new owner resumes after the lease checkpoint.
/// </summary>
public sealed class LeaseAssignedConsumerTests(DynaliteServer dynalite, KinesaliteServer kinesalite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Consumer_ReadsHeldShards_StopsAStolenShard_AndTheThiefResumesAfterTheLeaseCheckpoint()
    {
        using var kit = new LeaseTestKit(dynalite, kinesalite, "assigned");
        string stream = KinesaliteServer.NewStreamName("assigned");
        await kinesalite.Admin.CreateStreamAsync(stream, 2, Ct);
        var shards = await kinesalite.Admin.ListShardsAsync(stream, Ct);
        await WriteAsync(stream, shards, "first", 10);

        var a = kit.Coordinator("a", streamName: stream);
        await a.InitializeAsync(Ct);
        await a.SyncShardsAsync(Ct);
        Assert.Equal(2, (await a.TakeLeasesAsync(Ct)).Count);
        var logs = new EventIdLog();
        using var stopA = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var readByA = new ConcurrentQueue<(string Shard, string Text, StreamPosition Position)>();
        var readingA = ReadAsync(new KinesisShardConsumer(kit.Kinesis, Options(stream, logs), a), readByA, stopA.Token);
        await WaitUntilAsync(() => readByA.Count == 20, "a reading both shards");

        // A checkpoints both leases at the last record it read, then B steals one (A holds 2, B 0).
        foreach (var group in readByA.GroupBy(r => r.Shard))
        {
            await a.CheckpointAsync(group.Key, LeaseCheckpoint.FromPosition(group.Max(r => r.Position)), Ct);
        }

        var b = kit.Coordinator("b", streamName: stream);
        string stolen = Assert.Single(await b.TakeLeasesAsync(Ct)).LeaseKey;
        string kept = shards.Single(s => s.ShardId != stolen).ShardId;
        await a.RenewLeasesAsync(Ct); // A learns it here
        Assert.False(a.Holds(stolen));
        await WaitUntilAsync(() => logs.Has(2213), "a's consumer stopping the stolen shard's reader");

        await WriteAsync(stream, shards, "second", 5);
        using var stopB = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var readByB = new ConcurrentQueue<(string Shard, string Text, StreamPosition Position)>();
        var readingB = ReadAsync(new KinesisShardConsumer(kit.Kinesis, Options(stream, null), b), readByB, stopB.Token);
        await WaitUntilAsync(() => readByA.Count(r => r.Text.StartsWith("second", StringComparison.Ordinal)) == 5 && readByB.Count == 5, "the second records");

        Assert.All(readByB, r => Assert.Equal(stolen, r.Shard));
        Assert.All(readByB, r => Assert.StartsWith("second", r.Text, StringComparison.Ordinal)); // resumed after the lease checkpoint
        Assert.All(readByA.Where(r => r.Text.StartsWith("second", StringComparison.Ordinal)), r => Assert.Equal(kept, r.Shard));
        await stopA.CancelAsync();
        await stopB.CancelAsync();
        await readingA;
        await readingB;
    }

    private static KinesisConsumerOptions Options(string stream, ILoggerFactory? logs) => new()
    {
        StreamName = stream,
        IdleTimeBetweenReads = TimeSpan.FromMilliseconds(100),
        ShardDiscoveryInterval = TimeSpan.FromSeconds(1),
        ParentCheckpointPollInterval = TimeSpan.FromMilliseconds(50),
        LoggerFactory = logs,
    };

    private async Task WriteAsync(string stream, IReadOnlyList<EmulatorShard> shards, string prefix, int perShard)
    {
        foreach (var shard in shards)
        {
            for (int i = 0; i < perShard; i++)
            {
                await kinesalite.Admin.PutRecordAsync(stream, "k", Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{prefix}-{shard.ShardId}-{i}")), shard.StartingHashKey.ToString(CultureInfo.InvariantCulture), Ct);
            }
        }
    }

    private static async Task ReadAsync(KinesisShardConsumer consumer, ConcurrentQueue<(string Shard, string Text, StreamPosition Position)> read, CancellationToken cancellationToken)
    {
        var context = new SourceContext();
        try
        {
            await foreach (var batch in consumer.ReadBatchesAsync(context, cancellationToken))
            {
                foreach (var record in batch.Records.Span)
                {
                    read.Enqueue((batch.PartitionId, Encoding.UTF8.GetString(record.Value.Data.Span), new StreamPosition(batch.PartitionId, record.Sequence, record.SubSequence)));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (!condition())
        {
            try
            {
                await Task.Delay(25, timeout.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail($"Waited 2 minutes for {what}.");
            }
        }
    }

    /// <summary>Keeps the event ids logged.</summary>
    private sealed class EventIdLog : ILoggerFactory
    {
        private readonly ConcurrentDictionary<int, int> _ids = new();

        public bool Has(int eventId) => _ids.ContainsKey(eventId);

        public ILogger CreateLogger(string categoryName) => new Logger(_ids);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentDictionary<int, int> ids) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                ids.AddOrUpdate(eventId.Id, 1, static (_, n) => n + 1);
        }
    }
}
