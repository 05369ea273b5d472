using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Analytics.Streaming.Benchmarks.Queries.Ysb;
using Analytics.Streaming.Parquet;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Queries.EndToEnd;

/// <summary>
/// One worker, one pipeline, two shards, as a Kinesis consumer of two shards runs it: the recorded GetRecords bodies of
/// <see cref="KinesisToParquetBenchmarks"/> read by one task per shard (parse, unpack), decoded, the YSB query
/// (keep views, join ad to campaign, 1-second count per campaign) run by <c>StreamPipeline.RunAsync</c>, its results
/// written by the Parquet writer (SNAPPY) into a discarding stream at every flush. 200,000 events per operation, a
/// fresh run each time (no checkpoint store).
/// <para>
/// The baseline decodes on the reading thread (<c>Decode(decoder)</c>); the other decodes up to
/// <see cref="Environment.ProcessorCount"/> batches at once (<c>Decode(decoder, Environment.ProcessorCount)</c>).
/// Measure wall time at one and at two cores (<c>taskset -c 0</c>) to see how a worker scales.
/// </para>
/// </summary>
[BenchmarkCategory("Queries", "EndToEnd")]
public class OnePipelinePerCoreBenchmarks
{
    private const int Shards = 2;
    private KinesisToParquetBenchmarks.RecordedShard[] _shards = [];
    private StreamPipeline<YsbJsonEvent, Guid, long> _pipeline = null!;
    private ParquetResults _results = null!;

    /// <summary>Records two shards' GetRecords bodies and builds the pipeline.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var data = YsbData.Generate(events: KinesisToParquetBenchmarks.EventsPerOperation);
        _shards = new KinesisToParquetBenchmarks.RecordedShard[Shards];
        for (int s = 0; s < Shards; s++)
        {
            var events = data.Pass.Events.Where((_, i) => i % Shards == s).ToArray();
            _shards[s] = new KinesisToParquetBenchmarks.RecordedShard("shardId-" + s.ToString("D12", CultureInfo.InvariantCulture), KinesisToParquetBenchmarks.RecordBodies(events));
        }

        _results = new ParquetResults();
        var table = data.Table;
        _pipeline = StreamPipeline.Create<YsbJsonEvent>(new StreamPipelineOptions { Name = "ysb-one-pipeline" })
            .WithEventTime(e => e.EventTime, TimeSpan.FromMilliseconds(YsbData.OutOfOrdernessMs))
            .Where(e => e.EventType == "view")
            .Enrich(table, e => e.AdId, (e, campaign) => new CampaignView(campaign, e.EventTime))
            .KeyBy(v => v.CampaignId)
            .Window(WindowSpec.Tumbling(TimeSpan.FromSeconds(1)))
            .Aggregate(a => a.Count())
            .To(_results)
            .Build();

        long sequential = Sequential();
        long parallel = Parallel();
        if (sequential != parallel || sequential == 0)
        {
            throw new InvalidOperationException($"Sequential and parallel decoding disagree: {sequential} against {parallel} results.");
        }

        Console.WriteLine($"// {sequential} results per run; {Environment.ProcessorCount} processor(s).");
    }

    /// <summary>Finishes the Parquet file.</summary>
    [GlobalCleanup]
    public void Cleanup() => _results.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Baseline: the pipeline with decoding on the reading thread.</summary>
    /// <returns>The results written by the run.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = KinesisToParquetBenchmarks.EventsPerOperation)]
    public long Sequential() => Run(new MergedShards(_shards).Decode(new JsonEventDecoder<YsbJsonEvent>(YsbJsonContext.Default.YsbJsonEvent)));

    /// <summary>The pipeline with batches decoded on every core.</summary>
    /// <returns>The results written by the run.</returns>
    [Benchmark(OperationsPerInvoke = KinesisToParquetBenchmarks.EventsPerOperation)]
    public long Parallel() => Run(new MergedShards(_shards).Decode(new JsonEventDecoder<YsbJsonEvent>(YsbJsonContext.Default.YsbJsonEvent), Environment.ProcessorCount));

    private long Run(IEventSource<YsbJsonEvent> source)
    {
        long before = _results.Rows;
        _pipeline.RunAsync(source).GetAwaiter().GetResult();
        return _results.Rows - before;
    }

    /// <summary>The shards read at once, one task each, into one stream of batches (what a Kinesis consumer of several shards does).</summary>
    private sealed class MergedShards(KinesisToParquetBenchmarks.RecordedShard[] shards) : IEventSource<RawRecord>
    {
        public bool CanResume => false;

        public async IAsyncEnumerable<RecordBatch<RawRecord>> ReadBatchesAsync(SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // As a Kinesis consumer does: the watermark waits for every shard, not only for the first to deliver.
            context.AnnouncePartitions(shards.Select(s => s.Shard));
            var merged = Channel.CreateBounded<RecordBatch<RawRecord>>(4 * shards.Length);
            var readers = shards.Select(shard => Task.Run(
                async () =>
                {
                    await foreach (var batch in shard.ReadBatchesAsync(context, cancellationToken).ConfigureAwait(false))
                    {
                        await merged.Writer.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                    }
                },
                cancellationToken)).ToArray();
            _ = Task.WhenAll(readers).ContinueWith(t => merged.Writer.TryComplete(t.Exception), TaskScheduler.Default);
            await foreach (var batch in merged.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return batch;
            }
        }
    }

    /// <summary>Window results as Parquet rows: written at each pipeline write, a row group at each flush.</summary>
    private sealed class ParquetResults : ISink<WindowResult<Guid, long>>
    {
        private readonly ParquetWriter<CampaignViews> _writer = new(Stream.Null, KinesisToParquetBenchmarks.Map, new ParquetWriterOptions { Compression = ParquetCompression.Snappy });
        private readonly List<CampaignViews> _rows = [];

        public long Rows { get; private set; }

        public ValueTask WriteAsync(ReadOnlyMemory<WindowResult<Guid, long>> items, CancellationToken cancellationToken = default)
        {
            _rows.Clear();
            foreach (var result in items.Span)
            {
                _rows.Add(new CampaignViews(result.Key.ToString(), result.Window.Start, result.Window.End, result.Value, result.Partition ?? string.Empty));
            }

            _writer.Write(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows));
            Rows += _rows.Count;
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            if (_writer.BufferedRows > 0)
            {
                _writer.FlushRowGroup();
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _writer.Complete();
            _writer.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
