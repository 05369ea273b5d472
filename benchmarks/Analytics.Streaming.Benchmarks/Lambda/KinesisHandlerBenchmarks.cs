using Analytics.Streaming.Lambda;
using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Lambda;

/// <summary>
/// One Lambda invocation of 10,000 Kinesis records (page views: count and distinct users per page and minute) through
/// <see cref="KinesisEventHandler{TEvent, TKey, TResult}"/>: parse the event JSON, base64, KPL check, JSON decode,
/// restore the shard's checkpoint (the state an earlier invocation of 10,000 records left), aggregate, save the
/// checkpoint, write the response. Baseline: the bare engine on the same page views, already decoded. Figures are per
/// record (OperationsPerInvoke = 10,000).
/// </summary>
public class KinesisHandlerBenchmarks
{
    private const int Records = 10_000;
    private byte[] _event = [];
    private PageView[] _views = [];
    private byte[][] _payloads = [];
    private RecordBatch<PageView> _batch = null!;
    private StreamPipeline<PageView, string, (long Views, long Users)> _bare = null!;
    private KinesisEventHandler<PageView, string, (long Views, long Users)> _handler = null!;
    private PipelineCheckpoint _previous = null!;
    private readonly JsonEventDecoder<PageView> _decoder = new(LambdaBenchJsonContext.Default.PageView);

    /// <summary>Builds the event, the earlier invocation's checkpoint and the handler.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var store = new InMemoryCheckpointStore();
        var warmup = KinesisEventHandler.Create(LambdaBench.Pipeline(store), _decoder);
        warmup.HandleAsync(new MemoryStream(LambdaBench.EventJson(LambdaBench.Views(0, Records), 0)), CancellationToken.None).GetAwaiter().GetResult();
        _previous = store.LoadAsync("page-views/" + LambdaBench.Shard, CancellationToken.None).AsTask().GetAwaiter().GetResult()!;

        _views = LambdaBench.Views(Records, Records);
        _event = LambdaBench.EventJson(_views, Records);
        _payloads = [.. _views.Select(v => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(v, LambdaBenchJsonContext.Default.PageView))];
        var records = new StreamRecord<PageView>[Records];
        for (int i = 0; i < Records; i++)
        {
            records[i] = new StreamRecord<PageView>(_views[i], SequenceNumber.Parse(LambdaBench.Sequence(Records + i)));
        }

        _batch = new RecordBatch<PageView>(LambdaBench.Shard, records);
        _bare = LambdaBench.Pipeline(new InMemoryCheckpointStore());
        _handler = KinesisEventHandler.Create(LambdaBench.Pipeline(new LambdaBench.FixedCheckpointStore(_previous)), _decoder);
    }

    /// <summary>Baseline: the engine alone on decoded page views, from the same restored state.</summary>
    /// <returns>The results emitted.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public int BareEngine()
    {
        var engine = _bare.CreateProcessor(_previous, null, LambdaBench.Shard);
        var output = new CountingOutput();
        engine.Process(_batch, output);
        return output.Results;
    }

    /// <summary>The engine plus JSON decoding of each payload (no Lambda event, no checkpoint I/O).</summary>
    /// <returns>The results emitted.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public int EngineWithDecoding()
    {
        var engine = _bare.CreateProcessor(_previous, null, LambdaBench.Shard);
        var records = new StreamRecord<PageView>[Records];
        var source = _batch.Records.Span;
        for (int i = 0; i < Records; i++)
        {
            var raw = new RawRecord(_payloads[i], _views[i].User);
            _decoder.TryDecode(raw, out var view, out _);
            records[i] = new StreamRecord<PageView>(view!, source[i].Sequence);
        }

        var output = new CountingOutput();
        engine.Process(new RecordBatch<PageView>(LambdaBench.Shard, records), output);
        return output.Results;
    }

    /// <summary>The whole invocation through the handler: event JSON in, partial batch response JSON out.</summary>
    /// <returns>The response length.</returns>
    [Benchmark(OperationsPerInvoke = Records)]
    public long Handler()
    {
        using var response = _handler.HandleAsync(new MemoryStream(_event, writable: false), CancellationToken.None).GetAwaiter().GetResult();
        return response.Length;
    }

    private sealed class CountingOutput : IWindowOutput<PageView, string, (long Views, long Users)>
    {
        public int Results { get; private set; }

        public void OnResult(in WindowResult<string, (long Views, long Users)> result) => Results++;

        public void OnLateRecord(in LateRecord<PageView> record)
        {
        }

        public void OnDeadLetter(DeadLetter deadLetter)
        {
        }
    }
}
