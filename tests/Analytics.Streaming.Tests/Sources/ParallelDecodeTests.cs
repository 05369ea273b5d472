using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Analytics.Streaming.Testing;
using Analytics.Streaming.Tests.Pipeline;

namespace Analytics.Streaming.Tests.Sources;

/// <summary><c>Decode(decoder, maxDegreeOfParallelism)</c>: batches decoded at once on the thread pool, delivered in read order.</summary>
public sealed class ParallelDecodeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Decode_InParallel_DecodesSeveralBatchesAtOnceAndDeliversThemInReadOrder()
    {
        // Batch 0 cannot finish until a record of batch 3 is decoded: decoding one batch at a time would stall here.
        using var batch3Decoded = new ManualResetEventSlim();
        var decoder = new TestDecoder(value =>
        {
            if (value / 100 == 3)
            {
                batch3Decoded.Set();
            }

            return value == 0 && !batch3Decoded.Wait(TimeSpan.FromSeconds(30), Token) ? "batch 3 was not decoded while batch 0 was" : null;
        });
        var raw = Batches(count: 12, recordsPerBatch: 5, malformedEvery: 7);

        var batches = await new InMemorySource<RawRecord>(raw).Decode(decoder, maxDegreeOfParallelism: 4).ReadBatchesAsync(new SourceContext(), Token).ToListAsync(Token);

        var expected = await new InMemorySource<RawRecord>(raw).Decode(new TestDecoder(_ => null)).ReadBatchesAsync(new SourceContext(), Token).ToListAsync(Token);
        Assert.Equal(expected.Count, batches.Count);
        for (int i = 0; i < batches.Count; i++)
        {
            Assert.Equal(expected[i].PartitionId, batches[i].PartitionId);
            Assert.Equal(expected[i].Records.ToArray(), batches[i].Records.ToArray());
            Assert.Equal(expected[i].DeadLetters.Select(d => (d.Position, d.Reason, d.Message)), batches[i].DeadLetters.Select(d => (d.Position, d.Reason, d.Message)));
            Assert.Equal(expected[i].EndPosition, batches[i].EndPosition);
            Assert.Equal(expected[i].IsEndOfPartition, batches[i].IsEndOfPartition);
        }

        Assert.Equal(raw.Sum(b => b.Records.Length), batches.Sum(b => b.Records.Length + b.DeadLetters.Count));
        Assert.Contains(batches.SelectMany(b => b.DeadLetters), d => d.Reason == DeadLetterReason.DecodeFailed);
    }

    [Fact]
    public async Task Decode_InParallel_NeverDecodesMoreBatchesAtOnceThanAllowed()
    {
        int active = 0;
        int most = 0;
        var decoder = new TestDecoder(_ =>
        {
            int now = Interlocked.Increment(ref active);
            int seen;
            while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen)
            {
            }

            Thread.Sleep(1);
            Interlocked.Decrement(ref active);
            return null;
        });

        var batches = await new InMemorySource<RawRecord>(Batches(count: 40, recordsPerBatch: 3)).Decode(decoder, maxDegreeOfParallelism: 2).ReadBatchesAsync(new SourceContext(), Token).ToListAsync(Token);

        Assert.Equal(40, batches.Count);
        Assert.InRange(most, 1, 2);
    }

    [Fact]
    public async Task Decode_InParallel_ASourceFailureComesAfterTheBatchesReadBeforeIt()
    {
        var source = new FailingSource(Batches(count: 3, recordsPerBatch: 2), new InvalidOperationException("the stream was deleted"));
        var delivered = new List<RecordBatch<int>>();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var batch in source.Decode(new TestDecoder(_ => null), maxDegreeOfParallelism: 3).ReadBatchesAsync(new SourceContext(), Token))
            {
                delivered.Add(batch);
            }
        });

        Assert.Equal("the stream was deleted", error.Message);
        Assert.Equal(3, delivered.Count);
    }

    [Fact]
    public async Task Decode_InParallel_AConsumerThatStopsEarlyStopsTheReading()
    {
        var source = new EndlessSource();

        await foreach (var batch in source.Decode(new TestDecoder(_ => null), maxDegreeOfParallelism: 2).ReadBatchesAsync(new SourceContext(), Token))
        {
            if (batch.EndPosition!.Value.Sequence == SequenceNumber.FromInt64(10))
            {
                break;
            }
        }

        Assert.True(source.Stopped.Wait(TimeSpan.FromSeconds(30), Token), "The source was not stopped.");
    }

    [Fact]
    public void Decode_ParallelismBelowOne_IsRejected()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new InMemorySource<RawRecord>([]).Decode(new TestDecoder(_ => null), maxDegreeOfParallelism: 0));

    [Fact]
    public async Task Pipeline_OverParallelDecoding_GivesTheResultsOfSequentialDecoding()
    {
        var raw = Batches(count: 60, recordsPerBatch: 50, malformedEvery: 13);

        async Task<(string[] Results, int DeadLetters)> Run(int parallelism)
        {
            var results = new CollectingSink<WindowResult<int, long>>();
            var deadLetters = new CollectingSink<DeadLetter>();
            var pipeline = StreamPipeline.Create<int>(new StreamPipelineOptions { Name = "decode-" + parallelism })
                .WithEventTime(v => TestEvent.At(v / 10))
                .KeyBy(v => v % 7)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(30)))
                .Aggregate(a => a.Count())
                .To(results)
                .DeadLettersTo(deadLetters)
                .Build();
            await pipeline.RunAsync(new InMemorySource<RawRecord>(raw).Decode(new TestDecoder(_ => null), parallelism), Token);
            return ([.. results.Items.Select(r => $"{r.Key} {r.Window.Start:O} {r.Value}").Order(StringComparer.Ordinal)], deadLetters.Items.Count);
        }

        var sequential = await Run(1);
        var parallel = await Run(4);

        Assert.NotEmpty(sequential.Results);
        Assert.True(sequential.DeadLetters > 0);
        Assert.Equal(sequential.Results, parallel.Results);
        Assert.Equal(sequential.DeadLetters, parallel.DeadLetters);
    }

    [Fact]
    public async Task Pipeline_OverParallelDecoding_StoppedMidStreamAndResumed_EndsWithTheTableOfOneRun()
    {
        var raw = Batches(count: 80, recordsPerBatch: 25, malformedEvery: 17);
        var oneRun = new Dictionary<string, long>();
        await Counting(oneRun, store: null).RunAsync(new InMemorySource<RawRecord>(raw).Decode(new TestDecoder(_ => null), 4), Token);

        // The first run is stopped while batches are still being decoded; the second resumes from its checkpoint.
        var store = new InMemoryCheckpointStore();
        var table = new Dictionary<string, long>();
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(Token))
        {
            await Counting(table, store).RunAsync(new StoppingSource<RawRecord>(raw, stopAfter: 37, stop).Decode(new TestDecoder(_ => null), 4), stop.Token);
        }

        var resumed = Counting(table, store);
        await resumed.RunAsync(new InMemorySource<RawRecord>(raw).Decode(new TestDecoder(_ => null), 4), Token);

        Assert.NotNull(resumed.Statistics.RestoredFrom);
        Assert.NotEmpty(oneRun);
        Assert.Equal(oneRun.OrderBy(p => p.Key, StringComparer.Ordinal), table.OrderBy(p => p.Key, StringComparer.Ordinal));

        static StreamPipeline<int, int, long> Counting(Dictionary<string, long> table, ICheckpointStore? store)
            => StreamPipeline.Create<int>(new StreamPipelineOptions { Name = "decode-resume", CheckpointStore = store, CheckpointInterval = TimeSpan.FromMilliseconds(10) })
                .WithEventTime(v => TestEvent.At(1 + (v / 10)))
                .KeyBy(v => v % 7)
                .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(30)))
                .Aggregate(a => a.Count())
                .To(Sinks.Callback<WindowResult<int, long>>((results, _) =>
                {
                    foreach (var r in results.Span)
                    {
                        table[r.Id] = r.Value;
                    }

                    return ValueTask.CompletedTask;
                }))
                .Build();
    }

    /// <summary>
    /// Batches over two partitions; record values are batch * 100 + index (4-byte big-endian); every
    /// <paramref name="malformedEvery"/>-th record is 3 bytes long and fails to decode.
    /// </summary>
    private static RecordBatch<RawRecord>[] Batches(int count, int recordsPerBatch, int malformedEvery = 0)
    {
        var batches = new RecordBatch<RawRecord>[count];
        int n = 0;
        for (int b = 0; b < count; b++)
        {
            var records = new StreamRecord<RawRecord>[recordsPerBatch];
            for (int i = 0; i < recordsPerBatch; i++)
            {
                n++;
                byte[] data = new byte[malformedEvery > 0 && n % malformedEvery == 0 ? 3 : 4];
                if (data.Length == 4)
                {
                    BinaryPrimitives.WriteInt32BigEndian(data, (b * 100) + i);
                }

                records[i] = new StreamRecord<RawRecord>(new RawRecord(data, "k"), SequenceNumber.FromInt64((b / 2 * recordsPerBatch) + i + 1));
            }

            batches[b] = new RecordBatch<RawRecord>("p" + (b % 2), records);
        }

        return batches;
    }

    /// <summary>Decodes a 4-byte big-endian int; <c>check</c> may fail a value with a message.</summary>
    private sealed class TestDecoder(Func<int, string?> check) : IEventDecoder<int>
    {
        public bool TryDecode(in RawRecord record, out int value, out DecodeError error)
        {
            if (record.Data.Length != 4)
            {
                value = 0;
                error = new DecodeError(DeadLetterReason.DecodeFailed, "not 4 bytes");
                return false;
            }

            value = BinaryPrimitives.ReadInt32BigEndian(record.Data.Span);
            string? problem = check(value);
            error = problem is null ? default : new DecodeError(DeadLetterReason.InvalidValue, problem);
            return problem is null;
        }
    }

    private sealed class FailingSource(RecordBatch<RawRecord>[] batches, Exception failure) : IEventSource<RawRecord>
    {
        public bool CanResume => false;

        public async IAsyncEnumerable<RecordBatch<RawRecord>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var batch in batches)
            {
                await Task.Yield();
                yield return batch;
            }

            throw failure;
        }
    }

    /// <summary>One record per batch, forever, until cancelled.</summary>
    private sealed class EndlessSource : IEventSource<RawRecord>
    {
        public ManualResetEventSlim Stopped { get; } = new();

        public bool CanResume => false;

        public async IAsyncEnumerable<RecordBatch<RawRecord>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            try
            {
                for (long sequence = 1; ; sequence++)
                {
                    await Task.Yield();
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return new RecordBatch<RawRecord>("p", new[] { new StreamRecord<RawRecord>(new RawRecord(new byte[4], "k"), SequenceNumber.FromInt64(sequence)) });
                }
            }
            finally
            {
                Stopped.Set();
            }
        }
    }
}
