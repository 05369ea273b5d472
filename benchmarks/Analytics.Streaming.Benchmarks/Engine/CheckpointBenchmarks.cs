using BenchmarkDotNet.Attributes;

namespace Analytics.Streaming.Benchmarks.Engine;

/// <summary>
/// Window state snapshots: how long taking a checkpoint (on the processing thread), writing its binary form and
/// restoring an engine from it take, and how big it is, for 10,000 and 1,000,000 keys with one open one-minute window
/// each. Count+sum keeps 16 bytes per key; the distinct count keeps a HyperLogLog sketch (precision 10: 1 KiB).
/// The baseline is one second of events (1,000,000) through the same engine, to put a checkpoint in proportion.
/// </summary>
[BenchmarkCategory("Engine", "Checkpoint")]
public class CheckpointBenchmarks
{
    private SteadyStream _stream = null!;
    private IState _state = null!;

    /// <summary>Distinct keys with an open window.</summary>
    [Params(10_000, 1_000_000)]
    public int Keys { get; set; }

    /// <summary>The aggregate kept per key and window.</summary>
    [Params("CountSum", "DistinctCount")]
    public string Aggregate { get; set; } = "CountSum";

    [GlobalSetup]
    public void Setup()
    {
        _stream = new SteadyStream(Keys);
        _state = Aggregate == "CountSum"
            ? new State<(long, long)>(_stream, w => w.Aggregate(a => a.Count().And(a.Sum(e => (long)e.Value))).To(Sinks.Discard<WindowResult<int, (long, long)>>()).Build())
            : new State<long>(_stream, w => w.Aggregate(a => a.DistinctCount(e => (long)e.Value, precision: 10)).To(Sinks.Discard<WindowResult<int, long>>()).Build());
        Console.WriteLine($"// {Keys} keys, {Aggregate}: checkpoint of {_state.Bytes.Length:N0} bytes ({(double)_state.Bytes.Length / Keys:N1} per key)");
    }

    /// <summary>One second of events (one million) through the engine: the work a checkpoint interrupts.</summary>
    [Benchmark(Baseline = true)]
    public long ProcessOneMillionEvents() => _state.Process();

    /// <summary>Takes a checkpoint: positions, watermarks and every open window, serialized.</summary>
    [Benchmark]
    public int CreateCheckpoint() => _state.Checkpoint();

    /// <summary>Writes the checkpoint's binary form (what a store saves), with its checksum.</summary>
    [Benchmark]
    public int ToBytes() => _state.ToBytes();

    /// <summary>Parses the binary form and restores an engine from it (what a restart does).</summary>
    [Benchmark]
    public long Restore() => _state.Restore();

    private interface IState
    {
        byte[] Bytes { get; }

        long Process();

        int Checkpoint();

        int ToBytes();

        long Restore();
    }

    private sealed class State<TResult> : IState
    {
        private readonly SteadyStream _stream;
        private readonly StreamPipeline<BenchEvent, int, TResult> _pipeline;
        private readonly WindowProcessor<BenchEvent, int, TResult> _processor;
        private readonly CountingOutput<BenchEvent, int, TResult> _output = new();
        private readonly PipelineCheckpoint _checkpoint;

        public State(SteadyStream stream, Func<WindowedPipelineBuilder<BenchEvent, BenchEvent, int>, StreamPipeline<BenchEvent, int, TResult>> build)
        {
            _stream = stream;
            var time = stream;
            _pipeline = build(StreamPipeline.Create<BenchEvent>(new() { Name = "checkpoints", WindowState = WindowStateMode.Always })
                .WithEventTime(e => time.TimeOf(e), TimeSpan.FromMilliseconds(100))
                .KeyBy(e => e.Key)
                .Window(WindowSpec.Tumbling(TimeSpan.FromMinutes(1))));
            _processor = _pipeline.CreateProcessor();
            Process();
            _checkpoint = _processor.CreateCheckpoint();
            Bytes = _checkpoint.ToBytes();
        }

        public byte[] Bytes { get; }

        public long Process()
        {
            foreach (var batch in _stream.Batches)
            {
                _processor.Process(batch, _output);
            }

            return _output.Results;
        }

        public int Checkpoint() => _processor.CreateCheckpoint().WindowStateSize;

        public int ToBytes() => _checkpoint.ToBytes().Length;

        public long Restore() => _pipeline.CreateProcessor(PipelineCheckpoint.Parse(Bytes)).OpenWindowCount;
    }
}
