using Analytics.Streaming.TestSupport;

namespace Analytics.Streaming.DynamoDB.IntegrationTests;

/// <summary>A pipeline without windows (<c>PerEvent()</c>) writing to DynamoDB across a crash: each kept event is one item.</summary>
public sealed class PerEventSinkTests(DynaliteServer dynalite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PerEvent_CrashAfterAFlushBeforeItsCheckpoint_RestartLeavesOneItemPerKeptEvent()
    {
        using var client = DynamoDbTestKit.Client(dynalite);
        var map = DynamoDbItemMap.ForWindowResults<StreamPosition, long>().Number("amount", r => r.Value).Build();
        string table = await DynamoDbSinkTests.CreateTableAsync(client, map);
        var store = new InMemoryCheckpointStore();
        var batches = Batches();

        // The first run stores every result of its third flush in DynamoDB, then fails before that checkpoint is saved.
        await using (var sink = new DynamoDbSink<WindowResult<StreamPosition, long>>(client, new() { TableName = table, Map = map }))
        {
            await Assert.ThrowsAsync<IOException>(() => Pipeline(new CrashAfterFlush(sink, crashOnFlush: 3), store).RunAsync(new SlowSource(batches), Ct));
        }

        // The restart processes again what came after the last saved checkpoint, with the same identities.
        await using (var sink = new DynamoDbSink<WindowResult<StreamPosition, long>>(client, new() { TableName = table, Map = map }))
        {
            var restarted = Pipeline(sink, store);
            await restarted.RunAsync(new InMemorySource<(int Key, long Amount, DateTimeOffset Time)>(batches), Ct);
            Assert.NotNull(restarted.Statistics.RestoredFrom);
        }

        var kept = batches.SelectMany(b => b.Records.ToArray().Where(r => r.Value.Amount % 4 != 0).Select(r => (Position: new StreamPosition(b.PartitionId, r.Sequence), r.Value.Amount))).ToArray();
        var items = await DynamoDbTestKit.ScanAsync(client, table, Ct);
        Assert.Equal(kept.Length, items.Count);
        Assert.Equal(
            kept.Select(k => $"per-event#{k.Position} {k.Amount}").Order(StringComparer.Ordinal),
            items.Select(i => $"{i["pk"].S} {i["amount"].N}").Order(StringComparer.Ordinal));
    }

    private static StreamPipeline<(int Key, long Amount, DateTimeOffset Time), StreamPosition, long> Pipeline(ISink<WindowResult<StreamPosition, long>> sink, ICheckpointStore store)
        => StreamPipeline.Create<(int Key, long Amount, DateTimeOffset Time)>(new() { Name = "per-event", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(20) })
            .WithEventTime(e => e.Time)
            .Where(e => e.Amount % 4 != 0)
            .Select(e => e.Amount)
            .PerEvent()
            .To(sink)
            .Build();

    private static RecordBatch<(int Key, long Amount, DateTimeOffset Time)>[] Batches()
    {
        var t0 = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
        var batches = new List<RecordBatch<(int Key, long Amount, DateTimeOffset Time)>>();
        for (int b = 0; b < 30; b++)
        {
            for (int p = 0; p < 2; p++)
            {
                var records = Enumerable.Range(0, 10)
                    .Select(i => new StreamRecord<(int Key, long Amount, DateTimeOffset Time)>((p, (b * 100) + (i * 7) + p, t0.AddSeconds((b * 10) + i)), SequenceNumber.FromInt64((b * 10) + i + 1)))
                    .ToArray();
                batches.Add(new RecordBatch<(int Key, long Amount, DateTimeOffset Time)>($"shard-{p}", records));
            }
        }

        return [.. batches];
    }

    /// <summary>Passes everything to the real sink; the given flush completes in DynamoDB, then fails (a crash before the checkpoint is saved).</summary>
    private sealed class CrashAfterFlush(ISink<WindowResult<StreamPosition, long>> inner, int crashOnFlush) : ISink<WindowResult<StreamPosition, long>>
    {
        private int _flushes;

        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<StreamPosition, long>> items, CancellationToken cancellationToken) => inner.WriteAsync(items, cancellationToken);

        public async ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            await inner.FlushAsync(cancellationToken);
            if (++_flushes == crashOnFlush)
            {
                throw new IOException("the worker died after the flush, before its checkpoint");
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Delivers its batches a little at a time, so several checkpoints happen during the run.</summary>
    private sealed class SlowSource(IReadOnlyList<RecordBatch<(int Key, long Amount, DateTimeOffset Time)>> batches) : IEventSource<(int Key, long Amount, DateTimeOffset Time)>
    {
        public bool CanResume => true;

        public async IAsyncEnumerable<RecordBatch<(int Key, long Amount, DateTimeOffset Time)>> ReadBatchesAsync(SourceContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var batch in new InMemorySource<(int Key, long Amount, DateTimeOffset Time)>(batches).ReadBatchesAsync(context, cancellationToken))
            {
                yield return batch;
                await Task.Delay(5, cancellationToken);
            }
        }
    }
}
